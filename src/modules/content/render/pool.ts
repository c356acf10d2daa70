// The render threads. Templates are user-supplied: a filter can run for seconds between LiquidJS's
// time checks, MJML can take seconds on a large document, deep nesting can exhaust the stack. So
// every compile and render runs in a worker thread (worker.ts), never on the event loop that answers
// HTTP and runs jobs, and each request has a hard deadline: past it the thread is terminated (and a
// fresh one started on demand) and the request fails with `template.render_limit` (limit
// `deadline`). On Linux the deadline counts the thread's own CPU time (/proc/<pid>/task/<tid>/stat),
// so a loaded machine that merely delays a render does not fail it, while a render that keeps a core
// busy is ended on time; a wall-clock bound of ten times the deadline backs it up (and stands in for
// it elsewhere). Threads start lazily, up to `threads`; an idle thread is unref'd, so it never keeps a
// process alive, and close() ends them all.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../../../errors.ts';
import type { RenderReply, RenderRequest, ThreadMessage } from './protocol.ts';

export interface RenderPoolOptions {
  /** Threads at most (default: one per core, at most 4). */
  threads?: number;
  /** Heap of one thread, in MB: a render that allocates past it ends its thread (limit `memory`). */
  heapMb?: number;
}

export interface RenderPoolStats {
  /** Threads running (started lazily, up to `size`). */
  threads: number;
  size: number;
  /** Threads working on a request. */
  busy: number;
  /** Requests waiting for a thread. */
  queued: number;
}

/** The request's deadline; `renderMs`: a new deadline once it has compiled and starts rendering. */
export interface Deadline { ms: number; renderMs?: number }

interface Job {
  id: number;
  req: RenderRequest;
  deadline: Deadline;
  resolve(reply: RenderReply): void;
  reject(err: unknown): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** The thread's Linux thread id: its CPU time is read from /proc. */
  tid?: number | undefined;
  job?: Job;
  timer?: NodeJS.Timeout;
}

const TICK_MS = 1000 / 100; // USER_HZ: /proc reports CPU time in ticks of 10 ms on Linux.

/** CPU time (user + system) a thread of this process has used, in ms; undefined when unknown. */
export function threadCpuMs(tid: number | undefined): number | undefined {
  if (tid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
    // "tid (comm) state ppid …": utime and stime are fields 14 and 15, the 12th and 13th after the comm.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * TICK_MS : undefined;
  } catch {
    return undefined;
  }
}

