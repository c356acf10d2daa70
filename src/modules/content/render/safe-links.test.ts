// Rendered links allow only http, https, mailto and tel (and relative links): a trait printed into
// href cannot carry javascript: (or data:, vbscript:, …) into an email or its view-in-browser page,
// however it is spelled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../../test/harness.ts';
import type { CreatedWorkspace } from '../../workspaces/index.ts';
import { isUnsafeLink, neutraliseUnsafeLinks } from './safe-links.ts';

/** Values a trait could hold, each a way to spell a scheme that runs something. */
const HOSTILE = [
  'javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', '\tjava\nscript:alert(1)', '\u0001javascript:alert(1)',
  'javascript&colon;alert(1)', '&#106;avascript:alert(1)', '&#x6A;avascript:alert(1)', '&#0000106&#0000097vascript:alert(1)',
  'java&Tab;script:alert(1)', 'java&NewLine;script:alert(1)', 'javascript&#58;alert(1)', 'javascript&#x3a;alert(1)',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', 'DATA:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)', 'VBScript:msgbox(1)', 'file:///etc/passwd', 'jav&#x09;ascript:alert(1)',
];
const SAFE = [
  'https://example.com/a?b=c:d', 'http://example.com', 'HTTPS://EXAMPLE.COM', 'mailto:a@example.com', 'tel:+15551234567',
  '/relative/path', 'page.html', '#top', '?q=a:b', '/a:b', '', '10:30',
];

describe('isUnsafeLink', () => {
  it('refuses every spelling of a script scheme and keeps the allowed ones', () => {
    for (const v of HOSTILE) expect(isUnsafeLink(v), v).toBe(true);
    for (const v of SAFE) expect(isUnsafeLink(v), v).toBe(false);
  });
});

describe('neutraliseUnsafeLinks', () => {
  it('rewrites unsafe href, xlink:href, action and formaction in every quoting, and leaves the rest byte for byte', () => {
    const html = [
      '<a href="javascript:alert(1)">a</a>', "<a href='JaVaScRiPt:alert(1)'>b</a>", '<a href=javascript:alert(1)>c</a>',
      '<a title="x > y" href="vbscript:x">d</a>', '<svg><a xlink:href="data:text/html,x">e</a></svg>',
      '<form action="javascript:x"><button formaction="javascript:y">f</button></form>', '<A HREF = "&#106;avascript:z">g</A>',
      '<a href="https://example.com/?a=javascript:1">ok</a>', '<!-- <a href="javascript:in-comment"> -->', '<p data-href="javascript:x">text href=javascript:x</p>',
    ].join('\n');
    const out = neutraliseUnsafeLinks(html);
    expect(out).toBe([
      '<a href="#">a</a>', "<a href='#'>b</a>", '<a href=#>c</a>',
      '<a title="x > y" href="#">d</a>', '<svg><a xlink:href="#">e</a></svg>',
      '<form action="#"><button formaction="#">f</button></form>', '<A HREF = "#">g</A>',
      '<a href="https://example.com/?a=javascript:1">ok</a>', '<!-- <a href="javascript:in-comment"> -->', '<p data-href="javascript:x">text href=javascript:x</p>',
    ].join('\n'));
    const plain = '<p>No links</p><a href="https://example.com">x</a>';
    expect(neutraliseUnsafeLinks(plain)).toBe(plain);
  });
});

describe('in sent email and the view-in-browser page', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem({ listen: true });
    ws = await t.workspace('Links');
  });
  afterAll(async () => { await t.close(); });

  it('a trait in href never reaches the email or the page as a script link', async () => {
    for (const [i, website] of HOSTILE.entries()) {
      const userId = `l-${i}`;
      await t.services.ingest.ingest(ws.workspaceId, [{ type: 'identify', userId, traits: { email: `l${i}@example.com`, website }, timestamp: new Date() }], { source: 'api' });
      const res = await fetch(`${t.baseUrl}/v1/send/email`, {
        method: 'POST', headers: { authorization: bearer(ws.appApiKey), 'content-type': 'application/json' },
        body: JSON.stringify({
          identifiers: { id: userId }, subject: 'Hi',
          body: '<p><a href="{{ customer.website }}">site</a> <a href="{{ customer.website | raw }}">raw</a> <a href=\'{{ trigger.url }}\'>data</a> <a href="{% view_in_browser_url %}">view</a></p>',
          message_data: { url: website },
        }),
      });
      expect(res.status).toBe(200);
      const id = (await res.json() as { delivery_id: string }).delivery_id;
      await t.services.delivery.send(ws.workspaceId, id);
      const m = await t.services.delivery.message(ws.workspaceId, id);
      expect(m?.status).toBe('sent');
      const html = m?.html ?? '';
      const hrefs = [...html.matchAll(/href=(["'])(.*?)\1/g)].map((x) => x[2] ?? '');
      expect(hrefs.length).toBeGreaterThanOrEqual(4);
      for (const h of hrefs) expect(isUnsafeLink(h), `${website} -> ${h}`).toBe(false);
      // The view-in-browser page serves the same HTML.
      const view = hrefs.find((h) => h.includes('/v/'));
      if (!view) throw new Error('no view-in-browser link');
      const page = await (await fetch(`${t.baseUrl}${new URL(view).pathname}`)).text();
      const pageHrefs = [...page.matchAll(/href=(["'])(.*?)\1/g)].map((x) => x[2] ?? '');
      expect(pageHrefs.length).toBeGreaterThanOrEqual(3);
      for (const h of pageHrefs) expect(isUnsafeLink(h), `${website} -> ${h}`).toBe(false);
    }
  });
});
