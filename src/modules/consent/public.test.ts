// The public pages over a real port: GET/HEAD change nothing (RELIABILITY 7), the RFC 8058 POST
// unsubscribes at once, forged and cross-workspace tokens change nothing, the preference centre and
// double opt-in confirmation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';
import type { ConsentService } from './index.ts';

let t: TestTandem;
let a: CreatedWorkspace;
let b: CreatedWorkspace;
let consent: ConsentService;
let n = 0;

async function person(ws: string, traits: Record<string, unknown> = {}): Promise<string> {
  const userId = `p-${++n}`;
  await t.services.ingest.ingest(ws, [{ type: 'identify', userId, traits: { email: `p${n}@example.com`, ...traits }, timestamp: new Date() }], { source: 'api' });
  const id = await t.services.people.find(ws, { userId });
  if (!id) throw new Error('not stored');
  return id;
}

/** Everything a page could change: the person's state and ledger. */
async function snapshot(ws: string, personId: string): Promise<unknown> {
  return { state: await consent.state(ws, personId), ledger: await consent.ledger(ws, { personId }) };
}

const path = (url: string) => new URL(url).pathname;
const post = (url: string, body: URLSearchParams | FormData, headers: Record<string, string> = {}) =>
  fetch(`${t.baseUrl}${url}`, { method: 'POST', body, headers });
const oneClick = () => new URLSearchParams({ 'List-Unsubscribe': 'One-Click' });

beforeAll(async () => {
  t = await createTestTandem({ listen: true });
  a = await t.workspace('Alpha & <Co>');
  b = await t.workspace('Beta');
  consent = t.services.consent;
  await consent.createTopic(a.workspaceId, { key: 'news', name: 'News', default: 'opt_out', channel: 'email' });
  await consent.createTopic(a.workspaceId, { key: 'offers', name: 'Offers', description: 'Deals', default: 'opt_in', channel: 'email', doubleOptIn: true });
  await consent.createTopic(a.workspaceId, { key: 'texts', name: 'Texts', default: 'opt_out', channel: 'sms' });
});
afterAll(async () => { await t.close(); });

