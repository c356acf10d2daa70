// `GET /` in a browser-less way: an HTML page whose every local link answers, no script allowed, and the
// docs it links served as text from docs/ only. Unknown paths stay JSON 404s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from './harness.ts';

describe('the home page', () => {
  let t: TestTandem;
  beforeAll(async () => { t = await createTestTandem({ listen: true }); });
  afterAll(async () => { await t.close(); });

  it('is an HTML page that links the docs, the OpenAPI document and the health endpoints, all answering', async () => {
    const res = await fetch(`${t.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/<script/i);
    const links = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(links).toEqual(expect.arrayContaining(['/api/openapi.json', '/health/live', '/health/ready', '/metrics', '/docs/README.md', '/docs/api.md', '/docs/operations.md']));
    for (const link of links) {
      const linked = await fetch(`${t.baseUrl}${link}`);
      expect(linked.status, link).toBe(200);
      if (link.startsWith('/docs/')) {
        expect(linked.headers.get('content-type'), link).toBe('text/markdown; charset=utf-8');
        expect(await linked.text(), link).toMatch(/^# /);
      }
    }
  });

  it('serves nothing but the docs: other names and paths are JSON 404s', async () => {
    for (const p of ['/docs/..%2Fpackage.json', '/docs/nope.md', '/docs/decisions', '/docs/%2E%2E%2Fsrc%2Fconfig.ts', '/nope', '/api/nope', '/index.html']) {
      const res = await fetch(`${t.baseUrl}${p}`);
      expect(res.status, p).toBe(404);
      expect(await res.json(), p).toMatchObject({ error: { code: 'route.not_found' } });
    }
  });
});
