// The dev inbox shows an email as HTML in Chromium (htmlUrl: a signed link, no key) and no script in it
// runs: hostile HTML stored as it is (a trait that reached the markup unescaped, a raw script, event
// handlers, a javascript: link) renders, yet executes nothing (CSP sandbox without allow-scripts).
// A preview's own links (/preview/unsubscribe, …) open a harmless page.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../harness.ts';
import { browserTestsEnabled, launchChromium } from '../helpers/browser.ts';
import type { CreatedWorkspace } from '../../src/modules/workspaces/index.ts';

const HOSTILE = `<html><head><title>Inbox copy</title><script>document.title = 'ran: head script'</script></head>
<body><p id="greeting">Hello <b>Ann</b> &lt;script&gt;</p>
<script>document.title = 'ran: body script'</script>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" onerror="document.title = 'ran: onerror'" onload="document.title = 'ran: onload'">
<svg onload="document.title = 'ran: svg onload'"></svg>
<iframe srcdoc="<script>parent.document.title = 'ran: iframe'</script>"></iframe>
<a id="js" href="javascript:document.title='ran: link'">link</a>
</body></html>`;

describe.runIf(browserTestsEnabled())('the dev inbox as HTML, in Chromium', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let browser: Browser;

  beforeAll(async () => {
    t = await createTestTandem({ listen: true, config: { publicUrl: 'http://127.0.0.1:1' } });
    ws = await t.services.workspaces.create('Inbox');
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('opens a message from its htmlUrl, renders it, and runs none of its scripts', async () => {
    const m = await t.services.devInbox.deliver(ws.workspaceId, {
      channel: 'email', source: 'test', to: 'ann@example.com', from: null, subject: 'Hi', html: HOSTILE, text: 'Hi', meta: {},
    });
    const res = await fetch(`${t.baseUrl}/api/dev-inbox/${m.id}`, { headers: { authorization: bearer(ws.appApiKey) } });
    const { htmlUrl } = await res.json() as { htmlUrl: string };
    expect(htmlUrl).toMatch(/^http:\/\/127\.0\.0\.1:1\/dev-inbox\/[\w-]+\.[\w-]+$/);
    const url = htmlUrl.replace('http://127.0.0.1:1', t.baseUrl);
    const list = await (await fetch(`${t.baseUrl}/api/dev-inbox`, { headers: { authorization: bearer(ws.appApiKey) } })).json() as { messages: Array<{ htmlUrl: string }> };
    expect(list.messages.map((x) => x.htmlUrl)).toEqual([htmlUrl]);

    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    try {
      const answer = await page.goto(url);
      expect(answer?.status()).toBe(200);
      await expect(page.locator('#greeting').innerText()).resolves.toBe('Hello Ann <script>');
      await page.locator('#js').click({ noWaitAfter: true }).catch(() => undefined);
      // Rendering finished (the text is there): any script would have run by now, and would have
      // changed the title; this is not a wait for nothing to happen.
      expect(await page.title()).toBe('Inbox copy');
      expect(dialogs).toEqual([]);
      expect(answer?.headers()['content-security-policy']).toMatch(/(^|; )sandbox( |;|$)/);
      expect(answer?.headers()['content-security-policy']).not.toContain('allow-scripts');
    } finally {
      await page.close();
    }
  }, 60_000);

  it('refuses a forged, altered or other-purpose token with a 404 page', async () => {
    const m = await t.services.devInbox.deliver(ws.workspaceId, {
      channel: 'email', source: 'test', to: 'bo@example.com', from: null, subject: 'Hi', html: '<p>x</p>', text: 'x', meta: {},
    });
    const good = (await t.services.devInbox.htmlUrl(ws.workspaceId, m))!.split('/dev-inbox/')[1]!;
    const [data = '', mac = ''] = good.split('.');
    for (const token of [`${data}.${mac.slice(0, -2)}AA`, `${data}x.${mac}`, 'nope', `${Buffer.from(JSON.stringify({ w: ws.workspaceId, m: m.id, u: 9e9 })).toString('base64url')}.${mac}`]) {
      const res = await fetch(`${t.baseUrl}/dev-inbox/${token}`);
      expect(res.status, token).toBe(404);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    }
    expect((await fetch(`${t.baseUrl}/dev-inbox/${good}`)).status).toBe(200);
  });

  it.each(['unsubscribe', 'preferences', 'view-in-browser'])('a preview\'s /preview/%s link opens a page saying it is a preview', async (name) => {
    const page = await browser.newPage();
    try {
      const answer = await page.goto(`${t.baseUrl}/preview/${name}`);
      expect(answer?.status()).toBe(200);
      await expect(page.locator('h1').innerText()).resolves.toBe('This is a preview');
    } finally {
      await page.close();
    }
  });
});
