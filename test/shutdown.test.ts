// Closing the HTTP server while requests are in flight: each keep-alive connection closes as soon as
// its request is answered, instead of holding the shutdown for the 70 s keep-alive timeout.
import { expect, it } from 'vitest';
import { bearer, createTestTandem } from './harness.ts';
import { until } from './helpers/wait.ts';

const KEEP_ALIVE_MS = 70_000;

it('closes promptly with requests in flight on keep-alive connections, and answers every one of them', async () => {
  const t = await createTestTandem({ listen: true });
  const ws = await t.workspace('Closing');
  // Count what the server has received: close only once every request is really in flight (a request
  // not yet sent when the server closes is refused, and would prove nothing).
  let received = 0;
  t.app.server.on('request', () => { received++; });
  const inflight = Array.from({ length: 6 }, () =>
    fetch(`${t.baseUrl}/api/content/templates`, { headers: { authorization: bearer(ws.appApiKey) } }).then((r) => r.status));
  await until(() => received === 6, 'the 6 requests to reach the server');
  const started = Date.now();
  await t.close();
  const statuses = await Promise.all(inflight);
  const ms = Date.now() - started;
  process.stdout.write(`shutdown: closed in ${ms} ms with 6 requests in flight (keep-alive timeout ${KEEP_ALIVE_MS} ms)\n`);
  // Far below the keep-alive timeout that a lingering connection would hold it for, whatever the load.
  expect(ms).toBeLessThan(KEEP_ALIVE_MS / 3);
  // Every request that reached the server is answered: served, or told the server is going away.
  for (const s of statuses) expect([200, 503]).toContain(s);
}, 90_000);
