// `tandem import people FILE.csv`: streams a CSV file to a running Tandem's imports API (docs/imports.md)
// with a progress bar on stderr, then prints a summary and the first row errors. Exits non-zero when
// rows failed or the import stopped. Never opens the database.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Transform, type Readable } from 'node:stream';
import { Agent, fetch, type Response } from 'undici';
import { failureCause, jsonBody } from '../ascode/index.ts';
import { AppError, errorCatalogue, type ErrorCode } from '../errors.ts';
import type { ImportView, RowError } from '../modules/imports/index.ts';
import { remoteTarget } from './remote.ts';

export interface ImportOpts {
  workspace?: string;
  list?: string;
  updateOnly?: boolean;
  dryRun?: boolean;
  url?: string;
  key?: string;
  json?: boolean;
}

type View = Omit<ImportView, 'createdAt' | 'startedAt' | 'finishedAt' | 'updatedAt'>;

const POLL_MS = 500;
/**
 * The upload's answer comes when the whole file is imported: minutes for a large file. undici's default
 * timeouts (300 s for the answer's headers) would cut it off, so the upload goes through an agent without.
 */
const patient = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
const PLAIN_EVERY_MS = 2000;
const SHOWN_ERRORS = 20;

async function server(opts: ImportOpts): Promise<{ base: string; key: string }> {
  const { url, key } = await remoteTarget(opts);
  return { base: url, key };
}

/** One call to the API; a non-2xx answer becomes an AppError with the server's code when it sent one. */
async function call<T>(srv: { base: string; key: string }, method: string, p: string, init: { body?: Readable; json?: unknown; type?: string } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${srv.base}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${srv.key}`, accept: 'application/json',
        ...(init.json !== undefined ? { 'content-type': 'application/json' } : init.type ? { 'content-type': init.type } : {}),
      },
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : init.body ? { body: init.body, duplex: 'half', dispatcher: patient } : {}),
    });
  } catch (err) {
    throw new Error(`Could not reach Tandem at ${srv.base}: ${failureCause(err)}`);
  }
  const body = await jsonBody(res);
  if (res.ok) return body as T;
  const e = (body as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
  if (e?.code && Object.hasOwn(errorCatalogue, e.code)) {
    const hint = e.code.startsWith('auth.') ? ' (check --key or TANDEM_APP_KEY)' : '';
    throw new AppError(e.code as ErrorCode, `${e.message ?? e.code}${e.field ? ` (field ${e.field})` : ''}${hint}`, e.field ? { field: e.field } : {});
  }
  throw new Error(`${method} ${p}: unexpected HTTP ${res.status} from the server (is the URL a Tandem server?)`);
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const int = (n: number) => Math.round(n).toLocaleString('en');

/** The progress display: one redrawn line on a terminal, a plain line every two seconds otherwise. */
function progress(total: number) {
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  let lastPlain = Number.NEGATIVE_INFINITY;
  let drawn = false;
  const line = (sent: number, v: View | undefined) => {
    const secs = (performance.now() - started) / 1000;
    const rows = v?.rowsDone ?? 0;
    const pct = total > 0 ? Math.min(100, Math.floor((sent / total) * 100)) : 100;
    return { pct, text: `${pct}%  ${mb(sent)}/${mb(total)}  ${int(rows)} rows  ${int(rows / Math.max(secs, 0.001))} rows/s  ${int(v?.rowsFailed ?? 0)} errors` };
  };
  return {
    update(sent: number, v: View | undefined): void {
      const { pct, text } = line(sent, v);
      if (tty) {
        const width = 24;
        const full = Math.round((pct / 100) * width);
        process.stderr.write(`\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${text}\x1b[K`);
        drawn = true;
      } else if (performance.now() - lastPlain >= PLAIN_EVERY_MS) {
        lastPlain = performance.now();
        process.stderr.write(`progress: ${text}\n`);
      }
    },
    done(): void {
      if (tty && drawn) process.stderr.write('\r\x1b[K');
    },
    seconds: () => (performance.now() - started) / 1000,
  };
}

function errorLine(e: RowError): string {
  return `  line ${e.line}${e.field === null ? '' : `  ${e.field}`}  ${e.code}  ${e.message}`;
}

function summary(v: View, seconds: number): string {
  const head = `import ${v.id} ${v.status}${v.options.dryRun ? ' (dry run: nothing was written)' : ''}: ${int(v.rowsDone)} rows, ` +
    `${int(v.rowsCreated)} created, ${int(v.rowsUpdated)} updated, ${int(v.rowsSkipped)} skipped, ${int(v.rowsFailed)} failed ` +
    `(${mb(v.bytesRead)}, ${seconds.toFixed(1)} s, ${int(v.rowsDone / Math.max(seconds, 0.001))} rows/s)`;
  const lines = [head];
  if (v.failure) lines.push(`stopped: ${v.failure.message}${v.failure.line === null ? '' : ` (line ${v.failure.line})`} [${v.failure.code}]`);
  if (v.errors.length > 0) {
    const more = v.rowsFailed + v.rowsSkipped - Math.min(v.errors.length, SHOWN_ERRORS);
    lines.push(`${v.errors.length > SHOWN_ERRORS ? `first ${SHOWN_ERRORS} ` : ''}rows not imported:`, ...v.errors.slice(0, SHOWN_ERRORS).map(errorLine));
    if (more > 0) lines.push(`  … and ${int(more)} more (GET /api/imports/${v.id} lists the first 1,000)`);
  }
  return lines.join('\n');
}

export async function importPeople(file: string, opts: ImportOpts): Promise<void> {
  const srv = await server(opts);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new Error(`${file}: no such file`);
  if (opts.workspace !== undefined) {
    const ws = await call<{ id: string }>(srv, 'GET', '/api/workspace');
    if (ws.id !== opts.workspace) throw new Error(`--workspace ${opts.workspace}: the key belongs to workspace ${ws.id}`);
  }
  const created = await call<View>(srv, 'POST', '/api/imports', {
    json: {
      type: 'people', fileName: path.basename(file).slice(0, 300),
      ...(opts.list !== undefined ? { list: opts.list } : {}), ...(opts.updateOnly ? { updateOnly: true } : {}), ...(opts.dryRun ? { dryRun: true } : {}),
    },
  });
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sent += chunk.length;
      cb(null, chunk);
    },
  });
  const body = createReadStream(file).pipe(counter);
  const bar = progress(info.size);
  let latest: View | undefined;
  let finished = false;
  const upload = call<View>(srv, 'PUT', `/api/imports/${created.id}/csv`, { body, type: 'text/csv' })
    .finally(() => (finished = true));
  bar.update(0, undefined);
  while (!finished) {
    await Promise.race([upload.catch(() => undefined), new Promise((r) => setTimeout(r, POLL_MS))]);
    if (finished) break;
    latest = await call<View>(srv, 'GET', `/api/imports/${created.id}`).catch(() => latest);
    bar.update(sent, latest);
  }
  let final: View;
  try {
    final = await upload;
  } finally {
    bar.done();
  }
  process.stdout.write(`${opts.json ? JSON.stringify(final) : summary(final, bar.seconds())}\n`);
  if (final.status !== 'done' || final.rowsFailed > 0) process.exitCode = 1;
}
