// RELIABILITY 13 for previews: XSS polyglots in a person's attributes and event properties, rendered
// through the preview API (starter-kit blocks with personalised copy, and a code-mode template that
// prints the data in text, attributes and URLs), then loaded in Chromium. Script executions must be
// zero, and no element may carry an event-handler attribute or a script the template did not write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { basic, bearer, createTestTandem, type TestTandem } from '../harness.ts';
import { browserTestsEnabled, launchChromium } from '../helpers/browser.ts';
import type { CreatedWorkspace } from '../../src/modules/workspaces/index.ts';

const POLYGLOTS = [
  'jaVasCript:/*-/*`/*\\`/*\'/*"/**/(/* */oNcliCk=alert(1) )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert(2)//>\\x3e',
  '"><img src=x onerror=alert(3)>',
  "'><svg onload=alert(4)>",
  '</script><script>alert(5)</script>',
  '<iframe src="javascript:alert(6)"></iframe>',
  '" onmouseover="alert(7)" x="',
  '{{ 7 | times: 7 }}{% raw %}<script>alert(8)</script>',
  '<scr<script>ipt>alert(9)</scr</script>ipt>',
];

describe.runIf(browserTestsEnabled())('XSS polyglots in previews, in Chromium', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let browser: Browser;
  const templates: string[] = [];

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${t.baseUrl}${path}`, {
      method, headers: { authorization: bearer(ws.appApiKey), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return await res.json() as T;
  };

  beforeAll(async () => {
    t = await createTestTandem({ listen: true });
    ws = await t.services.workspaces.create('XSS');
    browser = await launchChromium();
    const blocks = await api<{ id: string }>('POST', '/api/content/templates', { name: 'blocks', body: {
      channel: 'email', marketing: true, email: {
        subject: 'Hi {{ customer.first_name }}', layout: 'brand', blocks: [
          { component: 'heading', props: { text: 'Hello {{ customer.first_name }} from {{ customer.city }}' } },
          { component: 'paragraph', props: { body: '<p>You looked at {{ event.product }}. {% if customer.vip %}<b>VIP</b>{% endif %}</p>' } },
          { component: 'button', props: { link: { url: 'https://shop.example/p?u={{ customer.id }}&q={{ event.product }}', label: 'See {{ event.product }}' } } },
        ],
      },
    } });
    const code = await api<{ id: string }>('POST', '/api/content/templates', { name: 'code', body: {
      channel: 'email', marketing: false, email: {
        subject: '{{ event.product }}',
        code: { html: `<html><head><title>{{ customer.first_name }}</title></head><body>
<p title="{{ customer.first_name }}" data-x='{{ customer.city }}'>{{ customer.first_name }} {{ event.product }}</p>
<img src="https://img.example/{{ customer.city }}.png" alt="{{ event.product }}">
<a href="https://shop.example/?q={{ event.product | url_encode }}">{{ customer.city }}</a>
<div>{% for tag in event.tags %}<span>{{ tag }}</span>{% endfor %}</div>
</body></html>` },
      },
    } });
    templates.push(blocks.id, code.id);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('runs no script from any polyglot, in any context', async () => {
    let executions = 0;
    let checked = 0;
    for (const [i, p] of POLYGLOTS.entries()) {
      const userId = `xss-${i}`;
      const send = (path: string, payload: object) => fetch(`${t.baseUrl}${path}`, {
        method: 'POST', headers: { authorization: basic(ws.writeKey), 'content-type': 'application/json' }, body: JSON.stringify(payload),
      });
      expect((await send('/v1/identify', { userId, traits: { first_name: p, city: p, vip: true } })).status).toBe(200);
      expect((await send('/v1/track', { userId, event: 'Viewed', properties: { product: p, tags: [p, p] } })).status).toBe(200);

      for (const id of templates) {
        const preview = await api<{ email: { html: string; subject: string } }>('POST', `/api/content/templates/${id}/preview`, { person: { userId } });
        const page = await browser.newPage();
        page.on('dialog', (d) => { executions++; void d.dismiss(); });
        await page.exposeFunction('__tandemXss', () => { executions++; });
        // Browser-side code is passed as source text: this project's TypeScript has no DOM types.
        await page.addInitScript('window.alert = () => window.__tandemXss();');
        await page.setContent(preview.email.html, { waitUntil: 'load' });
        // Hover and click every link and element a handler could sit on (without navigating away).
        await page.evaluate(`for (const el of document.querySelectorAll('*'))
          for (const type of ['mouseover', 'click', 'focus']) el.dispatchEvent(new Event(type, { bubbles: true }));`);
        const dom = await page.evaluate(`({
          scripts: document.querySelectorAll('script').length,
          handlers: Array.from(document.querySelectorAll('*')).flatMap((el) => Array.from(el.attributes).filter((a) => /^on/i.test(a.name)).map((a) => a.name)),
          jsUrls: Array.from(document.querySelectorAll('[href],[src]')).filter((el) => /^\\s*javascript:/i.test(el.getAttribute('href') ?? el.getAttribute('src') ?? '')).length,
          frames: document.querySelectorAll('iframe, svg').length,
        })`);
        expect(dom, `template ${id}, polyglot ${i}`).toEqual({ scripts: 0, handlers: [], jsUrls: 0, frames: 0 });
        // The text arrives as text: the polyglot is visible, not interpreted.
        expect(await page.evaluate<string>("document.body.textContent ?? ''")).toContain(p.slice(0, 12));
        await page.close();
        checked++;
      }
    }
    console.log(`XSS previews: ${checked} pages (${POLYGLOTS.length} polyglots x ${templates.length} templates), script executions = ${executions}`);
    expect(checked).toBe(POLYGLOTS.length * templates.length);
    expect(executions).toBe(0);
  }, 120_000);
});
