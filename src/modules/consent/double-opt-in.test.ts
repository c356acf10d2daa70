// Double opt-in end to end over a real port, a real worker and a real SMTP conversation: the API and
// the preference centre both end `pending`, the confirmation arrives by email through Tandem's own
// delivery, GET on its link changes nothing, the POST subscribes (ledger source `confirmation`),
// tampered and expired links fail, and asking again does not send a second email the same day.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import { startSmtpSink, type Received, type SmtpSink } from '../../../test/helpers/smtp-sink.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';

let sink: SmtpSink;
let t: TestTandem;
let ws: CreatedWorkspace;
let n = 0;

async function person(): Promise<{ id: string; email: string }> {
  const userId = `doi-${++n}`;
  const email = `doi${n}@example.com`;
  await t.services.ingest.ingest(ws.workspaceId, [{ type: 'identify', userId, traits: { email }, timestamp: new Date() }], { source: 'api' });
  const id = await t.services.people.find(ws.workspaceId, { userId });
  if (!id) throw new Error('not stored');
  return { id, email };
}

const api = (method: string, path: string, body?: unknown) => fetch(`${t.baseUrl}${path}`, {
  method, headers: { authorization: bearer(ws.appApiKey), ...(body ? { 'content-type': 'application/json' } : {}) },
  ...(body ? { body: JSON.stringify(body) } : {}),
});
const form = (path: string, fields: Array<[string, string]> = []) =>
  fetch(`${t.baseUrl}${path}`, { method: 'POST', body: new URLSearchParams(fields) });

/** Everything a page could change: the person's consent and ledger. */
async function snapshot(personId: string): Promise<unknown> {
  return { state: await t.services.consent.state(ws.workspaceId, personId), ledger: await t.services.consent.ledger(ws.workspaceId, { personId }) };
}

async function offers(personId: string): Promise<string | undefined> {
  return (await t.services.consent.state(ws.workspaceId, personId)).topics.find((x) => x.key === 'offers')?.state;
}

/** The mail to `to`, once it arrived. */
const mailTo = (to: string): Promise<Received> => sink.mailTo(to);

/** The confirmation link's path, from the plain-text part (the HTML's links may be click-tracked). */
function confirmPath(mail: Received): string {
  const m = /https?:\/\/[^\s/]+(\/confirm\/[\w-]+\.[\w-]+)/.exec(mail.parsed.text ?? '');
  if (!m?.[1]) throw new Error(`no confirmation link in: ${mail.parsed.text ?? ''}`);
  return m[1];
}

async function confirmationsQueued(personId: string): Promise<number> {
  return (await t.services.delivery.list(ws.workspaceId, { limit: 100, personId })).messages.filter((m) => m.source === 'consent').length;
}

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await createTestTandem({ listen: true, worker: true, config: { smtpUrl: sink.url } });
  ws = await t.workspace('Double & Co');
  await t.services.consent.createTopic(ws.workspaceId, { key: 'offers', name: 'Offers <weekly>', default: 'opt_in', channel: 'email', doubleOptIn: true });
  await t.services.consent.createTopic(ws.workspaceId, { key: 'news', name: 'News', default: 'opt_in', channel: 'email' });
});
afterAll(async () => {
  await t.close();
  await sink.close();
});

