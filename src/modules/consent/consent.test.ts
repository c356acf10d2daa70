// check() truth table, state changes with their ledger rows and hook calls, suppressions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';
import { createConsentService } from './service.ts';
import type { ConsentChange, ConsentService } from './index.ts';
import type { ConfirmationMessage } from './confirmation.ts';

let t: TestTandem;
let ws: CreatedWorkspace;
let consent: ConsentService;
const changes: ConsentChange[] = [];
const confirmations: ConfirmationMessage[] = [];
let n = 0;

async function person(traits: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const userId = `c-${++n}`;
  const email = `Person${n}@Example.com`;
  await t.services.ingest.ingest(ws.workspaceId, [{ type: 'identify', userId, traits: { email, phone: '+1 555 000 0000', ...traits }, timestamp: new Date() }], { source: 'api' });
  const id = await t.services.people.find(ws.workspaceId, { userId });
  if (!id) throw new Error('not stored');
  return { id, email };
}

beforeAll(async () => {
  t = await createTestTandem();
  ws = await t.workspace('Consent');
  const s = t.services;
  consent = createConsentService({ db: s.db, clock: s.clock, config: s.config, signing: s.signing, people: s.people, peopleQuery: s.peopleQuery, workspaces: s.workspaces });
  consent.onChange(async (tx, c) => {
    // Inside the transaction: the ledger row is visible to the hook.
    const row = await tx.selectFrom('consent_ledger').select('id').where('workspace_id', '=', c.workspaceId).where('id', '=', c.ledgerId).executeTakeFirst();
    expect(row).toBeDefined();
    changes.push(c);
  });
  consent.useConfirmations((_tx, _ws, m) => { confirmations.push(m); return Promise.resolve(); });
  await consent.createTopic(ws.workspaceId, { key: 'news', name: 'News', default: 'opt_out', channel: 'email' });
  await consent.createTopic(ws.workspaceId, { key: 'offers', name: 'Offers', default: 'opt_in', channel: 'email', doubleOptIn: true });
  await consent.createTopic(ws.workspaceId, { key: 'tips', name: 'Tips', default: 'opt_in', channel: 'any' });
});
afterAll(async () => { await t.close(); });

