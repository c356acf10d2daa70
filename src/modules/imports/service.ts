// CSV imports of people: create an import (options, list), then run it on the file as it streams in.
// The file is parsed while earlier chunks are written (two at once when they cannot touch the same
// people: lanes.ts), and the import's row keeps the progress, the row errors and, if it stopped early, why.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/pool.ts';
import { AppError, isAppError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { ConsentService } from '../consent/index.ts';
import { bulkRowKeys } from '../people/index.ts';
import { CsvSyntaxError, isRowError, parseHeader, parseRow, readCsv, type CsvRecord, type ParsedRow } from './csv.ts';
import { createImportRepo } from './repo.ts';
import type { ImportFailure, ImportListSink, ImportOptions, ImportView, RowError } from './types.ts';
import { createChunkWriter } from './writer.ts';
import { createLanes } from './lanes.ts';

const ID = /^imp_[0-9a-f]{20}$/;
/** A chunk also goes out when rows have waited this long (a slow upload still shows progress). */
const FLUSH_AFTER_MS = 1000;
/** Chunks written at once (when they cannot touch the same people; see lanes.ts). */
const LANES = 2;

export interface ImportDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  consent: Pick<ConsentService, 'listTopics' | 'setTopicsBulkIn'>;
  /** Manual lists and dirty marks; until set (useLists), imports with a list are refused. */
  lists?: ImportListSink | undefined;
  /** Rows per transaction (default 5,000). */
  chunkSize?: number;
  /** Chunks written at once (default 2; 1 writes the file strictly chunk after chunk). */
  lanes?: number;
}

