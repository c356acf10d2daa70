// SQL of the link checker: the last check per template and its results, replaced wholesale.
import type { Db } from '../../../db/pool.ts';
import type { UrlKind } from '../lint/index.ts';
import type { LinkStatus } from './check.ts';

export interface LinkResult {
  url: string;
  kind: UrlKind;
  status: LinkStatus;
  httpStatus: number | null;
  error: string | null;
}

export interface StoredCheck {
  checkedAt: Date | null;
  results: LinkResult[];
}

export function createLinkCheckRepo(db: Db) {
  return {
    async templateExists(workspaceId: string, templateId: string): Promise<boolean> {
      const row = await db.selectFrom('content_resources').select('id')
        .where('workspace_id', '=', workspaceId).where('kind', '=', 'template').where('id', '=', templateId)
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Every published email template of every workspace (the daily check). */
    async publishedEmailTemplates(): Promise<{ workspaceId: string; templateId: string }[]> {
      const rows = await db.selectFrom('content_resources as r')
        .innerJoin('content_versions as v', (j) => j.onRef('v.workspace_id', '=', 'r.workspace_id')
          .onRef('v.resource_id', '=', 'r.id').onRef('v.version', '=', 'r.published_version'))
        .select(['r.workspace_id', 'r.id'])
        .where('r.kind', '=', 'template')
        .where((eb) => eb(eb.ref('v.body', '->>').key('channel'), '=', 'email'))
        .orderBy('r.workspace_id').orderBy('r.id')
        .execute();
      return rows.map((r) => ({ workspaceId: r.workspace_id, templateId: r.id }));
    },

    /** Ordered by kind, then URL. */
    async read(workspaceId: string, templateId: string): Promise<StoredCheck> {
      const run = await db.selectFrom('link_checks').select('checked_at')
        .where('workspace_id', '=', workspaceId).where('template_id', '=', templateId).executeTakeFirst();
      if (!run) return { checkedAt: null, results: [] };
      const rows = await db.selectFrom('link_check_results').select(['url', 'kind', 'status', 'http_status', 'error'])
        .where('workspace_id', '=', workspaceId).where('template_id', '=', templateId)
        .orderBy('kind').orderBy('url').execute();
      return {
        checkedAt: run.checked_at,
        results: rows.map((r) => ({ url: r.url, kind: r.kind, status: r.status, httpStatus: r.http_status, error: r.error })),
      };
    },

    /**
     * Replace a template's check in one transaction. Returns false when the template was deleted while
     * it was being checked (nothing is stored then).
     */
    async replaceCheck(workspaceId: string, templateId: string, checkedAt: Date, results: readonly LinkResult[]): Promise<boolean> {
      return db.transaction().execute(async (tx) => {
        const template = await tx.selectFrom('content_resources').select('id')
          .where('workspace_id', '=', workspaceId).where('id', '=', templateId).forShare().executeTakeFirst();
        if (!template) return false;
        await tx.deleteFrom('link_check_results').where('workspace_id', '=', workspaceId).where('template_id', '=', templateId).execute();
        await tx.insertInto('link_checks').values({ workspace_id: workspaceId, template_id: templateId, checked_at: checkedAt })
          .onConflict((oc) => oc.columns(['workspace_id', 'template_id']).doUpdateSet({ checked_at: checkedAt })).execute();
        if (results.length > 0) {
          await tx.insertInto('link_check_results').values(results.map((r) => ({
            workspace_id: workspaceId, template_id: templateId, url: r.url, kind: r.kind, status: r.status,
            http_status: r.httpStatus, error: r.error, checked_at: checkedAt,
          }))).execute();
        }
        return true;
      });
    },
  };
}

export type LinkCheckRepo = ReturnType<typeof createLinkCheckRepo>;
