// A small read-through cache for what every send reads (settings, senders, templates): an entry is
// kept `ttlMs`, concurrent readers of a missing entry share one load (a batch of sends starting at
// once makes one query, not fifty), a failed load is not kept, and forget() drops an entry at once
// (for the changes this process makes; other processes' show within ttlMs).

export interface TtlCache<K, V> {
  get(key: K): Promise<V>;
  forget(key: K): void;
}

export function ttlCache<K, V>(ttlMs: number, load: (key: K) => Promise<V>, opts: { max?: number; now?: () => number } = {}): TtlCache<K, V> {
  const max = opts.max ?? 10_000;
  const now = opts.now ?? Date.now;
  const entries = new Map<K, { at: number; value: Promise<V> }>();
  return {
    get(key) {
      const at = now();
      const hit = entries.get(key);
      if (hit && at - hit.at < ttlMs) return hit.value;
      const entry = { at, value: load(key) };
      if (entries.size >= max) entries.clear();
      entries.set(key, entry);
      entry.value.catch(() => {
        if (entries.get(key) === entry) entries.delete(key);
      });
      return entry.value;
    },
    forget(key) {
      entries.delete(key);
    },
  };
}