export interface CreateImportInput {
  type: 'people';
  /** A manual list (id or key) every imported person is added to. */
  list?: string | undefined;
  updateOnly?: boolean | undefined;
  dryRun?: boolean | undefined;
  fileName?: string | undefined;
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

function isAborted(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === 'ECONNRESET' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || e?.message === 'aborted';
}

export function createImportService(deps: ImportDeps) {
  const { db, clock, log } = deps;
  const chunkSize = deps.chunkSize ?? 5000;
  let lists = deps.lists;

  function sink(): ImportListSink {
    if (!lists) throw new AppError('segment.not_found', 'Manual lists are not available on this server (the segments module is not connected).', { field: 'list' });
    return lists;
  }

  async function mustFind(ws: string, id: string): Promise<ImportView> {
    const found = ID.test(id) ? await createImportRepo(db).find(ws, id) : undefined;
    if (!found) throw new AppError('import.not_found', undefined, { field: 'id' });
    return found;
  }

  /** Checks what the header asks for before any row is written: its topics and the list exist. */
  async function preflight(ws: string, topics: string[], options: ImportOptions): Promise<void> {
    if (topics.length > 0) {
      const known = new Set((await deps.consent.listTopics(ws)).map((t) => t.key));
      const unknown = topics.find((t) => !known.has(t));
      if (unknown !== undefined) {
        throw new AppError('import.unknown_topic', `Column "topic:${unknown}": no topic "${unknown}" in this workspace.`, { field: `topic:${unknown}` });
      }
    }
    if (options.list) await sink().resolveList(ws, options.list.id);
  }

  /** Parses and writes the whole file; answers why it stopped early, or null. */
  async function consume(ws: string, imp: ImportView, input: Readable): Promise<{ failure: ImportFailure | null; bytes: number }> {
    const reader = readCsv(input);
    try {
      return await consumeRecords(ws, imp, reader.batches, () => reader.bytes());
    } finally {
      // Stop parsing, and drain what is left of the input: an HTTP client waits to send it all before it reads the answer.
      await reader.batches.return(undefined).catch(() => undefined);
      if (!input.readableEnded) input.resume();
    }
  }

  async function consumeRecords(ws: string, imp: ImportView, batches: AsyncGenerator<CsvRecord[]>, bytesRead: () => number): Promise<{ failure: ImportFailure | null; bytes: number }> {
    let first: IteratorResult<CsvRecord[]>;
    try {
      first = await batches.next();
    } catch (err) {
      if (err instanceof CsvSyntaxError) throw new AppError('import.bad_header', err.message, { field: 'header' });
      throw err;
    }
    const headerRecord = first.done ? undefined : first.value[0];
    if (!headerRecord) throw new AppError('import.bad_header', 'The file is empty: its first row must name the columns.', { field: 'header' });
    const header = parseHeader(headerRecord.fields);
    await preflight(ws, header.topics, imp.options);

    const writer = createChunkWriter({
      db, clock, consent: deps.consent, lists, ws, importId: imp.id, options: imp.options, bytes: bytesRead,
    });
    const lanes = createLanes(deps.lanes ?? LANES);
    let writeError: unknown;
    let rows: ParsedRow[] = [];
    let errors: RowError[] = [];
    let lastSend = performance.now();
    /** Hands the rows read so far to a lane; answers once it has started writing them. */
    const send = async () => {
      const [r, e] = [rows, errors];
      rows = [];
      errors = [];
      lastSend = performance.now();
      const keys = new Set<string>();
      for (const row of r) for (const k of bulkRowKeys(row.person)) keys.add(k);
      const { done } = await lanes.start(keys, (gate) => writer.write(r, e, gate));
      done.catch((err: unknown) => {
        writeError ??= err;
      });
    };
    let readError: unknown;
    try {
      let batch: CsvRecord[] | undefined = first.done ? undefined : first.value.slice(1);
      while (batch && !writeError) {
        for (const rec of batch) {
          const parsed = parseRow(header, rec);
          if (isRowError(parsed)) errors.push(parsed);
          else rows.push(parsed);
          if (rows.length + errors.length >= chunkSize) await send();
        }
        if (rows.length + errors.length > 0 && performance.now() - lastSend > FLUSH_AFTER_MS) await send();
        // Batches already parsed resolve as microtasks, which would keep the database's answers (I/O)
        // waiting until the parser runs dry: let them in between batches, so parsing and writing overlap.
        await new Promise((r) => setImmediate(r));
        const n = await batches.next();
        batch = n.done ? undefined : n.value;
      }
    } catch (err) {
      readError = err;
    }
    if (!writeError && rows.length + errors.length > 0) await send(); // rows read before a syntax error or an aborted upload are whole: keep them
    await lanes.drain();
    if (writeError) throw asError(writeError);
    const bytes = bytesRead();
    if (readError instanceof CsvSyntaxError) return { failure: { code: 'csv_syntax', message: readError.message, line: readError.line }, bytes };
    if (readError !== undefined && isAborted(readError)) {
      return { failure: { code: 'upload_aborted', message: 'The upload ended before the end of the file.', line: null }, bytes };
    }
    if (readError !== undefined) throw asError(readError);
    return { failure: null, bytes };
  }

  return {
    /** Hands over manual lists and dirty marks (the segments service). */
    useLists(sinkImpl: ImportListSink): void {
      lists = sinkImpl;
    },

    /** A new import waiting for its file; the list, if any, must exist and be manual. */
    async create(ws: string, input: CreateImportInput): Promise<ImportView> {
      let list: ImportOptions['list'] = null;
      if (input.list !== undefined) list = { id: (await sink().resolveList(ws, input.list)).id, ref: input.list };
      const options: ImportOptions = { list, updateOnly: input.updateOnly ?? false, dryRun: input.dryRun ?? false };
      return createImportRepo(db).insert(ws, `imp_${randomBytes(10).toString('hex')}`, options, input.fileName ?? null, clock.now());
    },

    /**
     * Runs a waiting import on its CSV file and answers its final state. Header problems (bad header,
     * unknown topic, missing list) throw before any row is written; a file that stops being CSV, an
     * aborted upload or a database failure end the import as `failed` with what was committed before.
     */
    async run(ws: string, id: string, input: Readable): Promise<ImportView> {
      const imp = await mustFind(ws, id);
      if (!(await createImportRepo(db).start(ws, id, clock.now()))) throw new AppError('import.not_waiting', undefined, { field: 'id' });
      const started = performance.now();
      let outcome: { failure: ImportFailure | null; bytes: number };
      try {
        outcome = await consume(ws, imp, input);
      } catch (err) {
        const failure: ImportFailure = isAppError(err)
          ? { code: err.code, message: err.message, line: err.code === 'import.bad_header' || err.code === 'import.unknown_topic' ? 1 : null }
          : { code: 'write_failed', message: `The import stopped: ${(err as Error).message.slice(0, 300)}`, line: null };
        if (!isAppError(err)) log.error({ err, workspaceId: ws, importId: id }, 'import failed');
        await createImportRepo(db).finish(ws, id, 'failed', failure, 0, clock.now());
        if (isAppError(err)) throw err;
        return mustFind(ws, id);
      }
      await createImportRepo(db).finish(ws, id, outcome.failure ? 'failed' : 'done', outcome.failure, outcome.bytes, clock.now());
      const view = await mustFind(ws, id);
      const seconds = (performance.now() - started) / 1000;
      log.info({ workspaceId: ws, importId: id, status: view.status, rows: view.rowsDone, failed: view.rowsFailed,
        rowsPerSecond: Math.round(view.rowsDone / Math.max(seconds, 0.001)) }, 'import finished');
      return view;
    },

    get: mustFind,

    /** Newest first, without row errors (GET one import for those). */
    list(ws: string, limit = 50): Promise<ImportView[]> {
      return createImportRepo(db).list(ws, limit);
    },
  };
}

export type ImportService = ReturnType<typeof createImportService>;

/** Creates a people import and runs it on `input` (a CSV stream); answers the final state. */
export async function importPeopleCsv(service: ImportService, ws: string, input: Readable, opts: Omit<CreateImportInput, 'type'> = {}): Promise<ImportView> {
  const imp = await service.create(ws, { type: 'people', ...opts });
  return service.run(ws, imp.id, input);
}