describe('check()', () => {
  const email = (marketing: boolean, topic?: string, sendToUnsubscribed?: boolean) =>
    ({ channel: 'email' as const, marketing, ...(topic ? { topic } : {}), ...(sendToUnsubscribed ? { sendToUnsubscribed } : {}) });

  it('follows the truth table', async () => {
    const ws0 = ws.workspaceId;
    const p = await person();
    const ctx = { source: 'api' as const };
    const verdict = async (what: ReturnType<typeof email>) => {
      const r = await consent.check(ws0, { personId: p.id }, what);
      return r.allowed ? 'allowed' : r.reason;
    };
    // Fresh person: opt-out topics and no topic allowed; opt-in topics not yet.
    expect(await verdict(email(true))).toBe('allowed');
    expect(await verdict(email(true, 'news'))).toBe('allowed');
    expect(await verdict(email(true, 'tips'))).toBe('not_opted_in');
    expect(await verdict(email(false, 'tips'))).toBe('allowed');
    // Pending (double opt-in) is not yet subscribed.
    const sub = await consent.subscribe(ws0, p.id, 'offers', { source: 'form' });
    expect(sub.state).toBe('pending');
    expect(sub.confirmUrl).toMatch(/\/confirm\/[\w-]+\.[\w-]+$/);
    expect(await verdict(email(true, 'offers'))).toBe('not_opted_in');
    // Asking again (the API's `true`) neither subscribes nor sends a second confirmation the same day.
    await consent.setConsent(ws0, p.id, { topics: { offers: true, tips: true, news: false } }, ctx);
    expect(await verdict(email(true, 'offers'))).toBe('not_opted_in');
    expect(confirmations.filter((m) => m.personId === p.id).map((m) => [m.channel, m.to, m.data.topic])).toEqual([['email', p.email.toLowerCase(), 'Offers']]);
    await consent.confirmTopic(ws0, p.id, 'offers', {});
    expect(await verdict(email(true, 'offers'))).toBe('allowed');
    expect(await verdict(email(true, 'tips'))).toBe('allowed');
    expect(await verdict(email(true, 'news'))).toBe('topic_unsubscribed');
    expect(await verdict(email(false, 'news'))).toBe('allowed');
    await consent.setConsent(ws0, p.id, { topics: { tips: false } }, ctx);
    expect(await verdict(email(true, 'tips'))).toBe('topic_unsubscribed');
    // Global unsubscribe: marketing blocked unless sendToUnsubscribed, transactional allowed.
    await consent.setConsent(ws0, p.id, { unsubscribedAll: { email: true } }, ctx);
    expect(await verdict(email(true))).toBe('unsubscribed');
    expect(await verdict(email(true, 'offers'))).toBe('unsubscribed');
    expect(await verdict(email(true, 'offers', true))).toBe('allowed');
    expect(await verdict(email(true, 'news', true))).toBe('topic_unsubscribed');
    expect(await verdict(email(false))).toBe('allowed');
    expect((await consent.check(ws0, { personId: p.id }, { channel: 'sms', marketing: true })).allowed).toBe(true);
    // Suppressed: nothing at all, whatever the flags.
    await consent.suppress(ws0, 'email', p.email, 'hard_bounce', 'bounce');
    expect(await verdict(email(false))).toBe('suppressed');
    expect(await verdict(email(true, 'offers', true))).toBe('suppressed');
    expect(await consent.check(ws0, { email: p.email.toUpperCase() }, email(false))).toEqual({ allowed: false, reason: 'suppressed' });
    expect((await consent.check(ws0, { personId: p.id }, { channel: 'sms', marketing: false })).allowed).toBe(true);
    await consent.suppress(ws0, 'sms', '+15550000000', 'manual', 'admin');
    expect(await consent.check(ws0, { personId: p.id }, { channel: 'sms', marketing: false })).toEqual({ allowed: false, reason: 'suppressed' });
    // Unknown topics are an error, not a silent send.
    await expect(consent.check(ws0, { personId: (await person()).id }, email(true, 'nope'))).rejects.toMatchObject({ code: 'topic.not_found' });
  });

  it('never sends to a deleted-and-suppressed person', async () => {
    const p = await person();
    await t.services.people.deleteAndSuppress(ws.workspaceId, { id: p.id });
    expect(await consent.check(ws.workspaceId, { personId: p.id }, email(false))).toEqual({ allowed: false, reason: 'suppressed' });
    expect(await consent.check(ws.workspaceId, { email: p.email }, email(false))).toEqual({ allowed: false, reason: 'suppressed' });
    expect(await consent.check(ws.workspaceId, { email: 'someone-else@example.com' }, email(false))).toEqual({ allowed: true });
  });
});

