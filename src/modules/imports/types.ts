// Imports vocabulary: the import's view, row errors, and the interface the import needs from lists.
import type { Tx } from '../../db/pool.ts';

export const IMPORT_STATUSES = ['waiting', 'running', 'done', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/**
 * What a CSV import needs from manual lists and segments (defined here, by the consumer; the segments
 * service implements it and is handed over with `useLists`).
 */
export interface ImportListSink {
  /** Resolves a manual list by id or key; throws AppError 'segment.not_found' / 'segment.not_manual'. */
  resolveList(ws: string, idOrKey: string): Promise<{ id: string }>;
  /** Adds people to a manual list inside the caller's transaction; records 'entered' changes (reason 'import'). */
  addToList(tx: Tx, ws: string, listId: string, personIds: string[], reason: string): Promise<number>;
  /** Marks people whose attributes/consent changed, so their dynamic segments are re-evaluated. */
  markDirty(tx: Tx, ws: string, personIds: string[], what: string[]): Promise<void>;
}

/** A row that was not imported: bad data ('failed') or a reason to leave it ('skipped'). */
export interface RowError {
  /** Line of the source file where the row starts (1 is the header). */
  line: number;
  /** The column, as written in the header; null when the row as a whole is at fault. */
  field: string | null;
  code: RowErrorCode;
  message: string;
}

/** Row codes; `suppressed` and `not_found` mark skipped rows, the others failed ones. */
export const ROW_ERROR_CODES = [
  'missing_identity', 'invalid_email', 'invalid_number', 'invalid_boolean', 'invalid_date', 'invalid_consent',
  'invalid_value', 'too_long', 'column_count', 'write_failed', 'suppressed', 'not_found',
] as const;
export type RowErrorCode = (typeof ROW_ERROR_CODES)[number];
export const SKIP_CODES: ReadonlySet<RowErrorCode> = new Set(['suppressed', 'not_found']);

/** Why an import stopped before the end of its file. */
export interface ImportFailure {
  code: string;
  message: string;
  line: number | null;
}

export interface ImportOptions {
  /** The manual list every imported person is added to. */
  list: { id: string; ref: string } | null;
  updateOnly: boolean;
  dryRun: boolean;
}

export interface ImportView extends ImportProgress {
  id: string;
  type: 'people';
  status: ImportStatus;
  options: ImportOptions;
  fileName: string | null;
  failure: ImportFailure | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

export interface ImportProgress {
  bytesRead: number;
  rowsDone: number;
  rowsCreated: number;
  rowsUpdated: number;
  rowsSkipped: number;
  rowsFailed: number;
  /** The first 1,000 failed and skipped rows, in file order. */
  errors: RowError[];
}

/** At most this many row errors are kept per import; the counters go on. */
export const MAX_STORED_ERRORS = 1000;
