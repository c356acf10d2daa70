// Closing the HTTP server while requests are in flight: each keep-alive connection closes as soon as
// its request is answered, instead of holding the shutdown for the 70 s keep-alive timeout.
import { expect, it } from 'vitest';
import { bearer, createTestTandem } from './harness.ts';

it('closes promptly with requests in flight on keep-alive connections', async () => {
  const t = await createTestTandem({ listen: true });
  const ws = await t.workspace('Closing');
  const inflight = Array.from({ length: 6 }, () =>
    fetch(`${t.baseUrl}/api/content/templates`, { headers: { authorization: bearer(ws.appApiKey) } })
      .then((r) => r.status).catch(() => 0));
  await new Promise((r) => setTimeout(r, 5));
  const started = Date.now();
  await t.close();
  const statuses = await Promise.all(inflight);
  expect(Date.now() - started).toBeLessThan(5_000);
  // Each request either was answered or was refused as the server closed; none hung.
  for (const s of statuses) expect([0, 200, 503]).toContain(s);
}, 90_000);
