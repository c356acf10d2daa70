// Issue 4 part 7, through the real send pipeline (worker, SMTP sink): tracked links redirect only to the
// URLs recorded for their message (no open redirect), UTM tags, the open pixel, view in browser,
// per-template metrics, a configurable tracking domain, and hostile UTM values that stay in the href.
import { Parser } from 'htmlparser2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from './harness.ts';
import { until } from './helpers/wait.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';
import { createTrackingService } from '../src/modules/tracking/index.ts';

interface MessageView { id: string; status: string; html: string | null; events: Array<{ type: string; data: Record<string, unknown> }> }
interface Element { tag: string; attribs: Record<string, string> }

const SALE = 'https://shop.example/sale?x=1&y=2';
// Vitest's asymmetric matchers are typed `any`.
const ISO: unknown = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
const START = 'https://shop.example/start?utm_source=keep';

function elements(html: string): Element[] {
  const out: Element[] = [];
  new Parser({ onopentag: (tag, attribs) => out.push({ tag, attribs }) }, { decodeEntities: true }).end(html);
  return out;
}
const links = (html: string) => elements(html).filter((e) => e.tag === 'a').map((e) => e.attribs['href'] ?? '');

describe('tracking', () => {
  let t: TestTandem;
  let sink: SmtpSink;
  let ws: CreatedWorkspace;
  let templateId: string;

  const api = (method: string, path: string, body?: unknown) => fetch(`${t.baseUrl}${path}`, {
    method, headers: { authorization: bearer(ws.appApiKey), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  /** A link in the email (on the configured public URL) fetched on this test's port. */
  const local = (url: string) => `${t.baseUrl}${new URL(url).pathname}${new URL(url).search}`;
  const message = async (id: string) => (await (await api('GET', `/api/messages/${id}`)).json()) as MessageView;

  /** Sends the template to u-1 and answers the message (once sent) and the email the sink received. */
  async function sendPromo(extra: Record<string, unknown> = {}) {
    const before = sink.received.length;
    const res = await api('POST', '/v1/send/email', { transactional_message_id: 'promo', identifiers: { id: 'u-1' }, ...extra });
    expect(res.status).toBe(200);
    const { delivery_id: id } = await res.json() as { delivery_id: string };
    const mail = (await sink.waitFor(before + 1)).slice(before)[0]!;
    const m = await until(async () => {
      const now = await message(id);
      return now.status === 'sent' && now;
    }, `message ${id} to be sent`);
    return { m, mail, html: String(mail.parsed.html) };
  }

  const tracked = (html: string) => links(html).filter((h) => /^http:\/\/localhost:\d+\/c\//.test(h));

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestTandem({ listen: true, worker: true, config: { smtpUrl: sink.url } });
    ws = await t.workspace('Acme');
    const tpl = await t.services.content.create(ws.workspaceId, 'template', 'promo', {
      channel: 'email', marketing: true,
      email: {
        subject: 'Spring sale', fromAddress: 'news@acme.example', layout: 'brand', blocks: [
          { component: 'paragraph', props: { body: '<p><a href="https://shop.example/sale?x=1&amp;y=2">Sale</a> <a href="mailto:help@acme.example">Write to us</a></p>' } },
          { component: 'button', props: { link: { url: START, label: 'Start' } } },
        ],
      },
    });
    templateId = tpl.id;
    await t.services.content.publish(ws.workspaceId, 'template', tpl.id);
    const identify = await fetch(`${t.baseUrl}/v1/identify`, {
      method: 'POST', headers: { authorization: basic(ws.writeKey), 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'u-1', traits: { email: 'ann@example.com' } }),
    });
    expect(identify.status).toBe(200);
  });

  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('defaults to open and click tracking without UTM tags', async () => {
    expect(await (await api('GET', '/api/tracking/settings')).json()).toEqual({ openTracking: true, clickTracking: true, utm: null });
  });

  it('rewrites http(s) links, keeps consent links and the text part, adds the pixel; a click redirects to the recorded URL with UTM tags', async () => {
    const put = await api('PUT', '/api/tracking/settings', { openTracking: true, clickTracking: true, utm: { source: 'tandem', medium: 'email' } });
    expect(await put.json()).toEqual({ openTracking: true, clickTracking: true, utm: { source: 'tandem', medium: 'email' } });
    const { m, mail, html } = await sendPromo();

    const hrefs = links(html);
    expect(hrefs.filter((h) => h.startsWith('https://shop.example'))).toEqual([]);
    expect(tracked(html)).toHaveLength(2);
    expect(hrefs).toContain('mailto:help@acme.example');
    expect(hrefs.some((h) => /^http:\/\/localhost:\d+\/u\//.test(h))).toBe(true);
    expect(hrefs.some((h) => /^http:\/\/localhost:\d+\/preferences\//.test(h))).toBe(true);
    expect(hrefs.some((h) => /^http:\/\/localhost:\d+\/v\//.test(h))).toBe(true);
    const pixels = elements(html).filter((e) => e.tag === 'img' && /\/o\/[^/]+\.gif$/.test(e.attribs['src'] ?? ''));
    expect(pixels).toHaveLength(1);
    expect(pixels[0]?.attribs).toMatchObject({ width: '1', height: '1', alt: '', style: 'display:none' });
    expect(html.indexOf(pixels[0]!.attribs['src']!)).toBeLessThan(html.toLowerCase().lastIndexOf('</body>'));
    // List-Unsubscribe is not a link to track; the text part keeps the original URLs.
    const rawHead = mail.raw.toString('utf8').split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
    expect(/^List-Unsubscribe: <(http:[^>]+)>/im.exec(rawHead)?.[1]).toMatch(/^http:\/\/localhost:\d+\/u\//);
    expect(mail.parsed.text).toContain(SALE);

    const [saleLink, startLink] = tracked(html);
    const sale = await fetch(local(saleLink!), { redirect: 'manual', headers: { 'user-agent': 'Tracking test' } });
    expect(sale.status).toBe(302);
    expect(sale.headers.get('location')).toBe(`${SALE}&utm_source=tandem&utm_medium=email&utm_campaign=promo`);
    expect(sale.headers.get('cache-control')).toBe('no-store');
    const start = await fetch(local(startLink!), { redirect: 'manual' });
    expect(start.headers.get('location')).toBe(`${START}&utm_medium=email&utm_campaign=promo`);

    const clicks = (await message(m.id)).events.filter((e) => e.type === 'clicked');
    expect(clicks).toEqual([
      { type: 'clicked', at: ISO, data: { url: `${SALE}&utm_source=tandem&utm_medium=email&utm_campaign=promo`, index: 0, ip: '127.0.0.1', userAgent: 'Tracking test' } },
      { type: 'clicked', at: ISO, data: { url: `${START}&utm_medium=email&utm_campaign=promo`, index: 1, ip: '127.0.0.1', userAgent: 'node' } },
    ]);
  });

  it('redirects only to recorded URLs: a missing index, a forged, tampered or wrong-purpose token is a 404 with no event', async () => {
    await api('PUT', '/api/tracking/settings', { openTracking: true, clickTracking: true });
    const { m, html } = await sendPromo();
    const [link] = tracked(html);
    const token = new URL(link!).pathname.split('/').pop()!;
    const signer = await t.services.signing.signer();
    const [data, mac] = token.split('.') as [string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ w: ws.workspaceId, m: m.id, i: 0, u: 'https://evil.example/' })).toString('base64url');
    const bad = [
      signer.sign('click', { w: ws.workspaceId, m: m.id, i: 99 }), // a link the message does not have
      signer.sign('click', { w: ws.workspaceId, m: 'dlv_000000000000000000000000', i: 0 }), // no such message
      signer.sign('open', { w: ws.workspaceId, m: m.id, i: 0 }), // made for another purpose
      `${forgedPayload}.${mac}`, // payload changed, signature kept
      `${data}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BA' : 'AA'}`, // signature changed
      'not-a-token', `${data}`,
    ];
    const eventsBefore = (await message(m.id)).events.length;
    for (const b of bad) {
      const res = await fetch(`${t.baseUrl}/c/${b}`, { redirect: 'manual' });
      expect(res.status, b).toBe(404);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('data-code="tracking.bad_token"');
    }
    // Nothing taken from the request decides the destination.
    const withParams = await fetch(`${local(link!)}?url=https://evil.example/&redirect=https://evil.example/`, { redirect: 'manual' });
    expect(withParams.headers.get('location')).toBe(SALE);
    // HEAD (link scanners) answers alike and records nothing.
    const head = await fetch(local(link!), { method: 'HEAD', redirect: 'manual' });
    expect(head.status).toBe(302);
    const events = (await message(m.id)).events.slice(eventsBefore);
    expect(events.map((e) => e.type)).toEqual(['clicked']);
  });

  it('the pixel answers a no-store GIF and records every open; metrics count unique opens and clicks', async () => {
    const { m, html } = await sendPromo();
    const pixel = elements(html).find((e) => e.tag === 'img' && /\/o\//.test(e.attribs['src'] ?? ''))!.attribs['src']!;
    for (let i = 0; i < 2; i++) {
      const res = await fetch(local(pixel));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/gif');
      expect(res.headers.get('cache-control')).toContain('no-store');
      const gif = Buffer.from(await res.arrayBuffer());
      expect(gif.subarray(0, 6).toString('latin1')).toBe('GIF89a');
      expect(gif.readUInt16LE(6)).toBe(1);
      expect(gif.readUInt16LE(8)).toBe(1);
    }
    expect((await fetch(local(pixel), { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${t.baseUrl}/o/${'x'.repeat(20)}.gif`)).status).toBe(404);
    const forged = (await t.services.signing.signer()).sign('click', { w: ws.workspaceId, m: m.id });
    expect((await fetch(`${t.baseUrl}/o/${forged}.gif`)).status).toBe(404);
    const opens = (await message(m.id)).events.filter((e) => e.type === 'opened');
    expect(opens).toHaveLength(2);
    expect(opens[0]?.data).toEqual({ ip: '127.0.0.1', userAgent: 'node' });

    // Three messages sent so far: the first was clicked twice (one unique), this one opened twice.
    const metrics = await (await api('GET', `/api/content/templates/${templateId}/metrics`)).json();
    expect(metrics).toEqual({
      templateId, total: 3, queued: 0, sent: 3, delivered: 0, bounced: 0, complained: 0, failed: 0, suppressed: 0, opened: 1, clicked: 2,
      rates: { delivery: 0, bounce: 0, complaint: 0, open: 0.3333, click: 0.6667, clickToOpen: 2 },
    });
    expect(await (await api('GET', '/api/content/templates/promo/metrics?by=name')).json()).toEqual(metrics);
    const missing = await api('GET', '/api/content/templates/tpl_nope/metrics');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'content.not_found', field: 'id' } });
  });

  it('view in browser shows the stored HTML under a strict CSP; without retention it says the content was not kept', async () => {
    const { m, html } = await sendPromo();
    const view = links(html).find((h) => /\/v\//.test(h))!;
    const res = await fetch(local(view));
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src/);
    expect(csp).toMatch(/sandbox(?![^;]*allow-scripts)/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const body = await res.text();
    expect(body).toBe((await message(m.id)).html);
    expect(body).toContain('Sale');

    const gone = await sendPromo({ disable_message_retention: true });
    expect(gone.m.html).toBeNull();
    const goneView = links(gone.html).find((h) => /\/v\//.test(h))!;
    const page = await fetch(local(goneView));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('This message was not kept');
    const wrong = (await t.services.signing.signer()).sign('click', { w: ws.workspaceId, m: m.id });
    expect((await fetch(`${t.baseUrl}/v/${wrong}`)).status).toBe(404);
  });

  it('with tracking off: no pixel, links as written; hostile UTM values stay inside the href', async () => {
    const hostile = '"><script>alert(1)</script><a href="https://evil.example/">';
    const put = await api('PUT', '/api/tracking/settings', { openTracking: false, clickTracking: false, utm: { source: hostile, campaign: '{{template}}-q2' } });
    expect(put.status).toBe(200);
    const { html } = await sendPromo();
    expect(elements(html).some((e) => e.tag === 'script')).toBe(false);
    expect(elements(html).some((e) => e.tag === 'img' && /\/o\//.test(e.attribs['src'] ?? ''))).toBe(false);
    expect(tracked(html)).toEqual([]);
    const shop = links(html).filter((h) => h.startsWith('https://shop.example'));
    expect(shop).toHaveLength(2);
    for (const h of shop) {
      expect(new URL(h).searchParams.get('utm_source')).toBe(h.startsWith(START) ? 'keep' : hostile);
      expect(new URL(h).searchParams.get('utm_campaign')).toBe('promo-q2');
    }
    expect(links(html).some((h) => h.startsWith('https://evil.example'))).toBe(false);

    const bad = await api('PUT', '/api/tracking/settings', { openTracking: 'yes', clickTracking: true });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'request.invalid', field: 'openTracking' } });
  });

  it('TANDEM_TRACKING_URL is the base of the pixel, click and view URLs', async () => {
    await api('PUT', '/api/tracking/settings', { openTracking: true, clickTracking: true, utm: null });
    const { m } = await sendPromo();
    const s = t.services;
    const tracking = createTrackingService({
      db: s.db, clock: s.clock, log: s.log, signing: s.signing, delivery: s.delivery, content: s.content,
      config: { publicUrl: s.config.publicUrl, trackingUrl: 'https://click.acme.example/' },
    });
    const { events: _events, ...row } = (await s.delivery.message(ws.workspaceId, m.id))!;
    const out = await tracking.transform(ws.workspaceId, row, {
      from: { address: 'news@acme.example' }, subject: 's', text: 't', headers: {}, marketing: false, topic: null, templateVersion: 1,
      html: `<html><body><a href="${SALE}">Sale</a><a href="${s.config.publicUrl}/u/abc">Unsubscribe</a></body></html>`,
    });
    expect(links(out.html)[0]).toMatch(/^https:\/\/click\.acme\.example\/c\/[\w-]+\.[\w-]+$/);
    expect(links(out.html)[1]).toBe(`${s.config.publicUrl}/u/abc`);
    expect(out.html).toMatch(/<img src="https:\/\/click\.acme\.example\/o\/[\w-]+\.[\w-]+\.gif"/);
    expect(await tracking.viewUrl(ws.workspaceId, m.id)).toMatch(/^https:\/\/click\.acme\.example\/v\//);

    // A retried send renders again: its links replace the earlier attempt's, and links past them are gone.
    const retried = await t.services.tracking.transform(ws.workspaceId, { ...row, attempts: 2 }, {
      from: { address: 'news@acme.example' }, subject: 's', text: 't', headers: {}, marketing: false, topic: null, templateVersion: 1,
      html: '<a href="https://shop.example/retry">Retry</a>',
    });
    const retriedLink = local(links(retried.html)[0]!);
    expect((await fetch(retriedLink, { redirect: 'manual' })).headers.get('location')).toBe('https://shop.example/retry');
    const signer = await s.signing.signer();
    expect((await fetch(`${t.baseUrl}/c/${signer.sign('click', { w: ws.workspaceId, m: m.id, i: 1 })}`, { redirect: 'manual' })).status).toBe(404);
  });
});
