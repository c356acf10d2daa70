import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { cleanJson } from '../ingest/index.ts';
import { correctTimestamp, MAX_DEPTH, normalizeBatch, normalizeSingle, parseIsoDate } from './normalize.ts';

const facts = { receivedAt: new Date('2026-01-01T12:00:00.000Z'), ip: '203.0.113.9' };

function failure(fn: () => unknown): { code: string; field: string | undefined } {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, field: err.field };
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('parseIsoDate', () => {
  it('reads the ISO-8601 forms clients send, offsets included, and no-offset times as UTC', () => {
    expect(parseIsoDate('2025-03-04T05:06:07.123Z')?.toISOString()).toBe('2025-03-04T05:06:07.123Z');
    expect(parseIsoDate('2025-03-04T05:06:07+02:00')?.toISOString()).toBe('2025-03-04T03:06:07.000Z');
    expect(parseIsoDate('2025-03-04T05:06:07-0130')?.toISOString()).toBe('2025-03-04T06:36:07.000Z');
    expect(parseIsoDate('2025-03-04T05:06:07.123456789Z')?.toISOString()).toBe('2025-03-04T05:06:07.123Z');
    expect(parseIsoDate('2025-03-04T05:06')?.toISOString()).toBe('2025-03-04T05:06:00.000Z');
    expect(parseIsoDate('2025-03-04')?.toISOString()).toBe('2025-03-04T00:00:00.000Z');
    expect(parseIsoDate('0099-01-01T00:00:00Z')?.getUTCFullYear()).toBe(99);
  });

  it('refuses what is not a real date', () => {
    for (const s of ['yesterday', '2025-02-30', '2025-13-01', '2025-03-04T25:00:00Z', '1700000000', '', '2025-03-04T05:06:07+25:00']) {
      expect(parseIsoDate(s), s).toBeNull();
    }
  });
});

describe('correctTimestamp (Segment clock-skew rule)', () => {
  const received = new Date('2026-01-01T12:00:00.000Z');
  it('shifts the timestamp by the client clock skew', () => {
    // Client clock is 1 hour fast: sent at 13:00 by its clock, event 5 min before that.
    const t = correctTimestamp(received, new Date('2026-01-01T12:55:00Z'), new Date('2026-01-01T13:00:00Z'));
    expect(t.toISOString()).toBe('2026-01-01T11:55:00.000Z');
  });
  it('keeps the timestamp without sentAt, and uses receivedAt without a timestamp', () => {
    const ts = new Date('2025-06-01T00:00:00Z');
    expect(correctTimestamp(received, ts, null)).toEqual(ts);
    expect(correctTimestamp(received, null, new Date('2020-01-01T00:00:00Z'))).toEqual(received);
  });
  it('keeps the given timestamp when the correction leaves the storable range', () => {
    const ts = new Date('0001-01-01T00:00:00Z');
    expect(correctTimestamp(received, ts, new Date('9999-01-01T00:00:00Z'))).toEqual(ts);
  });
});

describe('cleanJson', () => {
  it('replaces NUL and unpaired surrogates, keeps proper pairs and __proto__ as data', () => {
    const input = JSON.parse('{"a\\u0000":"x\\u0000y","b":"\\ud800","c":"😀","__proto__":{"polluted":1}}') as unknown;
    const out = cleanJson(input) as Record<string, unknown>;
    expect(out['a\uFFFD']).toBe('x\uFFFDy');
    expect(out.b).toBe('\uFFFD');
    expect(out.c).toBe('😀');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: 1 });
  });

  it('rejects nesting deeper than MAX_DEPTH, naming the path', () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_DEPTH + 5; i++) deep = { a: deep };
    const f = failure(() => normalizeSingle('track', { userId: 'u', event: 'e', properties: deep }, facts));
    expect(f.code).toBe('request.invalid');
    expect(f.field).toMatch(/^properties(\.a)+$/);
  });
});

