// SQL for assets: library rows per workspace (assets) and the shared file records (asset_blobs).
import { sql } from 'kysely';
import type { Queryable } from '../../db/pool.ts';
import type { Asset, AssetBlob, AssetContentType } from './types.ts';

interface AssetRow {
  id: string; hash: string; name: string; alt: string; folder: string | null; tags: string[];
  source_url: string | null; created_at: Date; updated_at: Date;
  content_type: string; bytes: number; width: number | null; height: number | null;
}

const columns = [
  'a.id', 'a.hash', 'a.name', 'a.alt', 'a.folder', 'a.tags', 'a.source_url', 'a.created_at', 'a.updated_at',
  'b.content_type', 'b.bytes', 'b.width', 'b.height',
] as const;

export interface ListFilter {
  folder?: string | null | undefined;
  tag?: string | undefined;
  q?: string | undefined;
  after?: { createdAt: Date; id: string } | undefined;
  limit: number;
}

function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function createAssetRepo(db: Queryable) {
  const withBlob = () => db.selectFrom('assets as a').innerJoin('asset_blobs as b', 'b.hash', 'a.hash').select(columns);

  return {
    /** Creates the file record, or locks the existing one (so a concurrent delete waits, or is waited for). */
    async claimBlob(b: AssetBlob, at: Date): Promise<void> {
      await db.insertInto('asset_blobs').values({
        hash: b.hash, content_type: b.contentType, bytes: b.bytes, width: b.width, height: b.height, created_at: at,
      }).onConflict((oc) => oc.column('hash').doUpdateSet({ hash: (eb) => eb.ref('excluded.hash') })).execute();
    },

    async blob(hash: string): Promise<AssetBlob | undefined> {
      const row = await db.selectFrom('asset_blobs').selectAll().where('hash', '=', hash).executeTakeFirst();
      return row && { hash: row.hash, contentType: row.content_type as AssetContentType, bytes: row.bytes, width: row.width, height: row.height };
    },

    /** Locks the file record; true when no asset in any workspace points at it any more. */
    async blobUnused(hash: string): Promise<boolean> {
      const locked = await db.selectFrom('asset_blobs').select('hash').where('hash', '=', hash).forUpdate().executeTakeFirst();
      if (!locked) return false;
      const user = await db.selectFrom('assets').select('id').where('hash', '=', hash).limit(1).executeTakeFirst();
      return user === undefined;
    },

    async deleteBlob(hash: string): Promise<void> {
      await db.deleteFrom('asset_blobs').where('hash', '=', hash).execute();
    },

    /** Inserts the asset; undefined when the workspace already has an asset with these bytes. */
    async insert(workspaceId: string, a: {
      id: string; hash: string; name: string; alt: string; folder: string | null; tags: string[]; sourceUrl: string | null; at: Date;
    }): Promise<boolean> {
      const res = await db.insertInto('assets').values({
        workspace_id: workspaceId, id: a.id, hash: a.hash, name: a.name, alt: a.alt, folder: a.folder, tags: a.tags,
        source_url: a.sourceUrl, created_at: a.at, updated_at: a.at,
      }).onConflict((oc) => oc.columns(['workspace_id', 'hash']).doNothing()).returning('id').executeTakeFirst();
      return res !== undefined;
    },

    async find(workspaceId: string, id: string): Promise<Asset | undefined> {
      const row = await withBlob().where('a.workspace_id', '=', workspaceId).where('a.id', '=', id).executeTakeFirst();
      return row && toAsset(row);
    },

    async findByHash(workspaceId: string, hash: string): Promise<Asset | undefined> {
      const row = await withBlob().where('a.workspace_id', '=', workspaceId).where('a.hash', '=', hash).executeTakeFirst();
      return row && toAsset(row);
    },

    /** Newest first; `after` is the last asset of the previous page. */
    async list(workspaceId: string, f: ListFilter): Promise<Asset[]> {
      let q = withBlob().where('a.workspace_id', '=', workspaceId);
      if (f.folder === null) q = q.where('a.folder', 'is', null);
      else if (f.folder !== undefined) q = q.where('a.folder', '=', f.folder);
      if (f.tag !== undefined) q = q.where(sql<boolean>`${f.tag} = ANY(a.tags)`);
      if (f.q !== undefined) q = q.where('a.name', 'ilike', likePattern(f.q));
      if (f.after) {
        const { createdAt, id } = f.after;
        q = q.where((eb) => eb.or([
          eb('a.created_at', '<', createdAt),
          eb.and([eb('a.created_at', '=', createdAt), eb('a.id', '<', id)]),
        ]));
      }
      const rows = await q.orderBy('a.created_at', 'desc').orderBy('a.id', 'desc').limit(f.limit).execute();
      return rows.map(toAsset);
    },

    async update(workspaceId: string, id: string, set: {
      name?: string | undefined; alt?: string | undefined; folder?: string | null | undefined; tags?: string[] | undefined; at: Date;
    }): Promise<boolean> {
      const res = await db.updateTable('assets').set({
        ...(set.name !== undefined ? { name: set.name } : {}),
        ...(set.alt !== undefined ? { alt: set.alt } : {}),
        ...(set.folder !== undefined ? { folder: set.folder } : {}),
        ...(set.tags !== undefined ? { tags: set.tags } : {}),
        updated_at: set.at,
      }).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
      return res.numUpdatedRows > 0n;
    },

    /** The deleted asset's hash, or undefined when there was no such asset. */
    async delete(workspaceId: string, id: string): Promise<string | undefined> {
      const row = await db.deleteFrom('assets').where('workspace_id', '=', workspaceId).where('id', '=', id)
        .returning('hash').executeTakeFirst();
      return row?.hash;
    },

    async folders(workspaceId: string): Promise<Array<{ folder: string | null; count: number }>> {
      const rows = await db.selectFrom('assets').select(['folder', sql<number>`count(*)::int`.as('count')])
        .where('workspace_id', '=', workspaceId).groupBy('folder').orderBy('folder').execute();
      return rows;
    },
  };
}

function toAsset(r: AssetRow): Asset {
  return {
    id: r.id, name: r.name, hash: r.hash, contentType: r.content_type as AssetContentType, bytes: r.bytes,
    width: r.width, height: r.height, alt: r.alt, folder: r.folder, tags: r.tags, sourceUrl: r.source_url,
    createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

export type AssetRepo = ReturnType<typeof createAssetRepo>;
