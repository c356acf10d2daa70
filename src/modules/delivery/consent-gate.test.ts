// The consent gate in the send job, on every channel: a message to a person who said no, or to a
// suppressed address, ends `suppressed` and reaches nobody (the SMTP sink for email, the dev inbox for
// SMS); the same send to a person who did not say no is delivered. The channels come from the consent
// module's list, so a channel added later is held to the same rules. (An injected bug that dropped the
// check for SMS passed the whole suite before this file.)
import type { JobHelpers } from 'graphile-worker';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from '../../../test/harness.ts';
import { startCountingSink, type CountingSink } from '../../../test/helpers/counting-sink.ts';
import { CONSENT_CHANNELS, type ConsentChannel } from '../consent/index.ts';
import { SEND_TASK } from './index.ts';

let t: TestTandem;
let sink: CountingSink;
let ws: string;
let n = 0;

beforeAll(async () => {
  sink = await startCountingSink();
  t = await createTestTandem({ config: { smtpUrl: sink.url } });
  ws = (await t.workspace('Gate')).workspaceId;
  for (const channel of CONSENT_CHANNELS) {
    await t.services.consent.createTopic(ws, { key: `news-${channel}`, name: `News ${channel}`, default: 'opt_out', channel });
    await t.services.consent.createTopic(ws, { key: `vip-${channel}`, name: `VIP ${channel}`, default: 'opt_in', channel });
    for (const [name, marketing, topic] of [[`news-${channel}`, true, `news-${channel}`], [`vip-${channel}`, true, `vip-${channel}`],
      [`receipt-${channel}`, false, null]] as const) {
      const body = channel === 'email'
        ? { channel, marketing, ...(topic ? { topic } : {}), email: { subject: `${name} for {{ customer.first_name }}`, fromAddress: 'shop@gate.example', blocks: [{ component: 'paragraph', props: { body: '<p>Hello</p>' } }] } }
        : { channel, marketing, ...(topic ? { topic } : {}), sms: { body: `${name} for {{ customer.first_name }}` } };
      const tpl = await t.services.content.create(ws, 'template', name, body);
      await t.services.content.publish(ws, 'template', tpl.id);
    }
  }
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
});

async function person(): Promise<{ id: string; userId: string; email: string; phone: string }> {
  const userId = `gate-${++n}`;
  const email = `gate${n}@gate.example`;
  const phone = `+1555${String(1_000_000 + n).slice(-7)}`;
  await t.services.ingest.ingest(ws, [{ type: 'identify', userId, traits: { email, phone, first_name: `P${n}` }, timestamp: new Date() }], { source: 'api' });
  const id = await t.services.people.find(ws, { userId });
  if (!id) throw new Error('not stored');
  return { id, userId, email, phone };
}

/** Sends through the transactional API and runs the send job for it; answers the outcome. */
async function send(channel: ConsentChannel, template: string, userId: string): Promise<{ status: string; reason: string | null; delivered: number }> {
  const { delivery_id: id } = await t.services.transactional.send(ws, { channel, transactional_message_id: template, identifiers: { id: userId } }, undefined);
  const job = (await sql<{ id: string }>`SELECT id::text FROM graphile_worker.jobs WHERE key = ${`send:${ws}:${id}`}`.execute(t.services.db)).rows[0];
  await (t.services.delivery.tasks()[SEND_TASK] as (p: unknown, h: JobHelpers) => Promise<void>)(
    { workspaceId: ws, messageId: id }, { job: { id: job?.id ?? '1' } } as JobHelpers);
  const m = await t.services.db.selectFrom('messages').select(['status', 'status_reason']).where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirstOrThrow();
  // The send job has finished: whatever was delivered has been handed over by now.
  const inbox = await sql<{ n: number }>`SELECT count(*)::int AS n FROM dev_inbox WHERE workspace_id = ${ws} AND meta->>'messageId' = ${id}`.execute(t.services.db);
  return { status: m.status, reason: m.status_reason, delivered: (sink.byMessage.get(id) ?? 0) + (inbox.rows[0]?.n ?? 0) };
}

const ctx = { source: 'api' as const };

describe.each(CONSENT_CHANNELS.map((c) => [c]))('the send job\'s consent gate on %s', (channel) => {
  it('delivers marketing to a person who did not say no (the control)', async () => {
    const p = await person();
    expect(await send(channel, `news-${channel}`, p.userId)).toEqual({ status: 'sent', reason: null, delivered: 1 });
  });

  it('sends nothing to a person unsubscribed from the topic', async () => {
    const p = await person();
    await t.services.consent.setConsent(ws, p.id, { topics: { [`news-${channel}`]: false } }, ctx);
    expect(await send(channel, `news-${channel}`, p.userId)).toEqual({ status: 'suppressed', reason: 'topic_unsubscribed', delivered: 0 });
    // Transactional messages ignore unsubscribes.
    expect(await send(channel, `receipt-${channel}`, p.userId)).toMatchObject({ status: 'sent', delivered: 1 });
  });

  it('sends no marketing to a person unsubscribed from the whole channel, and the other channel is not affected', async () => {
    const p = await person();
    await t.services.consent.setConsent(ws, p.id, { unsubscribedAll: { [channel]: true } }, ctx);
    expect(await send(channel, `news-${channel}`, p.userId)).toEqual({ status: 'suppressed', reason: 'unsubscribed', delivered: 0 });
    for (const other of CONSENT_CHANNELS.filter((c) => c !== channel)) {
      expect(await send(other, `news-${other}`, p.userId)).toMatchObject({ status: 'sent', delivered: 1 });
    }
  });

  it('sends nothing on an opt-in topic until the person opts in', async () => {
    const p = await person();
    expect(await send(channel, `vip-${channel}`, p.userId)).toEqual({ status: 'suppressed', reason: 'not_opted_in', delivered: 0 });
    await t.services.consent.setConsent(ws, p.id, { topics: { [`vip-${channel}`]: true } }, ctx);
    expect(await send(channel, `vip-${channel}`, p.userId)).toMatchObject({ status: 'sent', delivered: 1 });
  });

  it('sends nothing at all, not even transactional, to a suppressed address', async () => {
    const p = await person();
    await t.services.consent.suppress(ws, channel, channel === 'email' ? p.email.toUpperCase() : p.phone, 'manual', 'admin');
    expect(await send(channel, `receipt-${channel}`, p.userId)).toEqual({ status: 'suppressed', reason: 'suppressed', delivered: 0 });
    expect(await send(channel, `news-${channel}`, p.userId)).toEqual({ status: 'suppressed', reason: 'suppressed', delivered: 0 });
  });
});
