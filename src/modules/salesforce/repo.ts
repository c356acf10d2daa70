// The only SQL of the Salesforce connector.
import { sql } from 'kysely';
import type { Queryable } from '../../db/pool.ts';

export interface SalesforceConnection {
  instanceUrl: string;
  clientId: string;
  clientSecret: string | null;
  refreshToken: string | null;
  lastSyncAt: Date | null;
  lastSyncStatus: 'ok' | 'error' | null;
  lastSyncError: string | null;
  syncedCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export function createSalesforceRepo(db: Queryable) {
  return {
    async upsert(c: { workspaceId: string; instanceUrl: string; clientId: string; clientSecret: string | null; refreshToken: string | null; at: Date }): Promise<SalesforceConnection> {
      const row = await db.insertInto('salesforce_connections').values({
        workspace_id: c.workspaceId, instance_url: c.instanceUrl, client_id: c.clientId, client_secret: c.clientSecret,
        refresh_token: c.refreshToken, last_sync_at: null, last_sync_status: null, last_sync_error: null, synced_count: 0,
        created_at: c.at, updated_at: c.at,
      }).onConflict((oc) => oc.column('workspace_id').doUpdateSet({
        instance_url: c.instanceUrl, client_id: c.clientId, client_secret: c.clientSecret, refresh_token: c.refreshToken, updated_at: c.at,
      })).returningAll().executeTakeFirstOrThrow();
      return toConnection(row);
    },

    async find(workspaceId: string): Promise<SalesforceConnection | undefined> {
      const row = await db.selectFrom('salesforce_connections').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst();
      return row && toConnection(row);
    },

    async exists(workspaceId: string): Promise<boolean> {
      const row = await db.selectFrom('salesforce_connections').select(sql`1`.as('one')).where('workspace_id', '=', workspaceId).executeTakeFirst();
      return row !== undefined;
    },

    async delete(workspaceId: string): Promise<boolean> {
      const res = await db.deleteFrom('salesforce_connections').where('workspace_id', '=', workspaceId).executeTakeFirst();
      return res.numDeletedRows > 0n;
    },

    async recordSync(workspaceId: string, s: { at: Date; ok: boolean; error: string | null; updated: number }): Promise<void> {
      await db.updateTable('salesforce_connections').set({
        last_sync_at: s.at, last_sync_status: s.ok ? 'ok' : 'error', last_sync_error: s.error,
        synced_count: sql<number>`synced_count + ${s.updated}`,
      }).where('workspace_id', '=', workspaceId).execute();
    },
  };
}

function toConnection(row: {
  instance_url: string; client_id: string; client_secret: string | null; refresh_token: string | null; last_sync_at: Date | null;
  last_sync_status: 'ok' | 'error' | null; last_sync_error: string | null; synced_count: number; created_at: Date; updated_at: Date;
}): SalesforceConnection {
  return {
    instanceUrl: row.instance_url, clientId: row.client_id, clientSecret: row.client_secret, refreshToken: row.refresh_token,
    lastSyncAt: row.last_sync_at, lastSyncStatus: row.last_sync_status, lastSyncError: row.last_sync_error,
    syncedCount: row.synced_count, createdAt: row.created_at, updatedAt: row.updated_at,
  };
}
