// Issue 4's "done when", first half: with TANDEM_SMTP_URL pointing at a real SMTP server, the official
// Customer.io client's transactional send arrives, DKIM-valid by an independent verifier against the
// record `tandem domain add` printed; repeats with one Idempotency-Key send once; the same key with
// another body is refused; 50 concurrent requests with one key make one message.
import http from 'node:http';
import { dkimVerify } from 'mailauth';
import { APIClient, SendEmailRequest } from 'customerio-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from './harness.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import { noSendJobsLeft, until } from './helpers/wait.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';
import type { DomainRecords } from '../src/modules/delivery/index.ts';

describe('transactional email over SMTP', () => {
  let t: TestTandem;
  let sink: SmtpSink;
  let ws: CreatedWorkspace;
  let records: DomainRecords;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestTandem({ listen: true, worker: true, config: { smtpUrl: sink.url } });
    ws = await t.services.workspaces.create('Acme');
    records = await t.services.domains.add(ws.workspaceId, 'acme.example');
    const tpl = await t.services.content.create(ws.workspaceId, 'template', 'receipt', {
      channel: 'email', marketing: false,
      email: {
        subject: 'Receipt {{ trigger.order_id }} for {{ customer.first_name }}', fromName: 'Acme', fromAddress: 'receipts@acme.example',
        layout: 'brand', blocks: [{ component: 'heading', props: { text: 'Thanks, {{ customer.first_name }}!' } },
          { component: 'paragraph', props: { body: '<p>Order {{ trigger.order_id }}: {{ trigger.total }}</p>' } }],
      },
    });
    await t.services.content.publish(ws.workspaceId, 'template', tpl.id);
    const identify = await fetch(`${t.baseUrl}/v1/identify`, {
      method: 'POST', headers: { authorization: basic(ws.writeKey), 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'u-1', traits: { email: 'ann@example.com', first_name: 'Ann' } }),
    });
    expect(identify.status).toBe(200);
  });

  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  const send = (body: object, key?: string) => fetch(`${t.baseUrl}/v1/send/email`, {
    method: 'POST',
    headers: { authorization: bearer(ws.appApiKey), 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });

  it('the Customer.io client\'s send arrives DKIM-valid against the printed record', async () => {
    const port = Number(new URL(t.baseUrl).port);
    const client = new APIClient(ws.appApiKey, { url: `${t.baseUrl}/v1`, protocol: 'http:', port, agent: new http.Agent() });
    const answer = await client.sendEmail(new SendEmailRequest({
      transactional_message_id: 'receipt', identifiers: { id: 'u-1' }, message_data: { order_id: 'A-7', total: '€42.00' },
    } as never)) as { delivery_id: string; queued_at: number };
    expect(answer.delivery_id).toMatch(/^dlv_/);
    expect(answer.queued_at).toBeGreaterThan(1_700_000_000);

    const [mail] = await sink.waitFor(1);
    expect(mail?.to).toEqual(['ann@example.com']);
    expect(mail?.parsed.subject).toBe('Receipt A-7 for Ann');
    expect(mail?.parsed.from?.value[0]).toMatchObject({ name: 'Acme', address: 'receipts@acme.example' });
    expect(mail?.parsed.html).toContain('Thanks, Ann!');
    expect(mail?.parsed.text).toContain('Order A-7: €42.00');
    expect(mail?.parsed.messageId).toBe(`<tandem.${answer.delivery_id}@localhost>`);

    // An independent verifier, with DNS answered from the record Tandem printed.
    const resolver = (name: string, type: string) => {
      if (type === 'TXT' && name === records.dkim.name) return Promise.resolve([[records.dkim.value]]);
      return Promise.reject(Object.assign(new Error(`no ${type} ${name}`), { code: 'ENOTFOUND' }));
    };
    const verdict = await dkimVerify(mail!.raw, { resolver }) as { results: Array<{ status: { result: string }; signingDomain: string; selector: string; signingHeaders?: { keys: string } }> };
    expect(verdict.results).toHaveLength(1);
    expect(verdict.results[0]).toMatchObject({ status: { result: 'pass' }, signingDomain: 'acme.example', selector: records.dkim.selector });
    const signed = (verdict.results[0]?.signingHeaders?.keys ?? '').toLowerCase();
    for (const h of ['from', 'to', 'subject', 'date', 'message-id']) expect(signed).toContain(h);

    // A tampered copy fails.
    const tampered = Buffer.from(mail!.raw.toString('utf8').replace('Receipt A-7', 'Receipt A-8'));
    const bad = await dkimVerify(tampered, { resolver }) as { results: Array<{ status: { result: string } }> };
    expect(bad.results[0]?.status.result).not.toBe('pass');

    const stored = await (await fetch(`${t.baseUrl}/api/messages/${answer.delivery_id}`, { headers: { authorization: bearer(ws.appApiKey) } })).json() as {
      status: string; provider: string; events: Array<{ type: string }>;
    };
    expect(stored).toMatchObject({ status: 'sent', provider: 'smtp' });
    expect(stored.events.map((e) => e.type)).toEqual(['queued', 'sent']);
  });

  it('sends once per Idempotency-Key, answers repeats the same, refuses the key with another body', async () => {
    const before = sink.received.length;
    const body = { to: 'bob@example.com', from: 'Acme <hello@acme.example>', subject: 'Hi {{ trigger.name }}', body: '<p>Hello {{ trigger.name }}</p>', message_data: { name: 'Bob' } };
    const first = await send(body, 'key-1');
    expect(first.status).toBe(200);
    const a = await first.json() as { delivery_id: string };
    const again = await (await send(body, 'key-1')).json() as { delivery_id: string };
    expect(again).toEqual(a);
    const other = await send({ ...body, subject: 'Other' }, 'key-1');
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ code: 'idempotency.key_reused', field: 'Idempotency-Key' });

    // 50 at once with one key: one message, one answer.
    const burst = await Promise.all(Array.from({ length: 50 }, () => send({ ...body, to: 'carol@example.com' }, 'key-burst').then((r) => r.json() as Promise<{ delivery_id: string }>)));
    expect(new Set(burst.map((b) => b.delivery_id)).size).toBe(1);

    await sink.waitFor(before + 2);
    await noSendJobsLeft(t.services.db); // anything extra would have needed a send job
    const mine = sink.received.slice(before).map((m) => m.to[0]).sort();
    expect(mine).toEqual(['bob@example.com', 'carol@example.com']);
    expect(sink.received.slice(before).find((m) => m.to[0] === 'bob@example.com')?.parsed.subject).toBe('Hi Bob');
  });

  it('answers bad requests with a code and the field, and never a 5xx', async () => {
    const cases: Array<[object, number, string, string]> = [
      [{ transactional_message_id: 'nope', to: 'x@example.com' }, 404, 'send.template_not_found', 'transactional_message_id'],
      [{ transactional_message_id: 'receipt' }, 400, 'send.no_recipient', 'to'],
      [{ to: 'x@example.com' }, 400, 'request.invalid', 'transactional_message_id'],
      [{ to: 'x@example.com', subject: 's', body: 'b', bcc: 'y@example.com' }, 400, 'request.invalid', 'bcc'],
      [{ transactional_message_id: 'welcome', to: 'x@example.com' }, 409, 'content.not_published', 'transactional_message_id'],
    ];
    for (const [body, status, code, field] of cases) {
      const res = await send(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(await res.json()).toMatchObject({ code, field });
    }
  });

  it('marketing email carries RFC 8058 one-click; the POST unsubscribes at once; suppressed people get nothing', async () => {
    const news = await t.services.content.create(ws.workspaceId, 'template', 'news', {
      channel: 'email', marketing: true,
      email: { subject: 'News for {{ customer.first_name }}', fromAddress: 'news@acme.example', layout: 'brand', blocks: [{ component: 'heading', props: { text: 'Hello' } }] },
    });
    await t.services.content.publish(ws.workspaceId, 'template', news.id);
    const status = (id: string) => until(async () => {
      const m = await (await fetch(`${t.baseUrl}/api/messages/${id}`, { headers: { authorization: bearer(ws.appApiKey) } })).json() as { status: string };
      return m.status !== 'queued' && m.status !== 'sending' && m.status;
    }, `message ${id} to leave the queue`);

    const before = sink.received.length;
    const first = await (await send({ transactional_message_id: 'news', identifiers: { id: 'u-1' } })).json() as { delivery_id: string };
    expect(await status(first.delivery_id)).toBe('sent');
    const [mail] = (await sink.waitFor(before + 1)).slice(before);
    const rawHead = mail!.raw.toString('utf8').split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
    const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(rawHead)?.[1]?.trim();
    const listUnsubscribe = header('List-Unsubscribe') ?? '';
    expect(header('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    const urls = [...listUnsubscribe.matchAll(/<([^>]+)>/g)].map((m) => m[1] ?? '');
    expect(urls[0]).toMatch(/^http:\/\/localhost:\d+\/u\//);
    expect(urls[1]).toMatch(/^mailto:/);
    // DKIM covers the List-Unsubscribe pair.
    const resolver = (name: string) => (name === records.dkim.name ? Promise.resolve([[records.dkim.value]]) : Promise.reject(Object.assign(new Error('none'), { code: 'ENOTFOUND' })));
    const verdict = await dkimVerify(mail!.raw, { resolver }) as { results: Array<{ status: { result: string }; signingHeaders?: { keys: string } }> };
    expect(verdict.results[0]?.status.result).toBe('pass');
    expect(verdict.results[0]?.signingHeaders?.keys.toLowerCase()).toContain('list-unsubscribe-post');

    // RFC 8058: a cookieless POST with that body, to the URL as given (on this test's port).
    const path = new URL(urls[0] ?? '').pathname;
    const head = await fetch(`${t.baseUrl}${path}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const second = await (await send({ transactional_message_id: 'news', identifiers: { id: 'u-1' } })).json() as { delivery_id: string };
    expect(await status(second.delivery_id)).toBe('sent'); // GET/HEAD changed nothing
    const post = await fetch(`${t.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(post.status).toBe(200);
    const third = await (await send({ transactional_message_id: 'news', identifiers: { id: 'u-1' } })).json() as { delivery_id: string };
    expect(await status(third.delivery_id)).toBe('suppressed');
    // Transactional email still reaches an unsubscribed person...
    const receipt = await (await send({ transactional_message_id: 'receipt', identifiers: { id: 'u-1' }, message_data: { order_id: 'B-1', total: '1' } })).json() as { delivery_id: string };
    expect(await status(receipt.delivery_id)).toBe('sent');
    // ...but never a suppressed address.
    await t.services.consent.suppress(ws.workspaceId, 'email', 'dave@example.com', 'hard_bounce', 'bounce');
    const dave = await (await send({ transactional_message_id: 'receipt', to: 'dave@example.com', message_data: { order_id: 'C-1', total: '1' } })).json() as { delivery_id: string };
    expect(await status(dave.delivery_id)).toBe('suppressed');
    await noSendJobsLeft(t.services.db);
    expect(sink.received.slice(before).map((m) => m.parsed.subject)).toEqual(['News for Ann', 'News for Ann', 'Receipt B-1 for Ann']);
  });
});
