import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../../test/harness.ts';
import { until } from '../../../../test/helpers/wait.ts';
import { createOutboundClient, type OutboundClient } from '../../../net/index.ts';
import { extractUrls } from './extract.ts';
import { createLinkCheckService, type LinkCheckDeps } from './service.ts';

const HOSTED = 'https://tandem.example/assets/';

describe('link checker', () => {
  let t: TestTandem;
  let ws: { workspaceId: string; appApiKey: string };
  let server: Server;
  let base: string;
  const hits: string[] = [];
  let outbound: OutboundClient;
  let guarded: OutboundClient;

  beforeAll(async () => {
    t = await createTestTandem({ worker: true });
    ws = await t.workspace('Links');
    server = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      if (req.url === '/ok' || req.url === '/img.png') res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>');
      else if (req.url === '/moved') res.writeHead(301, { location: '/ok' }).end();
      else if (req.url === '/no-head') res.writeHead(req.method === 'HEAD' ? 405 : 200).end();
      else res.writeHead(404).end('not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    outbound = createOutboundClient({ allowPrivate: true, timeoutMs: 5_000 });
    guarded = createOutboundClient({ timeoutMs: 5_000 });
  });
  afterAll(async () => {
    await outbound.close();
    await guarded.close();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  const template = async (name: string, html: string, publish = false) => {
    const body = { channel: 'email', marketing: false, email: { subject: 's', code: { html } } };
    const created = await t.services.content.create(ws.workspaceId, 'template', name, body);
    if (publish) await t.services.content.publish(ws.workspaceId, 'template', created.id);
    return created.id;
  };
  const service = (html: Record<string, string>, extra: Partial<LinkCheckDeps> = {}) => createLinkCheckService({
    db: t.services.db, clock: t.clock, outbound, hostedAssetPrefixes: [HOSTED],
    htmlOf: (w, id) => Promise.resolve(w === ws.workspaceId ? html[id] : undefined), ...extra,
  });
  const call = (method: 'GET' | 'POST', url: string, key = ws.appApiKey) =>
    t.app.inject({ method, url, headers: { authorization: bearer(key) } });

  it('extracts each link and image once, skipping mailto, tel, anchors and Liquid-valued URLs', () => {
    const urls = extractUrls([
      '<a href="https://a.example/x">a</a><a href="https://a.example/x">again</a><a href="mailto:x@y.z">m</a>',
      '<a href="tel:+1">t</a><a href="#top">#</a><a href="{% unsubscribe_url %}">u</a><a href="{{ event.url }}">e</a>',
      `<img src="https://a.example/x"><img src="${HOSTED}ws/1.png"><img src="data:image/png;base64,AA"><a href="/relative">r</a>`,
    ].join(''), [HOSTED]);
    expect(urls).toEqual([
      { url: 'https://a.example/x', kind: 'link', action: 'fetch' },
      { url: 'https://a.example/x', kind: 'image', action: 'fetch' },
      { url: `${HOSTED}ws/1.png`, kind: 'image', action: 'hosted' },
      { url: '/relative', kind: 'link', action: 'invalid' },
    ]);
  });

  it('checks a 200 page, a 404 page, a redirect, a HEAD-less server and hosted assets, and stores the results', async () => {
    const id = await template('checked', '<p>x</p>');
    const html = [
      `<a href="${base}/ok">ok</a><a href="${base}/missing">404</a><a href="${base}/moved">301</a><a href="${base}/no-head">405</a>`,
      `<img src="${base}/img.png" alt="i"><a href="${base}/img.png">same URL as a link</a><img src="${HOSTED}ws/gone.png" alt="g">`,
      '<a href="mailto:x@example.com">m</a><a href="{% unsubscribe_url %}">u</a><a href="relative/page">rel</a>',
    ].join('\n');
    hits.length = 0;
    const svc = service({ [id]: html }, { assetExists: (url) => Promise.resolve(!url.endsWith('gone.png')) });
    const done = await svc.check(ws.workspaceId, id);
    expect(done?.results).toHaveLength(8);
    expect(hits.filter((h) => h.endsWith('/img.png'))).toEqual(['HEAD /img.png']); // one request for link + image
    expect(hits).toContain('GET /no-head');

    const stored = await svc.results(ws.workspaceId, id);
    expect(stored.checkedAt).toEqual(done?.checkedAt);
    const byUrl = Object.fromEntries(stored.results.map((r) => [`${r.kind} ${r.url.replace(base, '')}`, r]));
    expect(byUrl).toEqual({
      'link /ok': { url: `${base}/ok`, kind: 'link', status: 'ok', httpStatus: 200, error: null },
      'link /missing': { url: `${base}/missing`, kind: 'link', status: 'broken', httpStatus: 404, error: 'HTTP 404' },
      'link /moved': { url: `${base}/moved`, kind: 'link', status: 'ok', httpStatus: 200, error: null },
      'link /no-head': { url: `${base}/no-head`, kind: 'link', status: 'ok', httpStatus: 200, error: null },
      'image /img.png': { url: `${base}/img.png`, kind: 'image', status: 'ok', httpStatus: 200, error: null },
      'link /img.png': { url: `${base}/img.png`, kind: 'link', status: 'ok', httpStatus: 200, error: null },
      [`image ${HOSTED}ws/gone.png`]: { url: `${HOSTED}ws/gone.png`, kind: 'image', status: 'broken', httpStatus: null, error: 'No such asset in the library.' },
      'link relative/page': { url: 'relative/page', kind: 'link', status: 'broken', httpStatus: null, error: 'Not an absolute http(s) URL.' },
    });

    // A new check replaces the old results wholesale.
    const again = service({ [id]: `<a href="${base}/ok">only</a><img src="${HOSTED}ws/a.png" alt="a">` });
    await again.check(ws.workspaceId, id);
    expect((await again.results(ws.workspaceId, id)).results).toEqual([
      { url: `${HOSTED}ws/a.png`, kind: 'image', status: 'skipped', httpStatus: null, error: 'Hosted by Tandem.' },
      { url: `${base}/ok`, kind: 'link', status: 'ok', httpStatus: 200, error: null },
    ]);
  });

  it('records private and local addresses as blocked when the guard refuses them, unreachable hosts as broken', async () => {
    const id = await template('guarded', '<p>x</p>');
    const svc = service({ [id]: `<a href="${base}/ok">local</a><a href="http://127.0.0.1:1/closed">closed</a>` }, { outbound: guarded });
    const done = await svc.check(ws.workspaceId, id);
    expect(done?.results.map((r) => [r.status, r.httpStatus])).toEqual([['blocked', null], ['blocked', null]]);
    const open = service({ [id]: 'x <a href="http://127.0.0.1:1/closed">closed</a>' });
    expect((await open.check(ws.workspaceId, id))?.results).toEqual([
      expect.objectContaining({ status: 'broken', httpStatus: null, error: expect.stringMatching(/^Could not be reached/) as unknown }),
    ]);
  });

  it('answers checkedAt null before the first check, and content.not_found for another workspace\'s template', async () => {
    const id = await template('unchecked', '<p>x</p>');
    const svc = service({});
    expect(await svc.results(ws.workspaceId, id)).toEqual({ checkedAt: null, results: [] });
    expect(await svc.check(ws.workspaceId, 'tpl_nope')).toBeUndefined();
    const other = await t.workspace('Other');
    await expect(svc.results(other.workspaceId, id)).rejects.toMatchObject({ code: 'content.not_found', field: 'id' });
    await expect(svc.enqueue(other.workspaceId, id)).rejects.toMatchObject({ code: 'content.not_found' });
  });

  it('queues a check over the API and the worker runs it (the default guard blocks this local server)', async () => {
    const id = await template('api', `<a href="${base}/ok">ok</a>`);
    const before = await call('GET', `/api/content/templates/${id}/link-check`);
    expect(before.json()).toEqual({ checkedAt: null, results: [] });
    const queued = await call('POST', `/api/content/templates/${id}/link-check`);
    expect(queued.statusCode).toBe(202);
    expect(queued.json()).toEqual({ queued: true });
    const body = await until(async () => {
      const now = (await call('GET', `/api/content/templates/${id}/link-check`)).json<{ checkedAt: string | null; results: unknown[] }>();
      return now.checkedAt !== null && now;
    }, 'the link check to finish');
    expect(body).toEqual({
      checkedAt: expect.stringMatching(/^\d{4}-/) as unknown,
      results: [{ url: `${base}/ok`, kind: 'link', status: 'blocked', httpStatus: null, error: expect.any(String) as unknown }],
    });
    const missing = await call('POST', '/api/content/templates/tpl_nope/link-check');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'content.not_found', field: 'id' } });
  });

  it('the daily job queues one check per published email template', async () => {
    const fresh = await createTestTandem();
    try {
      const w = await fresh.workspace('Daily');
      const mk = async (name: string, body: Record<string, unknown>, publish: boolean) => {
        const c = await fresh.services.content.create(w.workspaceId, 'template', name, body);
        if (publish) await fresh.services.content.publish(w.workspaceId, 'template', c.id);
        return c.id;
      };
      const emailBody = { channel: 'email', marketing: false, email: { subject: 's', code: { html: '<p>x</p>' } } };
      const published = await mk('published', emailBody, true);
      await mk('draft', emailBody, false);
      await mk('sms', { channel: 'sms', marketing: false, sms: { body: 'hi' } }, true);
      expect(await fresh.services.linkChecks.enqueueAll()).toBe(1);
      const jobs = await sql<{ task_identifier: string; payload: unknown }>`
        SELECT t.identifier AS task_identifier, j.payload
        FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id`.execute(fresh.services.db);
      expect(jobs.rows).toEqual([{ task_identifier: 'content:check_links', payload: { workspaceId: w.workspaceId, templateId: published } }]);
    } finally {
      await fresh.close();
    }
  });
});
