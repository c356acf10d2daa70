// Two chunks of an import are written at once when they cannot touch the same people: the database then
// works on both (on two cores, 1.5-1.8 times the rows per second of one). A chunk waits for an earlier
// one that shares an id, email or phone with it (before it starts), or that updates one of the same
// existing people (at its gate, after its lookup). So a file gives the same result as one written chunk
// by chunk in order: a person's rows are applied in file order.

/**
 * Called by a chunk after its lookup with the existing people its rows resolve to. Answers true when it
 * had to wait for other chunks to commit: the chunk must then look up again (their writes are visible).
 */
export type Gate = (existing: readonly string[]) => Promise<boolean>;

interface Slot {
  seq: number;
  keys: ReadonlySet<string>;
  /** Existing people this chunk updates, once published. */
  persons: Set<string>;
  published: boolean;
  finished: boolean;
  /** Settles when `persons` is published (or the chunk has ended). */
  gated: Promise<void>;
  markGated: () => void;
  done: Promise<void>;
}

const settled = (p: Promise<void>) => p.catch(() => undefined);

function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [small, large] = a.size < b.size ? [a, b] : [b, a];
  for (const k of small) if (large.has(k)) return true;
  return false;
}

export function createLanes(width: number) {
  const running = new Set<Slot>();
  let seq = 0;

  return {
    /**
     * Starts `task` once a lane is free and every earlier chunk sharing a key with it has ended; answers
     * when it has started, with its completion. One caller at a time (the file is read in order).
     */
    async start(keys: ReadonlySet<string>, task: (gate: Gate) => Promise<void>): Promise<{ done: Promise<void> }> {
      while (running.size >= width) await Promise.race([...running].map((s) => settled(s.done)));
      for (const s of [...running]) if (intersects(s.keys, keys)) await settled(s.done);
      let markGated = () => {};
      const slot: Slot = {
        seq: ++seq, keys, persons: new Set(), published: false, finished: false,
        gated: new Promise<void>((r) => (markGated = r)), markGated: () => markGated(), done: Promise.resolve(),
      };
      const earlier = [...running];
      running.add(slot);

      const gate: Gate = async (existing) => {
        if (!slot.published) {
          for (const e of earlier) await e.gated;
          const blocking = earlier.filter((e) => !e.finished && existing.some((id) => e.persons.has(id)));
          if (blocking.length > 0) {
            await Promise.all(blocking.map((e) => settled(e.done)));
            return true;
          }
          for (const id of existing) slot.persons.add(id);
          slot.published = true;
          slot.markGated();
          return false;
        }
        if (existing.every((id) => slot.persons.has(id))) return false;
        // A retried attempt reaches people it had not announced. Announce them first (a later chunk that
        // has not passed its gate will wait for this one), then let the later chunks already writing end.
        for (const id of existing) slot.persons.add(id);
        const writing = [...running].filter((s) => s.seq > slot.seq && s.published && !s.finished);
        await Promise.all(writing.map((s) => settled(s.done)));
        return true;
      };

      slot.done = task(gate).finally(() => {
        slot.finished = true;
        running.delete(slot);
        slot.markGated();
      });
      return { done: slot.done };
    },

    /** Settles when every started chunk has ended (whatever their outcome). */
    async drain(): Promise<void> {
      await Promise.all([...running].map((s) => settled(s.done)));
    },
  };
}