export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** The thread's entry: the compiled worker.js, or worker.ts through tsx when running from sources. */
function workerEntry(): { filename: string | URL; eval: boolean } {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? './worker.ts' : './worker.js', import.meta.url);
  if (!fromSources) return { filename: entry, eval: false };
  const code = `import(${JSON.stringify(tsxEsmApi())}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return { filename: code, eval: true };
}

/** tsx's ESM API (require.resolve would give its CommonJS build, which cannot register from a thread). */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = require(pkgPath) as { exports: Record<string, { import: { default: string } }> };
  const api = pkg.exports['./esm/api']?.import.default ?? './dist/esm/api/index.mjs';
  return pathToFileURL(path.join(path.dirname(pkgPath), api)).href;
}

const unavailable = (why: string) => new Error(`render thread unavailable: ${why}`);

export class RenderPool {
  readonly size: number;
  private readonly heapMb: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: RenderPoolOptions = {}) {
    this.size = Math.max(1, options.threads ?? defaultThreads());
    this.heapMb = options.heapMb ?? 256;
  }

  /** Run one request in a thread; rejects with an AppError when the thread had to be ended. */
  run(req: RenderRequest, deadline: Deadline): Promise<RenderReply> {
    if (this.closed) return Promise.reject(unavailable('the pool is closed'));
    return new Promise<RenderReply>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, req, deadline, resolve, reject });
      this.pump();
    });
  }

  stats(): RenderPoolStats {
    return {
      threads: this.slots.length, size: this.size,
      busy: this.slots.filter((s) => s.job).length, queued: this.queue.length,
    };
  }

  /** Ends every thread; waiting and running requests fail (retryably: nothing was wrong with them). */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(unavailable('the pool is closed'));
    const slots = this.slots.splice(0);
    for (const s of slots) {
      clearInterval(s.timer);
      s.job?.reject(unavailable('the pool is closed'));
      s.job = undefined;
    }
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => undefined)));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => s.ready && !s.job);
      if (!slot) break;
      this.dispatch(slot, this.queue.shift() as Job);
    }
    const starting = this.slots.filter((s) => !s.ready).length;
    if (this.queue.length > starting && this.slots.length < this.size && !this.closed) this.spawn();
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    slot.worker.ref();
    try {
      slot.worker.postMessage({ id: job.id, req: job.req });
    } catch (err) {
      // Data that cannot be copied to a thread (a function, a symbol): the request is at fault.
      slot.job = undefined;
      slot.worker.unref();
      job.reject(new AppError('template.render_error', `The render data cannot be passed to the renderer: ${err instanceof Error ? err.message.slice(0, 200) : 'unknown'}.`, { part: 'data' }));
      return;
    }
    this.arm(slot, job.deadline.ms);
  }

  /** Start `slot`'s deadline: `ms` of the thread's CPU time (wall time where that is unknown), and 10 × ms of wall time. */
  private arm(slot: Slot, ms: number): void {
    clearInterval(slot.timer);
    const startWall = performance.now();
    const startCpu = threadCpuMs(slot.tid);
    const stop = () => this.end(slot, new AppError('template.render_limit', `Rendering stopped at the ${ms} ms deadline.`, { part: 'body', limit: 'deadline' }));
    slot.timer = setInterval(() => {
      const wall = performance.now() - startWall;
      const cpu = startCpu === undefined ? undefined : threadCpuMs(slot.tid);
      const used = cpu === undefined || startCpu === undefined ? wall : cpu - startCpu;
      if (used >= ms || wall >= ms * 10) stop();
    }, Math.max(5, Math.min(50, ms / 10)));
  }

  private spawn(): void {
    const entry = workerEntry();
    const worker = new Worker(entry.filename, {
      eval: entry.eval,
      // Templates cannot read the environment anyway; the thread gets none of it regardless.
      env: {},
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb, stackSizeMb: 4 },
    });
    const slot: Slot = { worker, ready: false };
    this.slots.push(slot);
    worker.unref();
    worker.on('message', (msg: ThreadMessage) => {
      if ('ready' in msg) {
        slot.ready = true;
        slot.tid = msg.tid;
      } else if ('rendering' in msg) {
        if (slot.job?.id === msg.id && slot.job.deadline.renderMs !== undefined) this.arm(slot, slot.job.deadline.renderMs);
        return;
      } else if (slot.job && slot.job.id === msg.id) {
        clearInterval(slot.timer);
        const job = slot.job;
        slot.job = undefined;
        worker.unref();
        job.resolve(msg);
      }
      this.pump();
    });
    worker.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        this.end(slot, new AppError('template.render_limit', `Rendering stopped: over the ${this.heapMb} MB heap of a render thread.`, { part: 'body', limit: 'memory' }));
      } else if (!slot.ready) {
        // The thread could not start: fail what waits (retryably) rather than start threads forever.
        this.end(slot, unavailable(err.message.slice(0, 200)));
        for (const job of this.queue.splice(0)) job.reject(unavailable(err.message.slice(0, 200)));
      } else {
        this.end(slot, new AppError('template.render_error', `Rendering failed: ${err.message.slice(0, 200)}.`, { part: 'body' }));
      }
    });
    worker.on('exit', () => this.end(slot, unavailable('the thread exited')));
  }

  /** Remove a thread (terminating it if it still runs) and fail its request with `err`. */
  private end(slot: Slot, err: unknown): void {
    const at = this.slots.indexOf(slot);
    if (at < 0) return;
    this.slots.splice(at, 1);
    clearInterval(slot.timer);
    const job = slot.job;
    slot.job = undefined;
    void slot.worker.terminate().catch(() => undefined);
    job?.reject(err);
    this.pump();
  }
}
