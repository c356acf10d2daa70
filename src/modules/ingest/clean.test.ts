import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { cleanJson, MAX_JSON_DEPTH } from './index.ts';

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
});
