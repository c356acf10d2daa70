import { describe, expect, it } from 'vitest';
import { createLanes, type Gate } from './lanes.ts';

/** A promise with its resolve, to hold a task at a point of the test's choosing. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('import lanes', () => {
  it('runs two chunks at once when they share no key, and never more than the width', async () => {
    const lanes = createLanes(2);
    const log: string[] = [];
    const holds = [latch(), latch(), latch()];
    const task = (name: string, hold: Promise<void>) => async (gate: Gate) => {
      log.push(`${name} start`);
      await gate([]);
      await hold;
      log.push(`${name} end`);
    };
    const a = await lanes.start(new Set(['u:a']), task('a', holds[0]!.promise));
    const b = await lanes.start(new Set(['u:b']), task('b', holds[1]!.promise));
    expect(log).toEqual(['a start', 'b start']);
    const third = lanes.start(new Set(['u:c']), task('c', holds[2]!.promise));
    await tick();
    expect(log).toEqual(['a start', 'b start']); // both lanes busy
    holds[1]!.open();
    await b.done;
    const c = await third;
    expect(log).toEqual(['a start', 'b start', 'b end', 'c start']);
    holds[0]!.open();
    holds[2]!.open();
    await Promise.all([a.done, c.done]);
    await lanes.drain();
  });

  it('starts a chunk that shares an id, email or phone with an earlier one only after it has ended', async () => {
    const lanes = createLanes(2);
    const log: string[] = [];
    const hold = latch();
    const a = await lanes.start(new Set(['u:a', 'e:a@x.io']), async () => {
      await hold.promise;
      log.push('a end');
    });
    const b = lanes.start(new Set(['e:a@x.io']), async () => {
      log.push('b start');
      await Promise.resolve();
    });
    await tick();
    expect(log).toEqual([]);
    hold.open();
    await (await b).done;
    await a.done;
    expect(log).toEqual(['a end', 'b start']);
  });

  it('holds a chunk at its gate while an earlier one updates the same person, then has it look up again', async () => {
    const lanes = createLanes(2);
    const log: string[] = [];
    const hold = latch();
    const a = await lanes.start(new Set(['u:p-1']), async (gate) => {
      expect(await gate(['person-1'])).toBe(false);
      await hold.promise;
      log.push('a committed');
    });
    const answers: boolean[] = [];
    const b = await lanes.start(new Set(['e:p1@x.io']), async (gate) => {
      answers.push(await gate(['person-1', 'person-2'])); // resolved to the same existing person by email
      log.push('b past gate');
      answers.push(await gate(['person-1', 'person-2']));
      log.push('b writes');
    });
    await tick();
    expect(log).toEqual([]);
    hold.open();
    await Promise.all([a.done, b.done]);
    expect(log).toEqual(['a committed', 'b past gate', 'b writes']);
    expect(answers).toEqual([true, false]);
  });

  it('a later chunk waits for an earlier one to announce its people before comparing', async () => {
    const lanes = createLanes(2);
    const log: string[] = [];
    const lookup = latch();
    const commit = latch();
    const a = await lanes.start(new Set(['u:a']), async (gate) => {
      await lookup.promise; // a's lookup is slow: b reaches its gate first
      await gate(['person-9']);
      log.push('a announced');
      await commit.promise;
      log.push('a committed');
    });
    const b = await lanes.start(new Set(['u:b']), async (gate) => {
      const again = await gate(['person-9']);
      log.push(`b gate ${again}`);
      if (again) await gate(['person-9']);
    });
    await tick();
    expect(log).toEqual([]);
    lookup.open();
    await tick();
    expect(log).toEqual(['a announced']);
    commit.open();
    await Promise.all([a.done, b.done]);
    expect(log).toEqual(['a announced', 'a committed', 'b gate true']);
  });

  it('a retried attempt that reaches new people waits for later chunks already writing', async () => {
    const lanes = createLanes(2);
    const log: string[] = [];
    const bWrites = latch();
    const retry = latch();
    const a = await lanes.start(new Set(['u:a']), async (gate) => {
      await gate(['person-1']);
      await retry.promise; // the first attempt rolled back; the retry resolves a row to person-2
      const again = await gate(['person-1', 'person-2']);
      log.push(`a retry gate ${again}`);
    });
    const b = await lanes.start(new Set(['u:b']), async (gate) => {
      await gate(['person-2']);
      log.push('b writing');
      await bWrites.promise;
      log.push('b committed');
    });
    await tick();
    retry.open();
    await tick();
    expect(log).toEqual(['b writing']);
    bWrites.open();
    await Promise.all([a.done, b.done]);
    expect(log).toEqual(['b writing', 'b committed', 'a retry gate true']);
  });

  it('a failed chunk frees its lane and its keys', async () => {
    const lanes = createLanes(1);
    const a = await lanes.start(new Set(['u:a']), () => Promise.reject(new Error('boom')));
    await expect(a.done).rejects.toThrow('boom');
    const b = await lanes.start(new Set(['u:a']), async () => {});
    await b.done;
    await lanes.drain();
  });
});