describe('normalizeSingle / normalizeBatch', () => {
  it('coerces a numeric userId to a string and fills context.ip from the request', () => {
    const e = normalizeSingle('track', { userId: 42, event: 'Bought', context: { locale: 'fr' } }, facts);
    expect(e).toMatchObject({ type: 'track', userId: '42', name: 'Bought', context: { locale: 'fr', ip: '203.0.113.9' } });
    expect(e.timestamp).toEqual(facts.receivedAt);
  });

  it('keeps an ip the client sent', () => {
    const e = normalizeSingle('identify', { anonymousId: 'a', context: { ip: '198.51.100.1' } }, facts);
    expect(e.context?.ip).toBe('198.51.100.1');
  });

  it('names a page from properties.name when the call has no name, and keeps category', () => {
    const e = normalizeSingle('page', { userId: 'u', category: 'Docs', properties: { name: 'Pricing', path: '/p' } }, facts);
    expect(e).toMatchObject({ type: 'page', name: 'Pricing', properties: { name: 'Pricing', path: '/p', category: 'Docs' } });
  });

  it('merges the batch context under each call and uses the batch sentAt', () => {
    const [a, b] = normalizeBatch({
      sentAt: '2026-01-01T12:10:00Z',
      context: { library: { name: 'x' }, locale: 'en' },
      batch: [
        { type: 'track', userId: 'u', event: 'A', timestamp: '2026-01-01T12:09:00Z', context: { locale: 'de' } },
        { type: 'identify', userId: 'u', timestamp: '2026-01-01T12:09:00Z', sentAt: '2026-01-01T12:09:30Z' },
      ],
    }, facts);
    expect(a?.context).toMatchObject({ library: { name: 'x' }, locale: 'de' });
    expect(a?.timestamp.toISOString()).toBe('2026-01-01T11:59:00.000Z');
    expect(b?.timestamp.toISOString()).toBe('2026-01-01T11:59:30.000Z');
  });

  it('names the first failing field', () => {
    expect(failure(() => normalizeSingle('track', { event: 'x' }, facts))).toEqual({ code: 'event.missing_identity', field: 'userId' });
    expect(failure(() => normalizeSingle('track', { userId: '', anonymousId: null, event: 'x' }, facts)).code).toBe('event.missing_identity');
    expect(failure(() => normalizeSingle('track', { userId: true, event: 'x' }, facts))).toEqual({ code: 'request.invalid', field: 'userId' });
    expect(failure(() => normalizeSingle('alias', { anonymousId: 'a', previousId: 'p' }, facts))).toEqual({ code: 'event.missing_identity', field: 'userId' });
    expect(failure(() => normalizeSingle('identify', [], facts))).toEqual({ code: 'request.invalid', field: 'body' });
    expect(failure(() => normalizeBatch({ batch: [{ type: 'track', userId: 'u', event: 'e' }, { type: 'nope', userId: 'u' }] }, facts)))
      .toEqual({ code: 'request.invalid', field: 'batch[1].type' });
    expect(failure(() => normalizeBatch({ batch: [{ type: 'track', userId: 'u', event: 'e' }, 7] }, facts)))
      .toEqual({ code: 'request.invalid', field: 'batch[1]' });
    expect(failure(() => normalizeBatch({ batch: 'x' }, facts))).toEqual({ code: 'request.invalid', field: 'batch' });
    expect(failure(() => normalizeBatch({ batch: [], sentAt: 'soon' }, facts))).toEqual({ code: 'request.invalid', field: 'sentAt' });
    expect(failure(() => normalizeBatch({ batch: Array.from({ length: 2501 }, () => ({})) }, facts)))
      .toEqual({ code: 'batch.too_large', field: 'batch' });
  });
});

describe('jsonBytesOver', () => {
  it('agrees with the exact UTF-8 size of the JSON around the limit', async () => {
    const { jsonBytesOver } = await import('./normalize.ts');
    const cases: unknown[] = [
      { a: 'x'.repeat(100) }, { a: 'x'.repeat(1000) }, { a: 'é'.repeat(400) }, { a: '😀'.repeat(300) },
      { n: Array.from({ length: 200 }, (_, i) => i * 1.5) }, { deep: { a: [{ b: 'x'.repeat(900) }, null, true] } },
      'x'.repeat(1100), 12345, null, { c: '\u0001'.repeat(200) }, { c: '\u0001'.repeat(50) },
    ];
    for (const limit of [256, 1024, 4096]) {
      for (const c of cases) {
        const exact = Buffer.byteLength(JSON.stringify(c)) > limit;
        expect(jsonBytesOver(c, limit), `${limit} ${JSON.stringify(c).slice(0, 30)}`).toBe(exact);
      }
    }
  });
});