describe('double opt-in', () => {
  it('PUT /api/people/:id/consent ends pending, emails a link whose GET changes nothing and whose POST subscribes', async () => {
    const p = await person();
    const res = await api('PUT', `/api/people/${p.id}/consent`, { source: 'api', topics: { offers: true, news: true } });
    expect(res.status).toBe(200);
    const body = await res.json() as { changes: Array<{ topic: string; from: string; to: string; source: string }> };
    expect(body.changes.map((c) => [c.topic, c.from, c.to, c.source])).toEqual([
      ['offers', 'unsubscribed', 'pending', 'api'], ['news', 'unsubscribed', 'subscribed', 'api'],
    ]);
    expect(await offers(p.id)).toBe('pending');
    expect(await t.services.consent.check(ws.workspaceId, { personId: p.id }, { channel: 'email', marketing: true, topic: 'offers' }))
      .toEqual({ allowed: false, reason: 'not_opted_in' });

    const mail = await mailTo(p.email);
    expect(mail.parsed.subject).toBe('Confirm your subscription to “Offers <weekly>”');
    // Names are data, printed escaped, never markup.
    expect(mail.parsed.html).toContain('Offers &lt;weekly&gt;');
    expect(mail.parsed.html).toContain('Double &amp; Co');
    const link = confirmPath(mail);

    const before = await snapshot(p.id);
    for (const method of ['GET', 'HEAD', 'GET']) {
      const get = await fetch(`${t.baseUrl}${link}`, { method });
      expect(get.status).toBe(200);
    }
    expect(await snapshot(p.id)).toEqual(before);

    const post = await form(link);
    expect(post.status).toBe(200);
    expect(await post.text()).toContain('is confirmed');
    expect(await offers(p.id)).toBe('subscribed');
    const [last] = await t.services.consent.ledger(ws.workspaceId, { personId: p.id, limit: 1 });
    expect(last).toMatchObject({ topic: 'offers', from: 'pending', to: 'subscribed', source: 'confirmation', address: p.email });
    expect(await t.services.consent.check(ws.workspaceId, { personId: p.id }, { channel: 'email', marketing: true, topic: 'offers' })).toEqual({ allowed: true });
    // Clicking twice changes nothing more.
    const again = await form(link);
    expect(await again.text()).toContain('nothing left to confirm');
    expect(await t.services.consent.ledger(ws.workspaceId, { personId: p.id, limit: 1 })).toEqual([last]);
  });

  it('the preference centre ends pending and sends one confirmation however often it is saved', async () => {
    const p = await person();
    const prefs = new URL((await t.services.consent.links(ws.workspaceId, { personId: p.id })).preferencesUrl).pathname;
    const save = () => form(prefs, [['save', '1'], ['shown', 'offers'], ['shown', 'news'], ['topic', 'offers']]);
    expect((await save()).status).toBe(200);
    expect(await offers(p.id)).toBe('pending');
    const [entry] = await t.services.consent.ledger(ws.workspaceId, { personId: p.id, limit: 1 });
    expect(entry).toMatchObject({ topic: 'offers', from: 'unsubscribed', to: 'pending', source: 'preference_centre' });
    // Asked again (the page saved twice more, the API once): still one confirmation queued.
    await save();
    await save();
    await api('PUT', `/api/people/${p.id}/consent`, { source: 'api', topics: { offers: 'subscribed' } });
    expect(await offers(p.id)).toBe('pending');
    expect(await confirmationsQueued(p.id)).toBe(1);
    const mail = await mailTo(p.email);
    expect((await form(confirmPath(mail))).status).toBe(200);
    expect(await offers(p.id)).toBe('subscribed');
    expect(sink.received.filter((m) => m.to.includes(p.email))).toHaveLength(1);
  });

  it('a tampered, expired or unsigned-expiry link fails and changes nothing', async () => {
    const p = await person();
    await api('PUT', `/api/people/${p.id}/consent`, { source: 'api', topics: { offers: true } });
    const link = confirmPath(await mailTo(p.email));
    const token = link.slice('/confirm/'.length);
    const signer = await t.services.signing.signer();
    const past = Math.floor(Date.now() / 1000) - 60;
    const bad: Array<[string, string]> = [
      [`${token.slice(0, 5)}${token[5] === 'A' ? 'B' : 'A'}${token.slice(6)}`, 'consent.bad_token'],
      [`${token}=`, 'consent.bad_token'],
      [signer.sign('consent.confirm', { w: ws.workspaceId, p: p.id, t: 'offers', x: past }), 'consent.link_expired'],
      [signer.sign('consent.confirm', { w: ws.workspaceId, p: p.id, t: 'offers' }), 'consent.bad_token'],
      [signer.sign('consent.preferences', { w: ws.workspaceId, p: p.id, t: 'offers', x: past + 3600 }), 'consent.bad_token'],
    ];
    const before = await snapshot(p.id);
    for (const [tok, code] of bad) {
      const res = await form(`/confirm/${tok}`);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(`data-code="${code}"`);
    }
    expect(await snapshot(p.id)).toEqual(before);
    expect(await offers(p.id)).toBe('pending');
  });

  it('the API cannot claim the confirmation source, and a person without an email gets a 400', async () => {
    const p = await person();
    const res = await api('PUT', `/api/people/${p.id}/consent`, { source: 'confirmation', topics: { offers: true } });
    expect(res.status).toBe(400);
    expect(await offers(p.id)).toBe('unsubscribed');
    await t.services.ingest.ingest(ws.workspaceId, [{ type: 'identify', userId: 'doi-no-email', traits: { name: 'x' }, timestamp: new Date() }], { source: 'api' });
    const id = await t.services.people.find(ws.workspaceId, { userId: 'doi-no-email' });
    const none = await api('PUT', `/api/people/${id}/consent`, { source: 'api', topics: { offers: true } });
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ error: { code: 'consent.no_address', field: 'topics.offers' } });
  });
});
