import { describe, expect, it } from 'vitest';
import type { EventType } from '../../catalog/index.ts';
import { buildKnownNames, isKnownPath } from './known.ts';

const type = (t: EventType['type'], name: string, paths: Record<string, string>): EventType => ({
  type: t, name, firstSeen: new Date(), lastSeen: new Date(), count24h: 0, count7d: 0, sample: {}, typeChanges: [],
  properties: Object.entries(paths).map(([path, dt]) => ({ path, type: dt, seenTypes: [dt], firstSeen: new Date(), lastSeen: new Date() })),
});

describe('buildKnownNames', () => {
  const known = buildKnownNames([
    type('identify', 'identify', { plan: 'string', company: 'object', 'company.name': 'string' }),
    type('track', 'Signed Up', { ref: 'string' }),
    type('track', 'Order Placed', { total: 'number', shipping: 'object', 'shipping.a': 'object', 'shipping.a.b': 'object' }),
    type('page', 'Pricing', { path: 'string' }),
    type('group', 'group', { seats: 'number' }),
  ]);

  it('takes attributes from identify (plus built-ins) and event properties from every track event', () => {
    expect([...known.attributes.keys()].sort()).toEqual(
      ['cio_id', 'company', 'company.name', 'created_at', 'email', 'id', 'locale', 'phone', 'plan', 'timezone'],
    );
    expect([...known.eventProperties.keys()].sort()).toEqual(['ref', 'shipping', 'shipping.a', 'shipping.a.b', 'total']);
  });

  it('knows paths, properties of leaf values, and depths the catalog does not record', () => {
    expect(isKnownPath(known.attributes, ['plan'])).toBe(true);
    expect(isKnownPath(known.attributes, ['plan', 'size'])).toBe(true);
    expect(isKnownPath(known.attributes, ['company', 'name'])).toBe(true);
    expect(isKnownPath(known.attributes, ['company', 'size'])).toBe(false);
    expect(isKnownPath(known.attributes, ['seats'])).toBe(false);
    expect(isKnownPath(known.eventProperties, ['shipping', 'a', 'b', 'c'])).toBe(true);
    expect(isKnownPath(known.eventProperties, ['path'])).toBe(false);
  });
});
