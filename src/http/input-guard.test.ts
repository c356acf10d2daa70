import fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { sendError } from './errors.ts';
import { checkJsonDepth, dateProblem, guardValue, INPUT_LIMITS, registerInputGuard } from './input-guard.ts';
import type { TandemApp } from './types.ts';

function fieldOfFailure(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('request.invalid');
    return (err as AppError).field;
  }
  return undefined;
}

const nestedText = (n: number, leaf = '1') => '{"a":'.repeat(n) + leaf + '}'.repeat(n);

describe('checkJsonDepth (on the text, before parsing)', () => {
  it('accepts the limit and refuses one level more, naming the path', () => {
    expect(() => checkJsonDepth(nestedText(INPUT_LIMITS.maxDepth))).not.toThrow();
    const field = fieldOfFailure(() => checkJsonDepth(nestedText(INPUT_LIMITS.maxDepth + 1)));
    expect(field).toBe(Array(INPUT_LIMITS.maxDepth).fill('a').join('.'));
  });

  it('names array indexes and keys on the way, and ignores brackets inside strings', () => {
    const deep = '['.repeat(70) + ']'.repeat(70);
    const text = `{"batch":[{"x":"[[[[{{{{\\"]"},{"y":1,"attributes":${deep}}]}`;
    expect(fieldOfFailure(() => checkJsonDepth(text, 8))).toBe('batch[1].attributes[0][0][0][0][0]');
    expect(() => checkJsonDepth('{"s":"' + '['.repeat(1000) + '"}', 8)).not.toThrow();
  });

  it('refuses a 1 MB body of brackets without parsing it', () => {
    const started = Date.now();
    expect(fieldOfFailure(() => checkJsonDepth('['.repeat(500_000) + ']'.repeat(500_000)))).toMatch(/^\[0\]/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('guardValue (every parsed value, without recursion)', () => {
  it('refuses NUL and unpaired surrogates in values and keys, naming the field', () => {
    expect(fieldOfFailure(() => guardValue({ subject: 'a\u0000b' }, []))).toBe('subject');
    expect(fieldOfFailure(() => guardValue({ batch: [{}, { traits: { ['k\ud800']: 1 } }] }, []))).toBe('batch[1].traits.k\ud800');
    expect(fieldOfFailure(() => guardValue({ q: 'x\udc00' }, ['querystring']))).toBe('querystring.q');
    expect(fieldOfFailure(() => guardValue({ id: '\u0000' }, ['params']))).toBe('params.id');
    expect(guardValue({ emoji: '\ud83d\ude00', k: ['ok'] }, [])).toEqual({ emoji: '\ud83d\ude00', k: ['ok'] });
  });

  it('under the replace policy, makes text storable instead (ingest)', () => {
    const v = guardValue({ a: 'x\u0000y', ['k\ud800']: ['\udc00'], __proto__x: 1 }, [], 'replace') as Record<string, unknown>;
    expect(v).toEqual({ a: 'x\uFFFDy', ['k\uFFFD']: ['\uFFFD'], __proto__x: 1 });
    // A NUL-bearing key named __proto__ after cleaning stays plain data.
    const parsed = JSON.parse('{"__proto__\\u0000": {"polluted": true}}') as Record<string, unknown>;
    const cleaned = guardValue(parsed, [], 'replace') as Record<string, unknown>;
    expect(Object.keys(cleaned)).toEqual(['__proto__\uFFFD']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses nesting deeper than the limit on a value built 10,000 deep, without overflowing the stack', () => {
    let v: unknown = 1;
    for (let i = 0; i < 10_000; i++) v = { a: v };
    const field = fieldOfFailure(() => guardValue({ message_data: v }, []));
    expect(field?.startsWith('message_data.a.a')).toBe(true);
    expect(field?.split('.').length).toBe(INPUT_LIMITS.maxDepth);
  });

  it('refuses huge arrays and objects, and numbers that are not finite', () => {
    expect(fieldOfFailure(() => guardValue({ ids: new Array(INPUT_LIMITS.maxArrayItems + 1).fill(0) }, []))).toBe('ids');
    expect(guardValue({ ids: new Array(INPUT_LIMITS.maxArrayItems).fill(0) }, [])).toBeTruthy();
    const wide = Object.fromEntries(Array.from({ length: INPUT_LIMITS.maxObjectKeys + 1 }, (_, i) => [`k${i}`, i]));
    expect(fieldOfFailure(() => guardValue({ attributes: wide }, []))).toBe('attributes');
    expect(fieldOfFailure(() => guardValue(JSON.parse('{"n": [1, 1e400]}'), []))).toBe('n[1]');
  });

  it('refuses date-shaped strings that name no real date or leave years 0001-9999', () => {
    for (const bad of ['0000-01-01T00:00:00Z', '0000-01-01', '-000001-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '2024-02-30', '2024-13-01T00:00:00Z']) {
      expect(dateProblem(bad), bad).toBeDefined();
      expect(fieldOfFailure(() => guardValue({ batch: [{}, { timestamp: bad }] }, [])), bad).toBe('batch[1].timestamp');
    }
    for (const good of ['2026-01-02T03:04:05.000Z', '0001-01-01', '9999-12-31T23:59:59Z', '2024-02-29', 'not a date', '12345', '2026-01-02x']) {
      expect(dateProblem(good), good).toBeUndefined();
    }
    // Ingest keeps odd dates in free-form properties; only a call's own timestamps are checked.
    expect(guardValue({ properties: { dob: '0000-00-00' } }, [], 'replace')).toBeTruthy();
    expect(fieldOfFailure(() => guardValue({ batch: [{ timestamp: '0000-01-01T00:00:00Z' }] }, [], 'replace'))).toBe('batch[0].timestamp');
    expect(fieldOfFailure(() => guardValue({ sentAt: '0000-01-01T00:00:00Z' }, [], 'replace'))).toBe('sentAt');
  });
});

describe('registerInputGuard', () => {
  it('guards routes in plugin scopes registered after it: params, query and JSON bodies', async () => {
    const app = fastify() as unknown as TandemApp;
    registerInputGuard(app);
    app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
    let reached = 0;
    await app.register((scope: TandemApp, _opts, next) => {
      scope.post('/things/:id', () => { reached++; return Promise.resolve({ ok: true }); });
      scope.post('/ingest', { config: { inputText: 'replace' } }, (req) => { reached++; return Promise.resolve(req.body); });
      next();
    });
    await app.ready();
    const post = (url: string, payload: string, type = 'application/json') =>
      app.inject({ method: 'POST', url, payload, headers: { 'content-type': type } });

    const cases: Array<[string, string, string]> = [
      ['/things/%00', '{}', 'params.id'],
      ['/things/x?q=a%00', '{}', 'querystring.q'],
      ['/things/x', '{"name":"\\u0000"}', 'name'],
      ['/things/x', '{"name":"\\ud800"}', 'name'],
      ['/things/x', `{"data":${nestedText(10_000)}}`, `data.${Array(INPUT_LIMITS.maxDepth - 1).fill('a').join('.')}`],
    ];
    for (const [url, payload, field] of cases) {
      const res = await post(url, payload);
      expect(res.statusCode, `${url} ${payload.slice(0, 40)}`).toBe(400);
      expect(res.json<{ error: { code: string; field: string } }>().error).toMatchObject({ code: 'request.invalid', field });
    }
    // analytics.js sends JSON as text/plain: the same guard.
    expect((await post('/things/x', '{"name":"a\\u0000"}', 'text/plain')).statusCode).toBe(400);
    expect(reached).toBe(0);
    const ok = await post('/ingest', '{"name":"a\\u0000","k\\ud800":1}');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ name: 'a\uFFFD', 'k\uFFFD': 1 });
    await app.close();
  });
});
