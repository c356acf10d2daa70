// Group commit: many callers' small statements become one. A call is queued; the queue of a key is
// flushed once the current turn of the event loop is over (setImmediate), so callers that reach it in
// the same turn share a statement, and while a flush of that key runs, new calls wait for it to end and
// then go together. A lone call waits for nothing but the end of its turn. `flush` answers one result
// per item, in order; when it throws, every caller of that flush gets the error.

export interface GroupCommitOptions {
  /** Items per flush at most (more wait for the next flush). */
  max?: number;
}

interface Pending<I, O> { item: I; resolve: (o: O) => void; reject: (err: unknown) => void }

interface Queue<I, O> { items: Array<Pending<I, O>>; running: boolean; scheduled: boolean }

export function groupCommit<K, I, O>(flush: (key: K, items: I[]) => Promise<O[]>, opts: GroupCommitOptions = {}): (key: K, item: I) => Promise<O> {
  const max = opts.max ?? 500;
  const queues = new Map<K, Queue<I, O>>();

  function schedule(key: K, q: Queue<I, O>): void {
    if (q.running || q.scheduled || q.items.length === 0) return;
    q.scheduled = true;
    setImmediate(() => {
      q.scheduled = false;
      void run(key, q);
    });
  }

  async function run(key: K, q: Queue<I, O>): Promise<void> {
    const batch = q.items.splice(0, max);
    if (batch.length === 0) return;
    q.running = true;
    try {
      const out = await flush(key, batch.map((p) => p.item));
      if (out.length !== batch.length) throw new Error(`group commit: ${out.length} results for ${batch.length} items`);
      batch.forEach((p, i) => p.resolve(out[i] as O));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      q.running = false;
      if (q.items.length > 0) schedule(key, q);
      else queues.delete(key);
    }
  }

  return (key, item) => new Promise<O>((resolve, reject) => {
    let q = queues.get(key);
    if (!q) {
      q = { items: [], running: false, scheduled: false };
      queues.set(key, q);
    }
    q.items.push({ item, resolve, reject });
    schedule(key, q);
  });
}
