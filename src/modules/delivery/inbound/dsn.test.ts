import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InboundError, messageIdFromHeader, parseDsn, tandemMessageIdHeader } from './index.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const rejectCode = async (p: Promise<unknown>, code: string) => {
  const err: unknown = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(InboundError);
  expect((err as InboundError).code).toBe(code);
};

describe('RFC 3464 delivery status notifications', () => {
  it('reads a Postfix bounce: 5.x.x is a hard bounce, our id from X-Tandem-Message-Id', async () => {
    const events = await parseDsn(fixture('dsn-postfix-hard.eml'));
    expect(events).toHaveLength(1);
    expect(events[0]!.eventId).toMatch(/^dsn:[0-9a-f]{64}$/);
    expect(events).toEqual([{
      provider: 'dsn', kind: 'hard_bounce', email: 'nobody@example.org', providerMessageId: 'tandem.msg_01JH7ZK3@send.tandem.example', messageId: 'msg_01JH7ZK3',
      at: new Date('2025-01-14T10:21:07Z'),
      reason: '5.1.1 smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
      eventId: events[0]!.eventId,
    }]);
    // A replay of the same report gets the same id.
    expect((await parseDsn(fixture('dsn-postfix-hard.eml')))[0]!.eventId).toBe(events[0]!.eventId);
  });

  it('reads an Exchange NDR with the original message attached, our id from its Message-ID', async () => {
    expect(await parseDsn(fixture('dsn-exchange-hard.eml'))).toEqual([expect.objectContaining({
      kind: 'hard_bounce', email: 'jane.doe@contoso.com', messageId: 'msg_exch42', at: new Date('2025-01-14T10:22:41Z'),
      reason: '5.1.10 smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
    })]);
  });

  it('maps delayed and 4.x.x failures to soft bounces and delivered to delivered, per recipient', async () => {
    const events = await parseDsn(fixture('dsn-postfix-delayed.eml'));
    expect(events.map((e) => [e.kind, e.email, e.messageId])).toEqual([
      ['soft_bounce', 'slow@example.org', 'msg_delay7'],
      ['delivered', 'fine@example.org', 'msg_delay7'],
      ['soft_bounce', 'full@example.org', 'msg_delay7'],
    ]);
    expect(events[0]!.reason).toBe('4.4.1 X-Postfix; connect to mx.example.org[203.0.113.9]:25: Connection timed out');
    expect(events[1]!.at).toEqual(new Date('2025-01-14T10:21:06Z'));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(3);
  });

  it('refuses mail that is not a delivery-status report', async () => {
    await rejectCode(parseDsn(Buffer.from('From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n')), 'payload');
    await rejectCode(parseDsn(Buffer.alloc(0)), 'payload');
    const noStatus = fixture('dsn-postfix-hard.eml').toString().replace('Content-Type: message/delivery-status', 'Content-Type: text/plain');
    await rejectCode(parseDsn(Buffer.from(noStatus)), 'payload');
    const feedbackReport = fixture('dsn-postfix-hard.eml').toString().replace('report-type=delivery-status', 'report-type=feedback-report');
    await rejectCode(parseDsn(Buffer.from(feedbackReport)), 'payload');
  });
});

describe('Tandem Message-IDs', () => {
  it('round-trips a message id through the header and reads it from References-style lists', () => {
    const header = tandemMessageIdHeader('msg_0a1b2c3d', 'Send.Acme.Example');
    expect(header).toBe('<tandem.msg_0a1b2c3d@send.acme.example>');
    expect(messageIdFromHeader(header)).toBe('msg_0a1b2c3d');
    expect(messageIdFromHeader(`<other@x.example> ${header}`)).toBe('msg_0a1b2c3d');
    expect(messageIdFromHeader('tandem.msg_1@send.acme.example')).toBe('msg_1');
  });

  it('does not read other systems\' Message-IDs as ours, and refuses ids a Message-ID cannot carry', () => {
    for (const v of ['<20250114102107.3F2A51C0A4F@mail.example.net>', '<msg_1@send.acme.example>', '', undefined, null, '<tandem.@x>', '<tandem..x@y>']) {
      expect(messageIdFromHeader(v)).toBeUndefined();
    }
    expect(() => tandemMessageIdHeader('has space', 'acme.example')).toThrow(TypeError);
    expect(() => tandemMessageIdHeader('msg_1', 'bad domain')).toThrow(TypeError);
    expect(() => tandemMessageIdHeader('a@b', 'acme.example')).toThrow(TypeError);
  });
});
