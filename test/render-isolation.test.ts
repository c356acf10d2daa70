// RELIABILITY.md test 17: while hostile templates render (giant ranges and sorts, a 200 KB and a
// 30 KB MJML document, 15,000 nested tables), through /v1/send/email and previews, /health/live
// keeps answering: p99 under 100 ms over a few hundred samples on the real port. And a failure that
// will fail again is never retried: each hostile send ends `failed` after exactly one attempt.
import { Agent, request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';
import { bearer, createTestTandem, type TestTandem } from './harness.ts';

let t: TestTandem;
let ws: CreatedWorkspace;
const agent = new Agent({ connections: 8 });

beforeAll(async () => {
  t = await createTestTandem({ listen: true, worker: true });
  ws = await t.workspace();
});
afterAll(async () => {
  await agent.close();
  await t?.close();
});

async function api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(`${t.baseUrl}${path}`, {
    method, dispatcher: agent,
    headers: { authorization: bearer(ws.appApiKey), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

const section = (i: number) =>
  `<mj-section><mj-column><mj-text>Paragraph ${i} for {{ customer.first_name }}: lorem ipsum dolor sit amet.</mj-text>` +
  `<mj-button href="https://shop.example/p/${i}">Open</mj-button></mj-column></mj-section>\n`;
const mjmlOf = (chars: number) => {
  let body = '';
  for (let i = 0; body.length < chars; i++) body += section(i);
  return `<mjml><mj-body>${body}</mj-body></mjml>`;
};

const HOSTILE_BODIES = {
  range_sort: '<p>{% assign a = (1..8000000) | sort %}{{ a | size }}</p>',
  range_sort_natural: '<p>{% assign a = (1..8000000) | sort_natural %}{{ a | size }}</p>',
  range_uniq: '<p>{% assign a = (1..8000000) | uniq %}{{ a | size }}</p>',
  sorts_in_a_loop: '<p>{% for i in (1..100000) %}{% assign b = (1..9000) | sort_natural | reverse | uniq %}{% endfor %}</p>',
  deep_tables: `${'<table><tr><td>'.repeat(15_000)}x${'</td></tr></table>'.repeat(15_000)}`,
};

it('answers /health/live within 100 ms (p99) while hostile templates render, and fails each hostile send once', async () => {
  // Templates for the previews: a 200 KB MJML document (refused before MJML runs) and a 30 KB one (compiled in a thread).
  const templates: string[] = [];
  for (const [name, chars] of [['mjml-200k', 200_000], ['mjml-30k', 30_000]] as const) {
    const created = await api('POST', '/api/content/templates', {
      name, body: { channel: 'email', marketing: false, email: { subject: 'Hi', code: { mjml: mjmlOf(chars) } } },
    });
    expect(created.status, JSON.stringify(created.json).slice(0, 300)).toBe(201);
    templates.push(created.json['id'] as string);
  }

  // The probe: /health/live back to back on its own connection, for as long as hostile work runs.
  let latencies: number[] = [];
  let hostileDone = false;
  const probeUntil = async (done: () => boolean) => {
    const own = new Agent({ connections: 1 });
    try {
      while (!done() || latencies.length < 300) {
        const t0 = performance.now();
        const res = await request(`${t.baseUrl}/health/live`, { dispatcher: own });
        await res.body.dump();
        latencies.push(performance.now() - t0);
        expect(res.statusCode).toBe(200);
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      await own.close();
    }
  };
  const sorted = () => [...latencies].sort((a, b) => a - b);
  const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
  const figures = (xs: number[]) => `${xs.length} samples, p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${pct(xs, 100).toFixed(1)} ms`;

  // For reference, the same probe with nothing rendering (the machine's own noise).
  await probeUntil(() => true);
  console.log(`/health/live, nothing rendering: ${figures(sorted())}`);
  latencies = [];
  const probe = probeUntil(() => hostileDone);

  // The hostile work: sends (rendered by the delivery job) and previews, all at once.
  const sent: Array<{ name: string; id: string }> = [];
  const previewStatuses: number[] = [];
  const previewCodes = new Set<string>();
  try {
    const sends = Object.entries(HOSTILE_BODIES).map(async ([name, body]) => {
      const res = await api('POST', '/v1/send/email', { to: `${name}@example.com`, subject: 'Hostile', body });
      expect(res.status, JSON.stringify(res.json).slice(0, 300)).toBe(200);
      sent.push({ name, id: res.json['delivery_id'] as string });
    });
    const previews = templates.map(async (id) => {
      const res = await api('POST', `/api/content/templates/${id}/preview`, {});
      previewStatuses.push(res.status);
      const error = res.json['error'] as { code?: string } | undefined;
      if (error?.code) previewCodes.add(error.code);
    });
    await Promise.all([...sends, ...previews]);
    // Every hostile message reaches its final status.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const rows = await t.services.db.selectFrom('messages').select(['id', 'status', 'status_reason']).where('workspace_id', '=', ws.workspaceId)
        .where('id', 'in', sent.map((s) => s.id)).execute();
      if (rows.length === sent.length && rows.every((r) => r.status === 'failed' || r.status === 'sent')) break;
      if (Date.now() > deadline) throw new Error(`hostile messages still pending: ${JSON.stringify(rows)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    hostileDone = true;
    await probe;
  }

  const during = sorted();
  console.log(`/health/live during hostile renders: ${figures(during)}`);

  // Each hostile send failed once, with a template error, never retried.
  for (const s of sent) {
    const m = await t.services.delivery.message(ws.workspaceId, s.id);
    expect(m, s.name).toMatchObject({ status: 'failed', attempts: 1 });
    expect(m?.events.map((e) => e.type), s.name).toEqual(['queued', 'failed']);
    expect(m?.statusReason ?? '', s.name).toMatch(/stopped|too large|limit|deadline/i);
  }
  // Previews answer (the 30 KB document may compile in time) or fail with a 4xx and a template code, never a 500.
  expect(previewStatuses.every((s) => s < 500), JSON.stringify(previewStatuses)).toBe(true);
  expect(previewStatuses.some((s) => s >= 400), JSON.stringify(previewStatuses)).toBe(true);
  expect([...previewCodes].every((c) => c.startsWith('template.')), JSON.stringify([...previewCodes])).toBe(true);

  expect(during.length).toBeGreaterThanOrEqual(300);
  expect(pct(during, 99)).toBeLessThan(100);

  // The server still renders: an ordinary send goes out.
  const ok = await api('POST', '/v1/send/email', { to: 'fine@example.com', subject: 'Hi', body: '<p>{{ "fine" | upcase }}</p>' });
  const okId = ok.json['delivery_id'] as string;
  await expect.poll(async () => (await t.services.delivery.message(ws.workspaceId, okId))?.status, { timeout: 60_000, interval: 100 }).toBe('sent');
}, 300_000);