describe('changes', () => {
  it('writes state, ledger and hook in one go, and nothing for no-op changes', async () => {
    const p = await person();
    changes.length = 0;
    const ctx = { source: 'preference_centre' as const, ip: '203.0.113.9', userAgent: 'Mail/1.0', messageId: 'msg-1' };
    // news is opt-out: subscribing is a no-op; tips subscribed and a global sms unsubscribe are two changes.
    const made = await consent.setConsent(ws.workspaceId, p.id, { topics: { news: true, tips: true }, unsubscribedAll: { sms: true, email: false } }, ctx);
    expect(made.map((c) => [c.kind, c.topic, c.channel, c.from, c.to])).toEqual([
      ['topic', 'tips', 'any', 'unsubscribed', 'subscribed'],
      ['global', null, 'sms', 'subscribed', 'unsubscribed'],
    ]);
    expect(changes).toEqual(made);
    expect(made[0]).toMatchObject({ personId: p.id, address: p.email.toLowerCase(), source: 'preference_centre', ip: '203.0.113.9', userAgent: 'Mail/1.0', messageId: 'msg-1' });
    expect(made[1]?.address).toBe('+15550000000');
    expect(await consent.setConsent(ws.workspaceId, p.id, { topics: { news: true, tips: true }, unsubscribedAll: { sms: true } }, ctx)).toEqual([]);
    const ledger = await consent.ledger(ws.workspaceId, { personId: p.id });
    expect(ledger.map((e) => [e.topic, e.from, e.to, e.source, e.ip, e.userAgent, e.messageId])).toEqual([
      [null, 'subscribed', 'unsubscribed', 'preference_centre', '203.0.113.9', 'Mail/1.0', 'msg-1'],
      ['tips', 'unsubscribed', 'subscribed', 'preference_centre', '203.0.113.9', 'Mail/1.0', 'msg-1'],
    ]);
    const state = await consent.state(ws.workspaceId, p.id);
    expect(state.unsubscribedAll).toEqual({ email: false, sms: true });
    expect(state.topics.map((x) => [x.key, x.state, x.explicit])).toEqual([['news', 'subscribed', false], ['offers', 'unsubscribed', false], ['tips', 'subscribed', true]]);
  });

  it('rolls back every change when one names an unknown topic', async () => {
    const p = await person();
    await expect(consent.setConsent(ws.workspaceId, p.id, { unsubscribedAll: { email: true }, topics: { nope: false } }, { source: 'api' }))
      .rejects.toMatchObject({ code: 'topic.not_found', field: 'topics.nope' });
    expect((await consent.state(ws.workspaceId, p.id)).unsubscribedAll.email).toBe(false);
    expect(await consent.ledger(ws.workspaceId, { personId: p.id })).toEqual([]);
  });

  it('a complaint suppresses and unsubscribes from all email (source complaint); replays change nothing', async () => {
    const p = await person();
    changes.length = 0;
    expect(await consent.suppress(ws.workspaceId, 'email', p.email, 'complaint', 'complaint', { messageId: 'm-9' })).toBe(true);
    expect(await consent.suppress(ws.workspaceId, 'email', p.email, 'complaint', 'complaint', { messageId: 'm-9' })).toBe(false);
    expect(changes.map((c) => [c.kind, c.from, c.to, c.source])).toEqual([
      ['suppression', 'allowed', 'suppressed', 'complaint'], ['global', 'subscribed', 'unsubscribed', 'complaint'],
    ]);
    expect((await consent.state(ws.workspaceId, p.id)).unsubscribedAll.email).toBe(true);
    expect(await consent.suppression(ws.workspaceId, 'email', p.email)).toMatchObject({ address: p.email.toLowerCase(), reason: 'complaint' });
    expect(await consent.unsuppress(ws.workspaceId, 'email', p.email)).toBe(true);
    expect(await consent.unsuppress(ws.workspaceId, 'email', p.email)).toBe(false);
    await expect(consent.suppress(ws.workspaceId, 'sms', 'not a phone', 'manual', 'admin')).rejects.toMatchObject({ code: 'consent.invalid_address' });
  });
});

describe('merges', () => {
  const email = (marketing: boolean, topic?: string) => ({ channel: 'email' as const, marketing, ...(topic ? { topic } : {}) });

  it('keeps an opt-out that only the merged-away profile held (the wired services)', async () => {
    const c = t.services.consent;
    const kept = await person();
    const merged = await person();
    await c.setConsent(ws.workspaceId, merged.id, { unsubscribedAll: { email: true }, topics: { news: false } }, { source: 'api' });
    await c.setConsent(ws.workspaceId, kept.id, { topics: { tips: true } }, { source: 'api' });
    expect(await c.check(ws.workspaceId, { personId: kept.id }, email(true))).toEqual({ allowed: true });

    await t.services.people.merge(ws.workspaceId, { id: kept.id }, { id: merged.id });
    expect(await c.check(ws.workspaceId, { personId: kept.id }, email(true))).toEqual({ allowed: false, reason: 'unsubscribed' });
    expect(await c.check(ws.workspaceId, { personId: kept.id }, { ...email(true, 'news'), sendToUnsubscribed: true }))
      .toEqual({ allowed: false, reason: 'topic_unsubscribed' });
    expect(await c.check(ws.workspaceId, { personId: kept.id }, { ...email(true, 'tips'), sendToUnsubscribed: true })).toEqual({ allowed: true });
  });
});
