import { describe, expect, it } from 'vitest';
import { groupCommit } from './group-commit.ts';

describe('groupCommit', () => {
  it('flushes the calls of one turn together, and calls made during a flush together after it', async () => {
    const flushes: number[][] = [];
    let release: (() => void) | undefined;
    const call = groupCommit<string, number, number>(async (_key, items) => {
      flushes.push(items);
      if (flushes.length === 1) await new Promise<void>((r) => { release = r; });
      return items.map((n) => n * 10);
    });
    const first = [call('a', 1), call('a', 2), call('a', 3)];
    await new Promise((r) => setImmediate(r));
    // The first flush is running: these wait for it.
    const second = [call('a', 4), call('a', 5)];
    await new Promise((r) => setImmediate(r));
    expect(flushes).toEqual([[1, 2, 3]]);
    release!();
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50]);
    expect(flushes).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('keeps keys apart, caps a flush at `max`, and a lone call is answered at once', async () => {
    const flushes: Array<[string, number[]]> = [];
    const call = groupCommit<string, number, number>((key, items) => {
      flushes.push([key, items]);
      return Promise.resolve(items);
    }, { max: 2 });
    expect(await Promise.all([call('a', 1), call('b', 2), call('a', 3), call('a', 4)])).toEqual([1, 2, 3, 4]);
    expect(flushes).toEqual([['a', [1, 3]], ['b', [2]], ['a', [4]]]);
    expect(await call('c', 9)).toBe(9);
  });

  it('gives every caller of a failed flush its error, and goes on with the next', async () => {
    let fail = true;
    const call = groupCommit<string, number, number>((_key, items) => {
      if (fail) {
        fail = false;
        return Promise.reject(new Error('boom'));
      }
      return Promise.resolve(items);
    });
    const results = await Promise.allSettled([call('a', 1), call('a', 2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await call('a', 3)).toBe(3);
  });

  it('refuses a flush that answers the wrong number of results', async () => {
    const call = groupCommit<string, number, number>(() => Promise.resolve([]));
    await expect(call('a', 1)).rejects.toThrow(/0 results for 1 items/);
  });
});
