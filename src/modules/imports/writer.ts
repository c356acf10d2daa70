// Writes an import's rows chunk by chunk: each chunk in one transaction (people, topic consent, list
// membership, dirty marks and the import's progress together), retried on deadlocks and identity races.
// A chunk that fails on its data is split in halves until the rows at fault fail alone: a poison row
// is reported with its line, and every other row is still written.
import type { Clock } from '../../clock.ts';
import type { Db, Queryable, Tx } from '../../db/pool.ts';
import type { ConsentService, TopicState } from '../consent/index.ts';
import { BulkIdentityConflict, bulkUpsertPeople, peopleContacts } from '../people/index.ts';
import type { ParsedRow } from './csv.ts';
import type { Gate } from './lanes.ts';
import { createImportRepo } from './repo.ts';
import { MAX_STORED_ERRORS, type ImportListSink, type ImportOptions, type ImportProgress, type RowError } from './types.ts';

const ATTEMPTS = 5;

export interface WriterContext {
  db: Db;
  clock: Clock;
  consent: Pick<ConsentService, 'setTopicsBulkIn'>;
  lists: ImportListSink | undefined;
  ws: string;
  importId: string;
  options: ImportOptions;
  /** Bytes of the file read so far. */
  bytes: () => number;
}

interface ChunkResult {
  created: number;
  updated: number;
  skips: RowError[];
}

class DryRunRollback extends Error {
  constructor(readonly progress: ImportProgress) {
    super('dry run: roll the chunk back');
  }
}

const SKIP_MESSAGES = {
  suppressed: 'The person was deleted and suppressed: the row is skipped (unsuppress them to import it).',
  not_found: 'No person has this id, email or phone, and update_only creates nobody: the row is skipped.',
} as const;

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Deadlocks, serialization failures and user ids claimed concurrently: the same chunk may succeed again. */
function isRetryable(err: unknown): boolean {
  const state = sqlState(err);
  return err instanceof BulkIdentityConflict || state === '40001' || state === '40P01';
}

/** Errors a row's data can cause (data exceptions, constraints, index row size): worth isolating the row. */
function isRowFault(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && /^(22|23|54)/.test(state);
}

export function createChunkWriter(ctx: WriterContext) {
  const { db, ws, options } = ctx;
  /** Row errors stored or reserved by chunks in flight (several chunks may run at once). */
  let stored = 0;

  /** Takes the errors that still fit under MAX_STORED_ERRORS, and reserves their room. */
  function reserve(errors: RowError[]): RowError[] {
    const kept = errors.slice(0, Math.max(0, MAX_STORED_ERRORS - stored));
    stored += kept.length;
    return kept;
  }

  async function processChunk(tx: Tx, rows: ParsedRow[], gate: Gate | undefined): Promise<ChunkResult> {
    const at = ctx.clock.now();
    const res = await bulkUpsertPeople(tx, ws, rows.map((r) => r.person), { updateOnly: options.updateOnly, at, gate });
    const out: ChunkResult = { created: 0, updated: 0, skips: [] };
    const resolved = new Set<string>();
    const consent = new Map<string, Record<string, TopicState>>();
    for (const [i, o] of res.outcomes.entries()) {
      const row = rows[i];
      if (!row) continue;
      if (o.kind === 'skipped') {
        out.skips.push({ line: row.line, field: null, code: o.reason, message: SKIP_MESSAGES[o.reason] });
        continue;
      }
      if (o.kind === 'created') out.created++;
      else out.updated++;
      resolved.add(o.personId);
      if (row.topics) consent.set(o.personId, { ...consent.get(o.personId), ...row.topics });
    }
    const consentChanged = new Set<string>();
    if (consent.size > 0) {
      const contacts = await peopleContacts(tx, ws, [...consent.keys()]);
      const items = [...consent].map(([personId, topics]) => ({
        personId, email: contacts.get(personId)?.email ?? null, phone: contacts.get(personId)?.phone ?? null, topics,
      }));
      for (const c of await ctx.consent.setTopicsBulkIn(tx, ws, items, { source: 'import' })) {
        if (c.personId !== null) consentChanged.add(c.personId);
      }
    }
    const lists = ctx.lists;
    if (lists) {
      // New people may match segments by what they never did: every dynamic segment evaluates them.
      if (res.created.length > 0) await lists.markDirty(tx, ws, res.created, ['created']);
      const created = new Set(res.created);
      const updated = res.changed.filter((id) => !created.has(id));
      if (updated.length > 0) await lists.markDirty(tx, ws, updated, ['attributes']);
      if (consentChanged.size > 0) await lists.markDirty(tx, ws, [...consentChanged], ['consent']);
      if (options.list && resolved.size > 0) await lists.addToList(tx, ws, options.list.id, [...resolved], 'import');
    }
    return out;
  }

  function progressOf(rows: number, rowErrors: RowError[], r: ChunkResult | undefined, failed: RowError[]): ImportProgress {
    const errors = [...rowErrors, ...failed, ...(r?.skips ?? [])].sort((a, b) => a.line - b.line);
    return {
      bytesRead: ctx.bytes(), rowsDone: rows + rowErrors.length + failed.length, rowsCreated: r?.created ?? 0,
      rowsUpdated: r?.updated ?? 0, rowsSkipped: r?.skips.length ?? 0, rowsFailed: rowErrors.length + failed.length,
      errors: reserve(errors),
    };
  }

  async function save(q: Queryable, p: ImportProgress): Promise<void> {
    await createImportRepo(q).progress(ws, ctx.importId, p, ctx.clock.now());
  }

  /** One chunk in one transaction, retried when a concurrent writer got in the way. */
  async function attempt(rows: ParsedRow[], rowErrors: RowError[], gate: Gate | undefined): Promise<void> {
    for (let i = 1; ; i++) {
      let p: ImportProgress | undefined;
      try {
        await db.transaction().execute(async (tx) => {
          await createImportRepo(tx).tuneChunk();
          p = progressOf(rows.length, rowErrors, rows.length > 0 ? await processChunk(tx, rows, gate) : undefined, []);
          if (options.dryRun) throw new DryRunRollback(p);
          await save(tx, p);
        });
        return;
      } catch (err) {
        if (err instanceof DryRunRollback) {
          await save(db, err.progress);
          return;
        }
        stored -= p?.errors.length ?? 0; // rolled back: give the room back
        if (i >= ATTEMPTS || !isRetryable(err)) throw err;
        await new Promise((r) => setTimeout(r, 10 * i * i));
      }
    }
  }

  /**
   * Writes the rows (and records the chunk's parse errors). Throws only what no row can be blamed
   * for (the database gone, a bug): the import then stops, with everything before it committed.
   */
  async function write(rows: ParsedRow[], rowErrors: RowError[], gate?: Gate): Promise<void> {
    try {
      await attempt(rows, rowErrors, gate);
    } catch (err) {
      if (!isRowFault(err)) throw err;
      if (rows.length > 1) {
        const mid = rows.length >> 1;
        await write(rows.slice(0, mid), rowErrors, gate);
        await write(rows.slice(mid), [], gate);
        return;
      }
      const row = rows[0];
      const message = `The row could not be written: ${(err as Error).message.slice(0, 300)}`;
      const failed: RowError[] = row ? [{ line: row.line, field: null, code: 'write_failed', message }] : [];
      await save(db, progressOf(0, rowErrors, undefined, failed));
    }
  }

  return { write };
}
