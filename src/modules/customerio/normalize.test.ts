// Pure normalisation of Customer.io payloads: identifiers, timestamps, attributes, v2 operations.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { attributes, cleanJson, identifierObject, pathIdentifier, unixTime, v1Event, v1Identify } from './normalize.ts';
import { v2Batch, v2Operation } from './v2.ts';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err.field;
    throw err;
  }
  return undefined;
}

describe('Customer.io normalisation', () => {
  it('reads path identifiers as Customer.io does', () => {
    expect(pathIdentifier('42')).toEqual({ kind: 'id', value: '42' });
    expect(pathIdentifier('ann@example.com')).toEqual({ kind: 'email', value: 'ann@example.com' });
    expect(pathIdentifier('cio_0f8e')).toEqual({ kind: 'cio_id', value: '0f8e' });
    expect(fieldOf(() => pathIdentifier(''))).toBe('identifier');
    expect(identifierObject({ cio_id: 'cio_abc' }, 'primary')).toEqual({ kind: 'cio_id', value: 'abc' });
    expect(identifierObject({ id: 7 }, 'primary')).toEqual({ kind: 'id', value: '7' });
    expect(fieldOf(() => identifierObject({}, 'primary'))).toBe('primary');
    expect(fieldOf(() => identifierObject({ anonymous_id: 'a' }, 'identifiers'))).toBe('identifiers.anonymous_id');
    expect(identifierObject({ anonymous_id: 'a' }, 'identifiers', { anonymous: true })).toEqual({ kind: 'anonymous_id', value: 'a' });
  });

  it('reads unix seconds and refuses milliseconds and junk', () => {
    expect(unixTime(1700000000, 't')?.toISOString()).toBe('2023-11-14T22:13:20.000Z');
    expect(unixTime('1700000000', 't')?.toISOString()).toBe('2023-11-14T22:13:20.000Z');
    expect(unixTime(undefined, 't')).toBeNull();
    for (const bad of [1700000000000, -1, 'soon', {}, Number.NaN]) expect(fieldOf(() => unixTime(bad, 't'))).toBe('t');
  });

  it('turns "" into a removal and makes strings storable', () => {
    expect(attributes({ a: '', b: null, c: 'x\u0000y', d: { e: '\uD800' } }, '')).toEqual({ a: null, b: null, c: 'x\uFFFDy', d: { e: '\uFFFD' } });
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(fieldOf(() => cleanJson(deep, 'data'))).toMatch(/^data(\[0\])+$/);
  });

  it('splits a v1 identify body into attributes and steering keys', () => {
    const [op, rel] = v1Identify({ kind: 'email', value: 'a@b.co' }, {
      id: 'u1', _update: true, _timestamp: 1700000000, anonymous_id: 'anon', plan: 'x',
      cio_relationships: { relationships: [{ identifiers: { object_type_id: 1, object_id: 'acme' } }] },
    });
    expect(op).toMatchObject({ op: 'identify', newId: 'u1', updateOnly: true, anonymousId: 'anon', attributes: { plan: 'x' } });
    expect(rel).toMatchObject({ op: 'relate', objects: [{ type: '1', id: 'acme', attributes: {} }], create: false });
    // An id path cannot rename the person (Customer.io needs cio_id for that).
    expect(v1Identify({ kind: 'id', value: 'u1' }, { id: 'u2' })[0]).toMatchObject({ newId: null, attributes: {} });
  });

  it('maps event types: page and screen are views, anything else an event', () => {
    expect(v1Event({ kind: 'id', value: 'u' }, { name: 'x', type: 'page' })).toMatchObject({ type: 'page' });
    expect(v1Event({ kind: 'id', value: 'u' }, { name: 'x', type: 'custom' })).toMatchObject({ type: 'track' });
    expect(v1Event(null, { name: 'x' })).toMatchObject({ who: null });
    expect(v1Event(null, { name: 'x', anonymous_id: 'a1' })).toMatchObject({ who: { kind: 'anonymous_id', value: 'a1' } });
  });

  it('names the failing field of a v2 operation, inside a batch too', () => {
    expect(fieldOf(() => v2Operation({ type: 'person', identifiers: { id: 'x' }, action: 'page' }))).toBe('name');
    expect(fieldOf(() => v2Operation({ type: 'object', identifiers: { object_type_id: '1', cio_object_id: 'o' }, action: 'identify' })))
      .toBe('identifiers.cio_object_id');
    const items = v2Batch({ batch: [{ type: 'person', identifiers: { id: 'x' }, action: 'identify' }, { type: 'person', identifiers: { id: 'x' }, action: 'merge', primary: { id: 'a' } }] });
    expect('ops' in items[0]! && items[0].ops).toHaveLength(1);
    expect('error' in items[1]! && items[1].error.field).toBe('batch[1].secondary');
  });
});
