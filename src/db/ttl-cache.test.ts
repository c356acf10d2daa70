import { describe, expect, it } from 'vitest';
import { ttlCache } from './ttl-cache.ts';

describe('ttlCache', () => {
  it('shares one load among concurrent readers, keeps it ttlMs, and forgets on demand', async () => {
    let t = 0;
    let loads = 0;
    const cache = ttlCache<string, number>(100, (k) => {
      loads++;
      return Promise.resolve(k.length * 10 + loads);
    }, { now: () => t });
    expect(await Promise.all([cache.get('ab'), cache.get('ab'), cache.get('ab')])).toEqual([21, 21, 21]);
    expect(loads).toBe(1);
    t = 99;
    expect(await cache.get('ab')).toBe(21);
    t = 100;
    expect(await cache.get('ab')).toBe(22);
    cache.forget('ab');
    expect(await cache.get('ab')).toBe(23);
    expect(loads).toBe(3);
  });

  it('does not keep a failed load', async () => {
    let fail = true;
    const cache = ttlCache<string, string>(1_000, (k) => (fail ? Promise.reject(new Error('down')) : Promise.resolve(k)));
    await expect(cache.get('a')).rejects.toThrow('down');
    fail = false;
    expect(await cache.get('a')).toBe('a');
  });
});
