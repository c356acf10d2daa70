// RELIABILITY 13 for tracking, in Chromium: hostile UTM values appended to a message's links stay inside
// the href (no element, attribute or script of their own), and the view-in-browser page runs no script
// even when the stored HTML carries one (its CSP and sandbox), while the page itself still loads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { bearer, createTestTandem, type TestTandem } from '../harness.ts';
import { browserTestsEnabled, launchChromium } from '../helpers/browser.ts';
import type { CreatedWorkspace } from '../../src/modules/workspaces/index.ts';

const POLYGLOTS = [
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(2)>",
  'jaVasCript:/*-/*`/*\\`/*\'/*"/**/(/* */oNcliCk=alert(3) )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert(3)//>\\x3e',
  '" onmouseover="alert(4)" x="',
  '#"><a href="javascript:alert(5)">x</a>',
];

describe.runIf(browserTestsEnabled())('tracking pages in Chromium', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let browser: Browser;

  const api = (method: string, path: string, body?: unknown) => fetch(`${t.baseUrl}${path}`, {
    method, headers: { authorization: bearer(ws.appApiKey), 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

  /** Sends an inline email (the job run here) and answers its id and view-in-browser path on this port. */
  async function send(body: string): Promise<{ id: string; view: string }> {
    const res = await api('POST', '/v1/send/email', { to: 'ann@example.com', subject: 'Hi', body });
    expect(res.status).toBe(200);
    const { delivery_id: id } = await res.json() as { delivery_id: string };
    await t.services.delivery.send(ws.workspaceId, id);
    const view = new URL(await t.services.tracking.viewUrl(ws.workspaceId, id)).pathname;
    return { id, view };
  }

  async function open(path: string): Promise<{ page: Page; executions: () => number }> {
    let executions = 0;
    const page = await browser.newPage();
    page.on('dialog', (d) => { executions++; void d.dismiss(); });
    await page.goto(`${t.baseUrl}${path}`, { waitUntil: 'load' });
    // Hover and click-like events on everything a handler could sit on (without navigating away).
    await page.evaluate(`for (const el of document.querySelectorAll('*'))
      for (const type of ['mouseover', 'focus']) el.dispatchEvent(new Event(type, { bubbles: true }));`);
    return { page, executions: () => executions };
  }

  beforeAll(async () => {
    t = await createTestTandem({ listen: true });
    ws = await t.workspace('Tracking XSS');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('hostile UTM values stay inside the href, with click tracking off and on', async () => {
    for (const clickTracking of [false, true]) {
      for (const p of POLYGLOTS) {
        const put = await api('PUT', '/api/tracking/settings', { openTracking: false, clickTracking, utm: { source: p, medium: p, campaign: p } });
        expect(put.status).toBe(200);
        const { view } = await send('<p><a href="https://shop.example/a?x=1">A</a> <a href="https://shop.example/b#top">B</a></p>');
        const { page } = await open(view);
        const dom = await page.evaluate<{ scripts: number; handlers: string[]; links: string[]; images: number }>(`({
          scripts: document.querySelectorAll('script').length,
          handlers: Array.from(document.querySelectorAll('*')).flatMap((el) => Array.from(el.attributes).filter((a) => /^on/i.test(a.name)).map((a) => a.name)),
          links: Array.from(document.querySelectorAll('a')).map((a) => a.href),
          images: document.querySelectorAll('img').length,
        })`);
        expect(dom.scripts).toBe(0);
        expect(dom.handlers).toEqual([]);
        expect(dom.images).toBe(0);
        expect(dom.links).toHaveLength(2);
        if (clickTracking) {
          for (const href of dom.links) expect(href).toMatch(/\/c\/[\w-]+\.[\w-]+$/);
          // The redirect's Location carries the values, encoded.
          const res = await fetch(`${t.baseUrl}${new URL(dom.links[0]!).pathname}`, { redirect: 'manual' });
          const location = new URL(res.headers.get('location') ?? '');
          expect(location.origin).toBe('https://shop.example');
          expect(location.searchParams.get('utm_source')).toBe(p);
        } else {
          for (const href of dom.links) {
            const u = new URL(href);
            expect(u.origin).toBe('https://shop.example');
            expect(u.searchParams.get('utm_source')).toBe(p);
            expect(u.searchParams.get('utm_campaign')).toBe(p);
          }
          expect(new URL(dom.links[1]!).hash).toBe('#top');
        }
        await page.close();
      }
    }
  }, 120_000);

  it('the view page runs no script from the stored HTML', async () => {
    await api('PUT', '/api/tracking/settings', { openTracking: true, clickTracking: true });
    const { id, view } = await send('<p>Hello</p>');
    // Whatever a template managed to print: the page must still run none of it.
    // Each would mark the page if it ran (alert alone proves nothing: the sandbox also blocks dialogs).
    const mark = (n: number) => `document.getElementById('msg').textContent='ran ${n}'`;
    const html = `<html><body><p id="msg">Hello</p><script>${mark(1)}</script><img src="data:," onerror="${mark(2)}"><svg onload="${mark(3)}"></svg>`
      + `<a id="js" href="javascript:${mark(4)}">x</a></body></html>`;
    await t.services.db.updateTable('messages').set({ html }).where('workspace_id', '=', ws.workspaceId).where('id', '=', id).execute();
    const { page, executions } = await open(view);
    expect(await page.content()).toContain('<script>');
    await page.click('#js').catch(() => undefined);
    await page.waitForTimeout(200);
    expect(await page.evaluate("document.getElementById('msg')?.textContent")).toBe('Hello');
    expect(executions()).toBe(0);
    await page.close();
    // Control: the same HTML without Tandem's headers does run (so the check above can fail).
    const control = await browser.newPage();
    await control.setContent(html, { waitUntil: 'load' });
    await control.waitForTimeout(100);
    expect(await control.evaluate("document.getElementById('msg')?.textContent")).toMatch(/^ran/);
    await control.close();
  });
});
