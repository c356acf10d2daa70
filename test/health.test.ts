import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from './harness.ts';

describe('health and metrics', () => {
  let t: TestTandem;
  beforeAll(async () => { t = await createTestTandem({ listen: true }); });
  afterAll(async () => { await t.close(); });

  it('answers liveness and readiness over a real port', async () => {
    const live = await fetch(`${t.baseUrl}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${t.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });
  });

  it('exposes Prometheus metrics with ingest counters and latency histograms', async () => {
    const res = await fetch(`${t.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('# TYPE tandem_ingest_events_total counter');
    expect(text).toContain('# TYPE tandem_ingest_duration_seconds histogram');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('answers unknown routes with 404 and a code', async () => {
    const res = await fetch(`${t.baseUrl}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'route.not_found' } });
  });
});
