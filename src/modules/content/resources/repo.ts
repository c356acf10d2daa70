import { sql } from 'kysely';
import type { Queryable } from '../../../db/pool.ts';
import type { ContentResource, ContentVersion, ResourceKind } from './types.ts';

interface ResourceRowIn {
  id: string; kind: ResourceKind; name: string; draft_version: number; published_version: number | null;
  created_at: Date; updated_at: Date;
}
interface VersionRowIn { version: number; body: Record<string, unknown>; created_at: Date; published_at: Date | null }

export function createContentRepo(db: Queryable) {
  return {
    /** Inserts the resource at version 1; undefined when the name is taken for this kind. */
    async insertResource(r: { workspaceId: string; id: string; kind: ResourceKind; name: string; at: Date }): Promise<ContentResource | undefined> {
      const row = await db.insertInto('content_resources').values({
        workspace_id: r.workspaceId, id: r.id, kind: r.kind, name: r.name, draft_version: 1,
        published_version: null, created_at: r.at, updated_at: r.at,
      }).onConflict((oc) => oc.columns(['workspace_id', 'kind', 'name']).doNothing())
        .returningAll().executeTakeFirst();
      return row && toResource(row);
    },

    async insertVersion(v: { workspaceId: string; resourceId: string; version: number; body: Record<string, unknown>; at: Date }): Promise<ContentVersion> {
      const row = await db.insertInto('content_versions').values({
        workspace_id: v.workspaceId, resource_id: v.resourceId, version: v.version,
        body: JSON.stringify(v.body), created_at: v.at, published_at: null,
      }).returningAll().executeTakeFirstOrThrow();
      return toVersion(row);
    },

    async find(workspaceId: string, kind: ResourceKind, id: string, opts: { forUpdate?: boolean } = {}): Promise<ContentResource | undefined> {
      let q = db.selectFrom('content_resources').selectAll()
        .where('workspace_id', '=', workspaceId).where('kind', '=', kind).where('id', '=', id);
      if (opts.forUpdate) q = q.forUpdate();
      const row = await q.executeTakeFirst();
      return row && toResource(row);
    },

    async findByName(workspaceId: string, kind: ResourceKind, name: string): Promise<ContentResource | undefined> {
      const row = await db.selectFrom('content_resources').selectAll()
        .where('workspace_id', '=', workspaceId).where('kind', '=', kind).where('name', '=', name).executeTakeFirst();
      return row && toResource(row);
    },

    /** One page by name, after `after` (exclusive). */
    async list(workspaceId: string, kind: ResourceKind, opts: { limit: number; after?: string | undefined }): Promise<ContentResource[]> {
      let q = db.selectFrom('content_resources').selectAll()
        .where('workspace_id', '=', workspaceId).where('kind', '=', kind);
      if (opts.after !== undefined) q = q.where('name', '>', opts.after);
      const rows = await q.orderBy('name').limit(opts.limit).execute();
      return rows.map(toResource);
    },

    async update(workspaceId: string, id: string, set: { name?: string; draftVersion?: number; publishedVersion?: number; at: Date }): Promise<ContentResource> {
      const row = await db.updateTable('content_resources').set({
        ...(set.name !== undefined ? { name: set.name } : {}),
        ...(set.draftVersion !== undefined ? { draft_version: set.draftVersion } : {}),
        ...(set.publishedVersion !== undefined ? { published_version: set.publishedVersion } : {}),
        updated_at: set.at,
      }).where('workspace_id', '=', workspaceId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
      return toResource(row);
    },

    async version(workspaceId: string, resourceId: string, version: number): Promise<ContentVersion | undefined> {
      const row = await db.selectFrom('content_versions').selectAll()
        .where('workspace_id', '=', workspaceId).where('resource_id', '=', resourceId).where('version', '=', version)
        .executeTakeFirst();
      return row && toVersion(row);
    },

    /** Newest first. */
    async versions(workspaceId: string, resourceId: string): Promise<ContentVersion[]> {
      const rows = await db.selectFrom('content_versions').selectAll()
        .where('workspace_id', '=', workspaceId).where('resource_id', '=', resourceId)
        .orderBy('version', 'desc').execute();
      return rows.map(toVersion);
    },

    async markPublished(workspaceId: string, resourceId: string, version: number, at: Date): Promise<void> {
      await db.updateTable('content_versions').set({ published_at: at })
        .where('workspace_id', '=', workspaceId).where('resource_id', '=', resourceId).where('version', '=', version)
        .execute();
    },

    /** Resources whose latest draft or published body contains `needle` (a plain substring). */
    async findReferences(workspaceId: string, needle: string): Promise<Array<{ kind: ResourceKind; id: string; name: string }>> {
      return db.selectFrom('content_resources as r')
        .innerJoin('content_versions as v', (j) => j.onRef('v.workspace_id', '=', 'r.workspace_id').onRef('v.resource_id', '=', 'r.id'))
        .select(['r.kind', 'r.id', 'r.name'])
        .where('r.workspace_id', '=', workspaceId)
        .where((eb) => eb.or([eb('v.version', '=', eb.ref('r.draft_version')), eb('v.version', '=', eb.ref('r.published_version'))]))
        .where(sql<boolean>`strpos(v.body::text, ${needle}) > 0`)
        .groupBy(['r.kind', 'r.id', 'r.name']).orderBy('r.kind').orderBy('r.name').execute();
    },

    /**
     * Templates whose latest draft or published version names this layout or component (email
     * blocks and translations included), or whose text renders/includes this snippet.
     */
    async templatesUsing(workspaceId: string, kind: 'layout' | 'component' | 'snippet', name: string): Promise<ContentResource[]> {
      const uses = kind === 'layout'
        ? sql<boolean>`jsonb_path_exists(v.body, '$.** ? (@.layout == $n)', jsonb_build_object('n', ${name}::text))`
        : kind === 'component'
          ? sql<boolean>`jsonb_path_exists(v.body, '$.** ? (@.component == $n)', jsonb_build_object('n', ${name}::text))`
          : sql<boolean>`v.body::text ~ ${`(render|include)\\s+\\\\?["']${name.replace(/[.]/g, '\\.')}\\\\?["']`}`;
      const rows = await db.selectFrom('content_resources as r')
        .innerJoin('content_versions as v', (j) => j.onRef('v.workspace_id', '=', 'r.workspace_id').onRef('v.resource_id', '=', 'r.id'))
        .selectAll('r')
        .where('r.workspace_id', '=', workspaceId).where('r.kind', '=', 'template')
        .where((eb) => eb.or([eb('v.version', '=', eb.ref('r.draft_version')), eb('v.version', '=', eb.ref('r.published_version'))]))
        .where(uses)
        .distinct().orderBy('r.name').execute();
      return rows.map(toResource);
    },

    /** Every layout, component and snippet of the workspace (pointers only, no bodies). */
    async dependencyPointers(workspaceId: string): Promise<ContentResource[]> {
      const rows = await db.selectFrom('content_resources').selectAll()
        .where('workspace_id', '=', workspaceId).where('kind', 'in', ['layout', 'component', 'snippet'])
        .orderBy('kind').orderBy('name').execute();
      return rows.map(toResource);
    },

    /** Bodies of the given (resource, version) pairs. */
    async bodies(workspaceId: string, wanted: ReadonlyArray<{ id: string; version: number }>): Promise<Map<string, Record<string, unknown>>> {
      const out = new Map<string, Record<string, unknown>>();
      if (wanted.length === 0) return out;
      const rows = await db.selectFrom('content_versions').select(['resource_id', 'version', 'body'])
        .where('workspace_id', '=', workspaceId)
        .where((eb) => eb.or(wanted.map((w) => eb.and([eb('resource_id', '=', w.id), eb('version', '=', w.version)]))))
        .execute();
      for (const r of rows) out.set(`${r.resource_id}@${r.version}`, r.body);
      return out;
    },

    async delete(workspaceId: string, kind: ResourceKind, id: string): Promise<boolean> {
      const res = await db.deleteFrom('content_resources')
        .where('workspace_id', '=', workspaceId).where('kind', '=', kind).where('id', '=', id).executeTakeFirst();
      return res.numDeletedRows > 0n;
    },
  };
}

function toResource(row: ResourceRowIn): ContentResource {
  return {
    id: row.id, kind: row.kind, name: row.name, draftVersion: row.draft_version, publishedVersion: row.published_version,
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

function toVersion(row: VersionRowIn): ContentVersion {
  return { version: row.version, body: row.body, createdAt: row.created_at, publishedAt: row.published_at };
}

export type ContentRepo = ReturnType<typeof createContentRepo>;
