// Type inference and flattening of event properties (pure; no database).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catalogName, flattenProperties, inferType, MAX_DEPTH, type DataType } from './infer.ts';

function flat(props: Record<string, unknown>, max?: number): Array<[string, DataType]> {
  const out: Array<[string, DataType]> = [];
  flattenProperties(props, (p, t) => out.push([p, t]), max);
  return out;
}

describe('inferType', () => {
  it('names the JSON types and ISO-8601 date-times', () => {
    expect(inferType('pro')).toBe('string');
    expect(inferType('')).toBe('string');
    expect(inferType(0)).toBe('number');
    expect(inferType(-1.5)).toBe('number');
    expect(inferType(false)).toBe('boolean');
    expect(inferType(null)).toBe('null');
    expect(inferType([1, 'a'])).toBe('array');
    expect(inferType({})).toBe('object');
    expect(inferType('2026-01-31T10:00:00Z')).toBe('datetime');
    expect(inferType('2026-01-31T10:00:00.123+02:00')).toBe('datetime');
    expect(inferType('2026-01-31T10:00')).toBe('datetime');
  });

  it('keeps strings that only look like dates as strings', () => {
    expect(inferType('2026-01-31')).toBe('string');
    expect(inferType('2026-13-01T10:00:00Z')).toBe('string');
    expect(inferType('2026-01-31T25:00:00Z')).toBe('string');
    expect(inferType('order 2026-01-31T10:00:00Z')).toBe('string');
    expect(inferType('2026-01-31T10:00:00Z and more')).toBe('string');
  });

  it('recognises every ISO string Date produces', () => {
    fc.assert(fc.property(fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
      (d) => inferType(d.toISOString()) === 'datetime'));
  });
});

describe('flattenProperties', () => {
  it('reports nested objects and their keys as dotted paths', () => {
    expect(flat({ plan: 'pro', address: { city: 'Oslo', geo: { lat: 59.9 } }, tags: ['a'] })).toEqual([
      ['plan', 'string'], ['address', 'object'], ['address.city', 'string'], ['address.geo', 'object'],
      ['address.geo.lat', 'number'], ['tags', 'array'],
    ]);
  });

  it(`stops at ${MAX_DEPTH} levels`, () => {
    expect(flat({ a: { b: { c: { d: 1 } } } })).toEqual([['a', 'object'], ['a.b', 'object'], ['a.b.c', 'object']]);
  });

  it('visits at most the cap of paths', () => {
    const wide = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, { x: i }]));
    const out = flat(wide);
    expect(out).toHaveLength(200);
    expect(out[198]).toEqual(['k99', 'object']);
    expect(out[199]).toEqual(['k99.x', 'number']);
    expect(flat({ a: 1, b: 2, c: 3 }, 2)).toEqual([['a', 'number'], ['b', 'number']]);
  });

  it('never visits more than the cap, deeper than the depth limit, or a path twice', () => {
    const { tree } = fc.letrec<{ tree: Record<string, unknown> }>((tie) => ({
      tree: fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/),
        fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string(), fc.constant(null), tie('tree')), { maxKeys: 40 }),
    }));
    fc.assert(fc.property(tree, (props) => {
      const out = flat(props);
      const paths = out.map(([p]) => p);
      expect(out.length).toBeLessThanOrEqual(200);
      expect(new Set(paths).size).toBe(paths.length);
      for (const p of paths) expect(p.split('.').length).toBeLessThanOrEqual(MAX_DEPTH);
      for (const key of Object.keys(props)) if (out.length < 200) expect(paths).toContain(key);
    }));
  });
});

describe('catalogName', () => {
  it('names track, page and screen by name, the others by type', () => {
    expect(catalogName('track', 'Signed Up')).toBe('Signed Up');
    expect(catalogName('page', null)).toBe('(unnamed)');
    expect(catalogName('screen', '')).toBe('(unnamed)');
    expect(catalogName('identify', null)).toBe('identify');
    expect(catalogName('group', null)).toBe('group');
    expect(catalogName('alias', null)).toBe('alias');
  });
});
