// Segment's browser library, the real one (@segment/analytics-next, bundled by esbuild as a page would
// load it), in Chromium, on a page of another origin than Tandem: it posts each call to /v1/<letter>
// (and batches to /v1/b) as text/plain with the write key in the body and in a Basic header (which makes
// Chromium ask a CORS preflight first). page, identify, track, group and alias must end up stored for the person, in both of
// its delivery modes; no request may leave for Segment's servers.
import { build } from 'esbuild';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../harness.ts';
import { browserTestsEnabled, launchChromium } from '../helpers/browser.ts';
import type { CreatedWorkspace } from '../../src/modules/workspaces/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface StoredEvent { type: string; name: string | null; source: string; properties: Record<string, unknown> }

describe.runIf(browserTestsEnabled())('@segment/analytics-next in Chromium', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let browser: Browser;
  let site: http.Server;
  let siteUrl: string;

  beforeAll(async () => {
    t = await createTestTandem({ listen: true });
    ws = await t.services.workspaces.create('Browser');
    const bundle = await build({
      stdin: { contents: "export { AnalyticsBrowser } from '@segment/analytics-next';", resolveDir: root, loader: 'js' },
      bundle: true, format: 'iife', globalName: 'SegmentAnalytics', platform: 'browser', target: 'chrome120', write: false, logLevel: 'silent',
    });
    const js = bundle.outputFiles[0]?.text ?? '';
    // The customer's site: another origin (its own port) than Tandem.
    site = http.createServer((req, res) => {
      if (req.url === '/analytics.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Shop</title><h1>Shop</h1><script src="/analytics.js"></script>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    await t?.close();
  });

  async function events(userId: string): Promise<StoredEvent[]> {
    const res = await fetch(`${t.baseUrl}/api/people/${userId}/events?by=userId&limit=100`, { headers: { authorization: bearer(ws.appApiKey) } });
    if (res.status === 404) return [];
    return ((await res.json()) as { events: StoredEvent[] }).events;
  }

  async function waitForEvents(userId: string, count: number): Promise<StoredEvent[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const list = await events(userId);
      if (list.length >= count) return list;
      if (Date.now() > deadline) throw new Error(`${userId}: ${list.length} of ${count} events stored: ${JSON.stringify(list)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Opens the site, loads analytics-next pointed at Tandem, runs the five calls; what the page sent. */
  async function runCalls(page: Page, userId: string, strategy: 'standard' | 'batching'): Promise<{ paths: string[]; outside: string[]; errors: string[] }> {
    const paths: string[] = [];
    const outside: string[] = [];
    const errors: string[] = [];
    const withoutAuth: string[] = [];
    const tandem = new URL(t.baseUrl);
    await page.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.host !== tandem.host && url.origin !== siteUrl) {
        outside.push(url.href);
        return route.abort();
      }
      if (url.host === tandem.host) {
        paths.push(`${route.request().method()} ${url.pathname}`);
        // A Basic header makes the request non-simple: Chromium sent it only after a CORS preflight passed.
        if (!route.request().headers().authorization?.startsWith('Basic ')) withoutAuth.push(url.pathname);
        if (route.request().headers()['content-type'] !== 'text/plain') withoutAuth.push(`${url.pathname} content-type`);
      }
      return route.continue();
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(siteUrl);
    const failures = await page.evaluate(async ({ writeKey, apiHost, userId, strategy }) => {
      const lib = (globalThis as unknown as { SegmentAnalytics: { AnalyticsBrowser: { load(settings: unknown): Promise<[unknown, unknown]> } } }).SegmentAnalytics;
      const segmentIo: Record<string, unknown> = { apiKey: writeKey, apiHost, protocol: 'http' };
      if (strategy === 'batching') segmentIo.deliveryStrategy = { strategy: 'batching', config: { size: 5, timeout: 200 } };
      const [analytics] = await lib.AnalyticsBrowser.load({ writeKey, cdnSettings: { integrations: { 'Segment.io': segmentIo } } });
      type Ctx = { failedDelivery(): unknown };
      const a = analytics as Record<string, (...args: unknown[]) => Promise<Ctx>>;
      const results = [
        await a.page!('Pricing', { plan: 'pro' }),
        await a.identify!(userId, { email: `${userId}@example.com`, plan: 'pro' }),
        await a.track!('Clicked Buy', { price: 9 }),
        await a.group!(`g-${userId}`, { name: 'Acme' }),
        await a.alias!(userId, `legacy-${userId}`),
      ];
      return results.map((ctx) => ctx.failedDelivery()).filter(Boolean).map((f) => JSON.stringify(f));
    }, { writeKey: ws.writeKey, apiHost: `${tandem.host}/v1`, userId, strategy });
    expect(failures).toEqual([]);
    expect(withoutAuth).toEqual([]);
    return { paths, outside, errors };
  }

  it.each(['standard', 'batching'] as const)('stores page, identify, track, group and alias for the person (%s delivery)', async (strategy) => {
    const page = await browser.newPage();
    try {
      const userId = `u-${strategy}`;
      const sent = await runCalls(page, userId, strategy);
      const stored = await waitForEvents(userId, 5);
      expect(stored.map((e) => `${e.source} ${e.type} ${e.name ?? ''}`.trim()).sort()).toEqual([
        'segment alias', 'segment group', 'segment identify', 'segment page Pricing', 'segment track Clicked Buy',
      ]);
      expect(stored.find((e) => e.type === 'track')?.properties).toMatchObject({ price: 9 });
      const person = await (await fetch(`${t.baseUrl}/api/people/${userId}?by=userId`, { headers: { authorization: bearer(ws.appApiKey) } })).json() as Record<string, unknown>;
      expect(person).toMatchObject({ userId, email: `${userId}@example.com`, attributes: { plan: 'pro' } });
      // The anonymous page view before identify belongs to the same person.
      expect((person.identifiers as { anonymousIds: string[] }).anonymousIds).toHaveLength(1);
      if (strategy === 'standard') {
        for (const letter of ['p', 'i', 't', 'g', 'a']) expect(sent.paths).toContain(`POST /v1/${letter}`);
      } else {
        expect(sent.paths).toContain('POST /v1/b');
      }
      expect(sent.outside).toEqual([]);
      expect(sent.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 90_000);
});
