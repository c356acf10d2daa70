// Twilio SendGrid Event Webhook ("Signed Event Webhook"): an ECDSA P-256 / SHA-256 signature over the
// timestamp header followed by the raw body, in X-Twilio-Email-Event-Webhook-Signature (base64 DER),
// checked with the verification key from SendGrid's mail settings (base64 DER SubjectPublicKeyInfo).
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { arr, checkFresh, dateOf, emailOf, event, guarded, hashEventId, header, idOf, obj, parseJson, payloadError, rawBody, signatureError, str, tandemIdFrom, type Json } from './common.ts';
import { InboundError, type InboundEvent, type InboundKind, type InboundOptions, type InboundRequest } from './types.ts';

export interface SendGridSecrets {
  /** The verification key as SendGrid shows it (base64 DER), or a PEM "PUBLIC KEY". */
  publicKey: string;
}

export const SENDGRID_SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature';
export const SENDGRID_TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp';

function publicKeyOf(configured: string): KeyObject {
  try {
    const text = (configured ?? '').trim();
    const key = text.includes('BEGIN PUBLIC KEY')
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec') throw new Error('not an EC key');
    return key;
  } catch {
    throw signatureError('the configured SendGrid verification key is not a valid EC public key');
  }
}

function verify(req: InboundRequest, body: Buffer, secrets: SendGridSecrets, opts: InboundOptions): void {
  const key = publicKeyOf(secrets?.publicKey);
  const signature = header(req, SENDGRID_SIGNATURE_HEADER);
  const timestamp = header(req, SENDGRID_TIMESTAMP_HEADER);
  if (!signature || !timestamp) throw signatureError('the SendGrid signature headers are missing');
  let ok = false;
  try {
    ok = cryptoVerify('sha256', Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), key, Buffer.from(signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) throw signatureError('the SendGrid signature does not match');
  checkFresh(/^\d{1,12}$/.test(timestamp.trim()) ? dateOf(Number(timestamp)) : undefined, opts);
}

// "dropped" means SendGrid did not send: why it did not decides what it says about the address.
function droppedKind(reason: string): InboundKind {
  const r = reason.toLowerCase();
  if (r.includes('spam reporting address')) return 'complaint';
  if (r.includes('unsubscribed address')) return 'unsubscribe';
  if (r.includes('bounced address') || r === 'invalid') return 'hard_bounce';
  return 'soft_bounce';
}

/** The message id from the send response's X-Message-Id: sg_message_id is that plus ".filter…" and more. */
function providerMessageIdOf(e: Json): string | undefined {
  const sg = str(e.sg_message_id);
  return sg ? sg.replace(/\.filter.*$/s, '') : undefined;
}

function parseOne(e: Json): InboundEvent | undefined {
  const name = str(e.event) ?? '';
  const reasonText = [idOf(e.status), str(e.reason) ?? str(e.response)].filter(Boolean).join(' ');
  let kind: InboundKind;
  let reason: string | undefined = reasonText || undefined;
  switch (name) {
    case 'bounce':
      // type "bounce": the receiving server rejected the address; "blocked": it refused this message.
      kind = str(e.type) === 'blocked' ? 'soft_bounce' : 'hard_bounce';
      reason = [str(e.type) ?? 'bounce', str(e.bounce_classification), reasonText].filter(Boolean).join(': ');
      break;
    case 'dropped':
      kind = droppedKind(str(e.reason) ?? '');
      break;
    case 'spamreport': kind = 'complaint'; break;
    case 'delivered': kind = 'delivered'; break;
    case 'open': kind = 'opened'; reason = undefined; break;
    case 'click': kind = 'clicked'; reason = str(e.url); break;
    case 'unsubscribe':
    case 'group_unsubscribe': kind = 'unsubscribe'; reason = name; break;
    default:
      // processed, deferred (SendGrid keeps retrying), group_resubscribe, account events.
      return undefined;
  }
  const email = emailOf(e.email);
  const at = dateOf(e.timestamp);
  if (!at) throw payloadError('a SendGrid event has no timestamp');
  const providerMessageId = providerMessageIdOf(e);
  // Custom args arrive as top-level fields of the event; older integrations nest them.
  const messageId = tandemIdFrom(e) ?? tandemIdFrom(e.custom_args) ?? tandemIdFrom(e.unique_args);
  const sgEventId = str(e.sg_event_id);
  return event({
    provider: 'sendgrid', kind, email, providerMessageId, messageId, at, reason,
    eventId: sgEventId ? `sendgrid:${sgEventId}` : hashEventId('sendgrid', kind, email, providerMessageId, at),
  });
}

/** Verifies a signed Event Webhook POST and maps its batch of events (one per recipient and event). */
export function parseSendGrid(req: InboundRequest, secrets: SendGridSecrets, opts: InboundOptions): Promise<InboundEvent[]> {
  return guarded(() => {
    const body = rawBody(req);
    verify(req, body, secrets, opts);
    const batch = parseJson(body);
    if (!Array.isArray(batch)) throw payloadError('the SendGrid body is not an array of events');
    // Events in a batch are independent: one SendGrid could not fill in properly must not hold back
    // the others (a refused batch is retried whole). A batch with nothing readable is refused.
    const out: InboundEvent[] = [];
    let unreadable: InboundError | undefined;
    for (const item of arr(batch)) {
      try {
        const e = obj(item);
        if (!e) throw payloadError('a SendGrid event is not an object');
        const parsed = parseOne(e);
        if (parsed) out.push(parsed);
      } catch (err) {
        if (!(err instanceof InboundError)) throw err;
        unreadable = err;
      }
    }
    if (unreadable && out.length === 0) throw unreadable;
    return out;
  });
}