describe('/u/:token', () => {
  it('GET and HEAD show a confirm page and change nothing', async () => {
    const p = await person(a.workspaceId);
    const links = await consent.links(a.workspaceId, { personId: p, messageId: 'msg-1' });
    expect(links.oneClickUrl).toBe(links.unsubscribeUrl);
    expect(links.mailto).toMatch(/^mailto:unsubscribe@localhost\?subject=unsubscribe-[\w-]+\.[\w-]+$/);
    const before = await snapshot(a.workspaceId, p);
    for (let i = 0; i < 3; i++) {
      const get = await fetch(`${t.baseUrl}${path(links.oneClickUrl)}`);
      expect(get.status).toBe(200);
      expect(get.headers.get('cache-control')).toBe('no-store');
      expect(get.headers.get('x-frame-options')).toBe('DENY');
      expect(get.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(get.headers.get('set-cookie')).toBeNull();
      const html = await get.text();
      expect(html).toContain('Unsubscribe from all email from Alpha &#38; &#60;Co&#62;?');
      expect(html).toContain('name="List-Unsubscribe" value="One-Click"');
      const head = await fetch(`${t.baseUrl}${path(links.oneClickUrl)}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
    }
    expect(await snapshot(a.workspaceId, p)).toEqual(before);
    expect((await consent.check(a.workspaceId, { personId: p }, { channel: 'email', marketing: true })).allowed).toBe(true);
  });

  it('a one-click POST (urlencoded or multipart) unsubscribes at once, with ip, user agent and message id', async () => {
    for (const body of ['urlencoded', 'multipart'] as const) {
      const p = await person(a.workspaceId);
      const links = await consent.links(a.workspaceId, { personId: p, messageId: `msg-${body}` });
      const form = new FormData();
      form.append('List-Unsubscribe', 'One-Click');
      const res = await post(path(links.oneClickUrl), body === 'urlencoded' ? oneClick() : form, { 'user-agent': 'Gmail-Unsub/1' });
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await res.text()).toContain('You are unsubscribed');
      expect(await consent.check(a.workspaceId, { personId: p }, { channel: 'email', marketing: true })).toEqual({ allowed: false, reason: 'unsubscribed' });
      const [entry, ...rest] = await consent.ledger(a.workspaceId, { personId: p });
      expect(rest).toEqual([]);
      expect(entry).toMatchObject({ kind: 'global', channel: 'email', from: 'subscribed', to: 'unsubscribed', source: 'one_click', ip: '127.0.0.1', userAgent: 'Gmail-Unsub/1', messageId: `msg-${body}` });
      // A repeat is a no-op: still unsubscribed, no second ledger row.
      expect((await post(path(links.oneClickUrl), oneClick())).status).toBe(200);
      expect(await consent.ledger(a.workspaceId, { personId: p })).toHaveLength(1);
    }
  });

  it('refuses a POST without the one-click body, and forged or cross-workspace tokens, changing nothing', async () => {
    const p = await person(a.workspaceId);
    const pb = await person(b.workspaceId);
    const links = await consent.links(a.workspaceId, { personId: p });
    const signer = await t.services.signing.signer();
    const bad = [
      // A's workspace with B's person, B's workspace with A's person, another purpose, a changed byte.
      `/u/${signer.sign('consent.unsubscribe', { w: a.workspaceId, p: pb, m: null, t: null })}`,
      `/u/${signer.sign('consent.unsubscribe', { w: b.workspaceId, p, m: null, t: null })}`,
      `/u/${path(links.preferencesUrl).split('/').pop() ?? ''}`,
      `${path(links.oneClickUrl).slice(0, -2)}AA`,
      '/u/not-a-token',
    ];
    const beforeA = await snapshot(a.workspaceId, p);
    const beforeB = await snapshot(b.workspaceId, pb);
    for (const url of bad) {
      const get = await fetch(`${t.baseUrl}${url}`);
      expect(get.status, url).toBe(400);
      expect(await get.text()).toContain('consent.bad_token');
      const res = await post(url, oneClick());
      expect(res.status, url).toBe(400);
      expect(res.headers.get('content-type')).toContain('text/html');
    }
    const empty = await post(path(links.oneClickUrl), new URLSearchParams({ 'List-Unsubscribe': 'nope' }));
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('consent.bad_request');
    expect(await snapshot(a.workspaceId, p)).toEqual(beforeA);
    expect(await snapshot(b.workspaceId, pb)).toEqual(beforeB);
  });
});

describe('preference centre', () => {
  it('shows the channel\'s topics in the person\'s language and saves the form', async () => {
    const p = await person(a.workspaceId, { locale: 'fr-CA' });
    const links = await consent.links(a.workspaceId, { personId: p });
    const page = await (await fetch(`${t.baseUrl}${path(links.preferencesUrl)}`)).text();
    expect(page).toContain('<html lang="fr">');
    expect(page).toContain('Vos préférences');
    expect(page).toContain('value="news" checked');
    expect(page).toContain('value="offers">');
    expect(page).not.toContain('Texts'); // an sms topic on the email page
    const res = await post(path(links.preferencesUrl), new URLSearchParams([['save', '1'], ['shown', 'news'], ['shown', 'offers'], ['topic', 'offers']]), { 'user-agent': 'Browser/1' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Vos préférences ont été enregistrées.');
    const state = await consent.state(a.workspaceId, p);
    // offers is double opt-in: checking it asks for confirmation, it does not subscribe.
    expect(state.topics.filter((x) => x.explicit).map((x) => [x.key, x.state])).toEqual([['news', 'unsubscribed'], ['offers', 'pending']]);
    const ledger = await consent.ledger(a.workspaceId, { personId: p });
    expect(ledger.map((e) => [e.topic, e.source, e.userAgent])).toEqual([['offers', 'preference_centre', 'Browser/1'], ['news', 'preference_centre', 'Browser/1']]);
    // The global box, and an empty POST (no save field) changes nothing.
    await post(path(links.preferencesUrl), new URLSearchParams([['save', '1'], ['all', 'on']]));
    expect((await consent.state(a.workspaceId, p)).unsubscribedAll.email).toBe(true);
    expect((await post(path(links.preferencesUrl), new URLSearchParams())).status).toBe(400);
    expect((await consent.state(a.workspaceId, p)).unsubscribedAll.email).toBe(true);
  });

  it('falls back to the workspace default locale, then English', async () => {
    await t.services.workspaces.update(b.workspaceId, { settings: { defaultLocale: 'de' } });
    const pb = await person(b.workspaceId);
    const de = await (await fetch(`${t.baseUrl}${path((await consent.links(b.workspaceId, { personId: pb })).preferencesUrl)}`)).text();
    expect(de).toContain('Ihre Einstellungen');
    const pa = await person(a.workspaceId, { locale: 'ja' });
    const en = await (await fetch(`${t.baseUrl}${path((await consent.links(a.workspaceId, { personId: pa })).preferencesUrl)}`)).text();
    expect(en).toContain('Your preferences');
  });
});

describe('double opt-in', () => {
  it('GET shows a button, POST confirms pending -> subscribed once', async () => {
    const p = await person(a.workspaceId, { locale: 'es' });
    const { state, confirmUrl } = await consent.subscribe(a.workspaceId, p, 'offers', { source: 'form', ip: '198.51.100.1' });
    expect(state).toBe('pending');
    // With no sender configured (a fresh install), the confirmation lands in the dev inbox, in the person's language.
    const [queued] = (await t.services.delivery.list(a.workspaceId, { limit: 10, personId: p })).messages.filter((m) => m.source === 'consent');
    if (!queued) throw new Error('no confirmation queued');
    await t.services.delivery.send(a.workspaceId, queued.id);
    const [inbox] = (await t.services.devInbox.list(a.workspaceId, { limit: 10, to: `p${n}@example.com` })).messages;
    expect(inbox?.subject).toBe('Confirma tu suscripción a «Offers»');
    expect(inbox?.text).toMatch(/\/confirm\/[\w-]+\.[\w-]+/);
    const before = await snapshot(a.workspaceId, p);
    const get = await fetch(`${t.baseUrl}${path(confirmUrl ?? '')}`);
    expect(get.status).toBe(200);
    expect(await get.text()).toContain('Confirma tu suscripción a «Offers»');
    expect(await snapshot(a.workspaceId, p)).toEqual(before);
    const res = await post(path(confirmUrl ?? ''), new URLSearchParams());
    expect(await res.text()).toContain('está confirmada');
    expect(await consent.check(a.workspaceId, { personId: p }, { channel: 'email', marketing: true, topic: 'offers' })).toEqual({ allowed: true });
    const again = await post(path(confirmUrl ?? ''), new URLSearchParams());
    expect(await again.text()).toContain('No queda nada por confirmar');
    expect((await consent.ledger(a.workspaceId, { personId: p })).map((e) => [e.from, e.to, e.source])).toEqual([
      ['pending', 'subscribed', 'confirmation'], ['unsubscribed', 'pending', 'form'],
    ]);
  });
});
