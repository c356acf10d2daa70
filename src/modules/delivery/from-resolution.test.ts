// Where mail comes from, over a real SMTP conversation: inline transactional sends resolve From like
// template sends (the request's > the sender's own > the workspace's fromAddress) and are DKIM-signed
// when the From's domain is a sending domain; a template's test send goes through the workspace's
// sender when one exists, and to the dev inbox only when none does.
import { dkimVerify } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import { startSmtpSink, type Received, type SmtpSink } from '../../../test/helpers/smtp-sink.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';

let sink: SmtpSink;
let t: TestTandem;
let ws: CreatedWorkspace;
let dkimRecord: { name: string; value: string };

const app = async (method: string, path: string, body?: unknown) => {
  const res = await t.app.inject({ method: method as 'GET', url: path, headers: { authorization: bearer(ws.appApiKey) }, ...(body ? { payload: body as Record<string, unknown> } : {}) });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
};

/** An inline send, made and sent now; its stored message. */
async function sendInline(body: Record<string, unknown>) {
  const res = await app('POST', '/v1/send/email', { subject: 'Hi', body: '<p>Hello</p>', ...body });
  expect(res.status).toBe(200);
  const id = res.body['delivery_id'] as string;
  await t.services.delivery.send(ws.workspaceId, id);
  return t.services.delivery.message(ws.workspaceId, id);
}

const mailTo = (to: string): Promise<Received> => sink.mailTo(to);

async function dkimPasses(mail: Received): Promise<boolean> {
  const resolver = (name: string, type: string) => (type === 'TXT' && name === dkimRecord.name
    ? Promise.resolve([[dkimRecord.value]])
    : Promise.reject(Object.assign(new Error(`no ${type} ${name}`), { code: 'ENOTFOUND' })));
  const verdict = await dkimVerify(mail.raw, { resolver }) as { results: Array<{ status: { result: string }; signingDomain: string }> };
  return verdict.results.some((r) => r.status.result === 'pass' && r.signingDomain === 'brand.example');
}

beforeAll(async () => {
  sink = await startSmtpSink();
  // The sink listens on loopback: an API-saved sender may reach it only with the private-address allowance.
  t = await createTestTandem({ config: { outboundAllowPrivate: true } });
  ws = await t.workspace('Brand');
  await t.services.workspaces.update(ws.workspaceId, { settings: { fromName: 'Brand', fromAddress: 'hello@brand.example', replyTo: 'help@brand.example' } });
  const domain = await app('POST', '/api/domains', { domain: 'brand.example' });
  expect(domain.status).toBeLessThan(300);
  dkimRecord = (domain.body as { dkim: { name: string; value: string } }).dkim;
});
afterAll(async () => {
  await t.close();
  await sink.close();
});

describe('from resolution and test sends', () => {
  it('with no sender, an inline send uses the workspace from and a test send goes to the dev inbox', async () => {
    const m = await sendInline({ to: 'a@example.com' });
    expect(m).toMatchObject({ status: 'sent', fromAddress: 'Brand <hello@brand.example>', provider: 'dev_inbox' });
    const tpl = await t.services.content.create(ws.workspaceId, 'template', 'plain-test', {
      channel: 'email', marketing: false, email: { subject: 'Welcome', code: { html: '<p>Hi</p>' } },
    });
    const test = await app('POST', `/api/content/templates/${tpl.id}/test-send`, { to: 'me@example.com' });
    expect(test.status).toBe(202);
    expect(test.body).toMatchObject({ deliveredTo: 'dev-inbox', senderId: null });
    expect(test.body['devInboxId']).toEqual(expect.any(String));
    expect(sink.received).toHaveLength(0);
  });

  it('through a real sender: the workspace from, DKIM-signed; the sender\'s from beats it; the request\'s beats both', async () => {
    const sender = await app('POST', '/api/senders', { name: 'sink', channel: 'email', config: { kind: 'smtp', url: sink.url } });
    expect(sender.status).toBe(201);

    await sendInline({ to: 'b@example.com' });
    const plain = await mailTo('b@example.com');
    expect(plain.parsed.from?.value[0]).toMatchObject({ name: 'Brand', address: 'hello@brand.example' });
    expect(plain.parsed.replyTo?.value[0]?.address).toBe('help@brand.example');
    expect(await dkimPasses(plain)).toBe(true);

    // A second sender, now the default, with a from of its own.
    const news = await app('POST', '/api/senders', { name: 'news', channel: 'email', config: { kind: 'smtp', url: sink.url }, from: 'News <news@brand.example>' });
    expect(news.status).toBe(201);
    await sendInline({ to: 'c@example.com' });
    const bySender = await mailTo('c@example.com');
    expect(bySender.parsed.from?.value[0]).toMatchObject({ name: 'News', address: 'news@brand.example' });
    expect(await dkimPasses(bySender)).toBe(true);

    await sendInline({ to: 'd@example.com', from: 'Ops <ops@brand.example>' });
    expect((await mailTo('d@example.com')).parsed.from?.value[0]).toMatchObject({ name: 'Ops', address: 'ops@brand.example' });
  });

  it('a test send goes through the workspace\'s sender when it has one', async () => {
    const tpl = await t.services.content.getByName(ws.workspaceId, 'template', 'plain-test');
    const test = await app('POST', `/api/content/templates/${tpl?.id ?? ''}/test-send`, { to: 'tester@example.com' });
    expect(test.status).toBe(202);
    expect(test.body).toMatchObject({ deliveredTo: 'sender', devInboxId: null, senderId: expect.stringMatching(/./) as unknown });
    const mail = await mailTo('tester@example.com');
    expect(mail.parsed.subject).toBe('[Test] Welcome');
    expect(mail.parsed.from?.value[0]?.address).toBe('news@brand.example');
    expect(await dkimPasses(mail)).toBe(true);
  });
});
