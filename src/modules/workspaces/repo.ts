import type { Queryable } from '../../db/pool.ts';
import type { KeyKind } from './keys.ts';

/** What templates read as `workspace.*` (snake_case there) and the sending defaults. */
export interface WorkspaceSettings {
  postalAddress?: string;
  fromName?: string;
  fromAddress?: string;
  replyTo?: string;
  defaultLocale?: string;
  /** Days the rendered content of sent messages is kept (subject stays); unset: kept. */
  messageRetentionDays?: number;
}

export interface WorkspaceRow {
  id: string;
  name: string;
  siteId: string;
  createdAt: Date;
  settings: WorkspaceSettings;
}

function toWorkspace(row: { id: string; name: string; site_id: string; created_at: Date; settings: Record<string, unknown> }): WorkspaceRow {
  return { id: row.id, name: row.name, siteId: row.site_id, createdAt: row.created_at, settings: row.settings };
}

export interface KeyRow {
  id: string;
  workspaceId: string;
  kind: KeyKind;
  name: string;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export function createWorkspaceRepo(db: Queryable) {
  return {
    async insertWorkspace(w: { id: string; name: string; siteId: string }): Promise<WorkspaceRow> {
      const row = await db.insertInto('workspaces').values({ id: w.id, name: w.name, site_id: w.siteId })
        .returningAll().executeTakeFirstOrThrow();
      return toWorkspace(row);
    },

    async findWorkspace(id: string): Promise<WorkspaceRow | undefined> {
      const row = await db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toWorkspace(row);
    },

    async listWorkspaces(): Promise<WorkspaceRow[]> {
      const rows = await db.selectFrom('workspaces').selectAll().orderBy('created_at').execute();
      return rows.map(toWorkspace);
    },

    async updateWorkspace(id: string, set: { name?: string; settings?: WorkspaceSettings }): Promise<WorkspaceRow | undefined> {
      const row = await db.updateTable('workspaces').set({
        ...(set.name !== undefined ? { name: set.name } : {}),
        ...(set.settings !== undefined ? { settings: JSON.stringify(set.settings) } : {}),
      }).where('id', '=', id).returningAll().executeTakeFirst();
      return row && toWorkspace(row);
    },

    async insertKey(k: { id: string; workspaceId: string; kind: KeyKind; name: string; hash: string; prefix: string }): Promise<KeyRow> {
      const row = await db.insertInto('api_keys').values({
        id: k.id, workspace_id: k.workspaceId, kind: k.kind, name: k.name, hash: k.hash, prefix: k.prefix,
      }).returningAll().executeTakeFirstOrThrow();
      return toKey(row);
    },

    async listKeys(workspaceId: string): Promise<KeyRow[]> {
      const rows = await db.selectFrom('api_keys').selectAll().where('workspace_id', '=', workspaceId)
        .orderBy('created_at').orderBy('id').execute();
      return rows.map(toKey);
    },

    async findKey(workspaceId: string, id: string): Promise<KeyRow | undefined> {
      const row = await db.selectFrom('api_keys').selectAll()
        .where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
      return row && toKey(row);
    },

    /** The live key with this hash, with its workspace's site id. */
    async findActiveKeyByHash(hash: string): Promise<(KeyRow & { siteId: string }) | undefined> {
      const row = await db.selectFrom('api_keys')
        .innerJoin('workspaces', 'workspaces.id', 'api_keys.workspace_id')
        .selectAll('api_keys').select('workspaces.site_id')
        .where('api_keys.hash', '=', hash).where('api_keys.revoked_at', 'is', null)
        .executeTakeFirst();
      return row && { ...toKey(row), siteId: row.site_id };
    },

    async countActiveKeys(workspaceId: string): Promise<number> {
      const row = await db.selectFrom('api_keys').select((eb) => eb.fn.countAll<string>().as('n'))
        .where('workspace_id', '=', workspaceId).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async revokeKey(workspaceId: string, id: string, at: Date): Promise<boolean> {
      const res = await db.updateTable('api_keys').set({ revoked_at: at })
        .where('workspace_id', '=', workspaceId).where('id', '=', id).where('revoked_at', 'is', null)
        .executeTakeFirst();
      return res.numUpdatedRows > 0n;
    },

    async touchKey(id: string, at: Date): Promise<void> {
      await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
    },
  };
}

function toKey(row: {
  id: string; workspace_id: string; kind: KeyKind; name: string; prefix: string;
  created_at: Date; revoked_at: Date | null; last_used_at: Date | null;
}): KeyRow {
  return {
    id: row.id, workspaceId: row.workspace_id, kind: row.kind, name: row.name, prefix: row.prefix,
    createdAt: row.created_at, revokedAt: row.revoked_at, lastUsedAt: row.last_used_at,
  };
}

export type WorkspaceRepo = ReturnType<typeof createWorkspaceRepo>;
