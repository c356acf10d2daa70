// Mailgun webhooks: the signature travels in the JSON body ({ signature: { timestamp, token, signature },
// "event-data": {...} }): a hex HMAC-SHA256 of timestamp + token under the account's HTTP webhook signing
// key. Subaccount events add "parent-signature", made with the primary account's key; either may match.
import { createHmac } from 'node:crypto';
import { messageIdFromHeader } from './message-id.ts';
import { checkFresh, dateOf, emailOf, event, guarded, hashEventId, idOf, obj, parseJson, payloadError, rawBody, safeEqual, signatureError, str, tandemIdFrom, type Json } from './common.ts';
import type { InboundEvent, InboundKind, InboundOptions, InboundRequest } from './types.ts';

export interface MailgunSecrets { signingKey: string }

function verify(sig: Json | undefined, secrets: MailgunSecrets, opts: InboundOptions): void {
  const timestamp = idOf(sig?.timestamp);
  const token = str(sig?.token);
  const given = [str(sig?.signature), str(sig?.['parent-signature'])].filter((s): s is string => s !== undefined);
  if (!timestamp || !token || given.length === 0) throw signatureError('the Mailgun signature is missing');
  if (!secrets?.signingKey) throw signatureError('no Mailgun signing key is configured');
  const expected = createHmac('sha256', secrets.signingKey).update(timestamp + token).digest('hex');
  if (!given.some((g) => safeEqual(g.toLowerCase(), expected))) throw signatureError('the Mailgun signature does not match');
  checkFresh(/^\d{1,12}$/.test(timestamp) ? dateOf(Number(timestamp)) : undefined, opts);
}

function kindOf(data: Json): InboundKind | undefined {
  switch (str(data.event) ?? '') {
    case 'failed': return str(data.severity) === 'permanent' ? 'hard_bounce' : 'soft_bounce';
    case 'complained': return 'complaint';
    case 'delivered': return 'delivered';
    case 'opened': return 'opened';
    case 'clicked': return 'clicked';
    case 'unsubscribed': return 'unsubscribe';
    default: return undefined; // accepted, rejected (never sent), stored, list events
  }
}

function reasonOf(data: Json, kind: InboundKind): string | undefined {
  if (kind === 'clicked') return str(data.url);
  if (kind !== 'hard_bounce' && kind !== 'soft_bounce') return undefined;
  const status = obj(data['delivery-status']);
  return [str(data.severity), str(data.reason), idOf(status?.code), str(status?.description) || str(status?.message)]
    .filter(Boolean).join(': ') || undefined;
}

/** Verifies a Mailgun webhook POST and maps its event. */
export function parseMailgun(req: InboundRequest, secrets: MailgunSecrets, opts: InboundOptions): Promise<InboundEvent[]> {
  return guarded(() => {
    const body = obj(parseJson(rawBody(req)));
    if (!body) throw payloadError('not a Mailgun webhook payload');
    verify(obj(body.signature), secrets, opts);
    const data = obj(body['event-data']);
    if (!data) throw payloadError('the Mailgun payload has no event-data');
    const kind = kindOf(data);
    if (!kind) return [];
    const email = emailOf(data.recipient);
    const at = dateOf(data.timestamp);
    if (!at) throw payloadError('the Mailgun event has no timestamp');
    const headerId = str(obj(obj(data.message)?.headers)?.['message-id']);
    const providerMessageId = headerId?.replace(/^<|>$/g, '');
    const messageId = tandemIdFrom(data['user-variables']) ?? messageIdFromHeader(headerId ? `<${providerMessageId}>` : undefined);
    // Mailgun's event id is unique for a day only; with the event's own time it is unique for good.
    const id = str(data.id);
    return [event({
      provider: 'mailgun', kind, email, providerMessageId, messageId, at, reason: reasonOf(data, kind),
      eventId: id ? `mailgun:${id}:${at.getTime()}` : hashEventId('mailgun', kind, email, providerMessageId, at),
    })];
  });
}
