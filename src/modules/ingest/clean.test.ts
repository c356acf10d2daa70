import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { cleanJson, MAX_JSON_DEPTH } from './index.ts';
import { cleanString, fieldOf } from './clean.ts';

describe('cleanJson', () => {
  it('replaces NUL and lone surrogates in values and keys, and keeps good text as it is', () => {
    const body = JSON.parse('{"a":"x\\u0000y","b":["\\ud800",{"c\\u0000":"ok"}],"d":"😀 é"}') as Record<string, unknown>;
    expect(cleanJson(body)).toEqual({ a: 'x\uFFFDy', b: ['\uFFFD', { 'c\uFFFD': 'ok' }], d: '😀 é' });
  });

  it('keeps a "__proto__" key as data and never changes a prototype', () => {
    const body = JSON.parse('{"__proto__":{"polluted":true},"nested":{"__proto__":{"x":1}}}') as unknown;
    const out = cleanJson(body) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const nested = out.nested as Record<string, unknown>;
    expect(Object.getPrototypeOf(nested)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(nested, '__proto__')?.value).toEqual({ x: 1 });
  });

  it('refuses nesting deeper than the limit, naming the field', () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH + 1; i++) deep = { a: deep };
    try {
      cleanJson({ batch: [deep] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('request.invalid');
      expect((err as AppError).field).toMatch(/^batch\[0\]\.a\.a/);
    }
  });

  // Found by mutation testing (docs/testing.md): each of these was a surviving mutant.
  it('cleans a bare string, passes other scalars through, and keeps surrogate pairs', () => {
    expect(cleanJson('a\u0000b')).toBe('a\uFFFDb');
    expect(cleanJson(null)).toBeNull();
    expect([cleanJson(5), cleanJson(true), cleanJson(undefined)]).toEqual([5, true, undefined]);
    expect(cleanString('pair \uD83D\uDE00 kept')).toBe('pair \uD83D\uDE00 kept');
    expect(cleanString('lone low \uDE00, lone high \uD83D!')).toBe('lone low \uFFFD, lone high \uFFFD!');
    expect(cleanString('high then high \uD83D\uD83D\uDE00')).toBe('high then high \uFFFD\uD83D\uDE00');
  });

  it('cleans in place: a clean object or array is the same value afterwards', () => {
    const obj = { a: 'x', b: [1, 'y', { c: null }] };
    expect(cleanJson(obj)).toBe(obj);
    const arr = ['x\u0000', { k: 'v\u0000' }];
    expect(cleanJson(arr)).toBe(arr);
    expect(arr).toEqual(['x\uFFFD', { k: 'v\uFFFD' }]);
  });

  it('takes exactly the limit of nesting and refuses one more, in objects and in arrays alike', () => {
    const nest = (levels: number, wrap: (v: unknown) => unknown): unknown => {
      let v: unknown = 'leaf';
      for (let i = 0; i < levels; i++) v = wrap(v);
      return v;
    };
    for (const wrap of [(v: unknown) => ({ a: v }), (v: unknown) => [v]]) {
      expect(() => cleanJson(nest(MAX_JSON_DEPTH, wrap))).not.toThrow();
      expect(() => cleanJson(nest(MAX_JSON_DEPTH + 1, wrap))).toThrow(new RegExp(`nested deeper than ${MAX_JSON_DEPTH} levels`));
    }
  });

  it('names the field, and the body itself when the path is empty', () => {
    expect(fieldOf([])).toBe('body');
    expect(fieldOf(['batch', 3, 'userId'])).toBe('batch[3].userId');
    expect(fieldOf([0, 'a'])).toBe('[0].a');
  });
});
