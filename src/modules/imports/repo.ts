// The only SQL of the imports module: the imports table (options, status, progress, row errors).
import { sql, type Selectable } from 'kysely';
import type { Queryable } from '../../db/pool.ts';
import type { ImportsTable } from '../../db/schema.ts';
import type { ImportFailure, ImportOptions, ImportProgress, ImportView, RowError } from './types.ts';

type ImportRow = Selectable<ImportsTable>;

function toView(r: ImportRow, withErrors: boolean): ImportView {
  const o = r.options;
  const list = o['list'] as { id: string; ref: string } | null | undefined;
  return {
    id: r.id, type: r.kind, status: r.status, fileName: r.file_name,
    options: { list: list ?? null, updateOnly: o['updateOnly'] === true, dryRun: o['dryRun'] === true },
    bytesRead: Number(r.bytes_read), rowsDone: Number(r.rows_done), rowsCreated: Number(r.rows_created),
    rowsUpdated: Number(r.rows_updated), rowsSkipped: Number(r.rows_skipped), rowsFailed: Number(r.rows_failed),
    // Bisected chunks may store a later line before an earlier one: show them in file order.
    errors: withErrors ? (r.errors as RowError[]).slice().sort((a, b) => a.line - b.line) : [],
    failure: r.failure === null ? null : (r.failure as unknown as ImportFailure),
    createdAt: r.created_at, startedAt: r.started_at, finishedAt: r.finished_at, updatedAt: r.updated_at,
  };
}

export function createImportRepo(db: Queryable) {
  return {
    async insert(ws: string, id: string, options: ImportOptions, fileName: string | null, at: Date): Promise<ImportView> {
      const row = await db.insertInto('imports').values({
        workspace_id: ws, id, kind: 'people', status: 'waiting', options: JSON.stringify(options), file_name: fileName,
        created_at: at, updated_at: at,
      }).returningAll().executeTakeFirstOrThrow();
      return toView(row, true);
    },

    async find(ws: string, id: string): Promise<ImportView | undefined> {
      const row = await db.selectFrom('imports').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
      return row && toView(row, true);
    },

    /** Newest first, without their row errors. */
    async list(ws: string, limit: number): Promise<ImportView[]> {
      const rows = await db.selectFrom('imports').selectAll().where('workspace_id', '=', ws)
        .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map((r) => toView(r, false));
    },

    /** waiting -> running; false when the import is not waiting (or not there). */
    async start(ws: string, id: string, at: Date): Promise<boolean> {
      const r = await db.updateTable('imports').set({ status: 'running', started_at: at, updated_at: at })
        .where('workspace_id', '=', ws).where('id', '=', id).where('status', '=', 'waiting').executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    /**
     * Settings for a chunk's transaction: no JIT (a chunk's probe-per-row plans look expensive enough to
     * trigger a compile that costs more than the query), and no wait for the WAL flush at commit (the
     * import's final status is committed normally, which flushes every chunk before it).
     */
    async tuneChunk(): Promise<void> {
      await sql`SELECT set_config('jit', 'off', true), set_config('synchronous_commit', 'off', true)`.execute(db);
    },

    /** Adds a chunk's counts and row errors (in the chunk's transaction, so progress is what is committed). */
    async progress(ws: string, id: string, p: ImportProgress, at: Date): Promise<void> {
      await sql`
        UPDATE imports SET
          bytes_read = greatest(bytes_read, ${p.bytesRead}), rows_done = rows_done + ${p.rowsDone},
          rows_created = rows_created + ${p.rowsCreated}, rows_updated = rows_updated + ${p.rowsUpdated},
          rows_skipped = rows_skipped + ${p.rowsSkipped}, rows_failed = rows_failed + ${p.rowsFailed},
          errors = CASE WHEN ${p.errors.length} = 0 THEN errors ELSE errors || ${JSON.stringify(p.errors)}::jsonb END,
          updated_at = ${at}
        WHERE workspace_id = ${ws} AND id = ${id}`.execute(db);
    },

    async finish(ws: string, id: string, status: 'done' | 'failed', failure: ImportFailure | null, bytesRead: number, at: Date): Promise<void> {
      await sql`
        UPDATE imports SET status = ${status}, failure = ${failure === null ? null : JSON.stringify(failure)}::jsonb,
          bytes_read = greatest(bytes_read, ${bytesRead}), finished_at = ${at}, updated_at = ${at}
        WHERE workspace_id = ${ws} AND id = ${id}`.execute(db);
    },
  };
}
