// RELIABILITY 13 for the public consent pages: hostile workspace and topic names and descriptions in
// the preference centre, the unsubscribe page and the confirmation page, loaded in Chromium. Script
// executions must be zero, and the names arrive as text. Saving the form in the browser works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createTestTandem, type TestTandem } from '../harness.ts';
import { browserTestsEnabled, launchChromium } from '../helpers/browser.ts';

const HOSTILE = [
  '"><img src=x onerror=alert(1)>',
  '</title><script>alert(2)</script>',
  "'><svg onload=alert(3)>",
  'jaVasCript:/*-/*`/*\\`/*\'/*"/**/(/* */oNcliCk=alert(4) )//</stYle/</titLe/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert(5)//>',
];

describe.runIf(browserTestsEnabled())('consent pages with hostile names, in Chromium', () => {
  let t: TestTandem;
  let browser: Browser;

  beforeAll(async () => {
    t = await createTestTandem({ listen: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('runs no script and shows the names as text', async () => {
    const ws = await t.services.workspaces.create(`Shop ${HOSTILE[0]}`);
    const consent = t.services.consent;
    for (const [i, name] of HOSTILE.entries()) {
      await consent.createTopic(ws.workspaceId, { key: `t${i}`, name, description: name, default: 'opt_out', channel: 'email', doubleOptIn: i === 0 });
    }
    await t.services.ingest.ingest(ws.workspaceId, [{ type: 'identify', userId: 'x', traits: { email: 'x@example.com' }, timestamp: new Date() }], { source: 'api' });
    const personId = await t.services.people.find(ws.workspaceId, { userId: 'x' });
    if (!personId) throw new Error('not stored');
    await consent.setConsent(ws.workspaceId, personId, { topics: { t0: 'unsubscribed' } }, { source: 'api' });
    const links = await consent.links(ws.workspaceId, { personId });
    const { confirmUrl } = await consent.subscribe(ws.workspaceId, personId, 't0', { source: 'form' });
    const local = (url: string) => `${t.baseUrl}${new URL(url).pathname}`;
    let executions = 0;
    const pages = [local(links.preferencesUrl), local(links.unsubscribeUrl), local(confirmUrl ?? '')];
    for (const url of pages) {
      const page = await browser.newPage();
      page.on('dialog', (d) => { executions++; void d.dismiss(); });
      await page.exposeFunction('__tandemXss', () => { executions++; });
      await page.addInitScript('window.alert = () => window.__tandemXss();');
      await page.goto(url, { waitUntil: 'load' });
      await page.evaluate(`for (const el of document.querySelectorAll('*'))
        for (const type of ['mouseover', 'click', 'focus']) if (el.tagName !== 'BUTTON' && el.tagName !== 'A') el.dispatchEvent(new Event(type, { bubbles: true }));`);
      const dom = await page.evaluate<{ scripts: number; handlers: string[]; foreign: number; text: string }>(`({
        scripts: document.querySelectorAll('script').length,
        handlers: Array.from(document.querySelectorAll('*')).flatMap((el) => Array.from(el.attributes).filter((a) => /^on/i.test(a.name)).map((a) => a.name)),
        foreign: document.querySelectorAll('img, svg, iframe').length,
        text: document.body.textContent,
      })`);
      expect({ ...dom, text: undefined }, url).toEqual({ scripts: 0, handlers: [], foreign: 0, text: undefined });
      expect(dom.text).toContain(HOSTILE[0]);
      await page.close();
    }
    // The preference centre saves in the browser: uncheck the first opt-out topic (t1) and submit.
    const page = await browser.newPage();
    page.on('dialog', (d) => { executions++; void d.dismiss(); });
    await page.goto(pages[0]!, { waitUntil: 'load' });
    await page.uncheck('input[name="topic"][value="t1"]');
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    expect(await page.textContent('.saved')).toBe('Your preferences have been saved.');
    await page.close();
    const state = await consent.state(ws.workspaceId, personId);
    expect(state.topics.find((x) => x.key === 't1')?.state).toBe('unsubscribed');
    expect(state.topics.find((x) => x.key === 't2')?.state).toBe('subscribed');
    console.log(`XSS consent pages: ${pages.length} pages x ${HOSTILE.length} hostile names, script executions = ${executions}`);
    expect(executions).toBe(0);
  }, 60_000);
});
