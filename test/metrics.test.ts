// /metrics beyond ingest and HTTP: after a send and a segment drain run by a real worker, the send,
// job and drain series have moved, and queue depth counts a scheduled job by task.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from './harness.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';
import { enqueueJob } from '../src/worker/jobs.ts';

/** The value of one series, e.g. value(text, 'tandem_messages_total{channel="email",outcome="sent"}'); 0 when absent. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('/metrics', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  const scrape = async () => (await t.app.inject({ method: 'GET', url: '/metrics' })).body;

  /** Polls /metrics until the condition holds (a worker runs the jobs; the machine may be slow). */
  async function until(what: string, ok: (text: string) => boolean, ms = 60_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const text = await scrape();
      if (ok(text)) return text;
      if (Date.now() > deadline) throw new Error(`/metrics never showed ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    t = await createTestTandem({ worker: true });
    ws = await t.workspace();
  });
  afterAll(async () => { await t?.close(); });

  it('counts a send by channel and outcome, its latency, and the send job', async () => {
    const res = await t.app.inject({
      method: 'POST', url: '/v1/send/email', headers: { authorization: bearer(ws.appApiKey) },
      payload: { to: 'ann@example.com', subject: 'Hi', body: '<p>Hello</p>' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const text = await until('a sent email', (s) => value(s, 'tandem_messages_total{channel="email",outcome="sent"}') >= 1);
    expect(value(text, 'tandem_send_duration_seconds_count{channel="email"}')).toBeGreaterThanOrEqual(1);
    const job = await until('the send job', (s) => value(s, 'tandem_job_duration_seconds_count{task="delivery:send",outcome="success"}') >= 1);
    expect(value(job, 'tandem_job_wait_seconds_count{task="delivery:send"}')).toBeGreaterThanOrEqual(1);
  });

  it('counts segment drains and the people they evaluated', async () => {
    const seg = await t.app.inject({
      method: 'POST', url: '/api/segments', headers: { authorization: bearer(ws.appApiKey) },
      payload: { key: 'pro', name: 'Pro', definition: { type: 'attribute', path: 'plan', op: 'equals', value: 'pro' } },
    });
    expect(seg.statusCode, seg.body).toBe(201);
    const before = await scrape();
    const drains = value(before, 'tandem_segment_drains_total');
    const people = value(before, 'tandem_segment_drain_people_total');
    const identify = await t.app.inject({
      method: 'POST', url: '/v1/identify', headers: { authorization: basic(ws.writeKey) },
      payload: { userId: 'u-1', traits: { plan: 'pro' } },
    });
    expect(identify.statusCode).toBe(200);
    const text = await until('a drain that evaluated the person',
      (s) => value(s, 'tandem_segment_drains_total') > drains && value(s, 'tandem_segment_drain_people_total') > people);
    expect(value(text, 'tandem_segment_drain_duration_seconds_count')).toBeGreaterThan(0);
  });

  it('reports queue depth by task and state', async () => {
    await enqueueJob(t.services.db, 'events:purge_dedupe', {}, { runAt: new Date(Date.now() + 3_600_000), jobKey: 'metrics-test' });
    const text = await until('the scheduled job', (s) => value(s, 'tandem_queue_jobs{task="events:purge_dedupe",state="scheduled"}') >= 1, 15_000);
    expect(text).toContain('# TYPE tandem_queue_jobs gauge');
  });
});
