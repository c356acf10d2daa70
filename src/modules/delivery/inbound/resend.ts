// Resend webhooks, delivered by Svix, which follows the Standard Webhooks scheme: headers svix-id,
// svix-timestamp (Unix seconds) and svix-signature (space-separated "v1,<base64>" entries, several
// while a secret is being rotated); the signature is a base64 HMAC-SHA256 of "id.timestamp.body" under
// the secret after its "whsec_" prefix, base64-decoded.
import { createHmac } from 'node:crypto';
import { arr, checkFresh, dateOf, emailOf, event, guarded, header, obj, parseJson, payloadError, rawBody, safeEqual, signatureError, str, type Json } from './common.ts';
import { TANDEM_MESSAGE_ID_KEY, type InboundEvent, type InboundKind, type InboundOptions, type InboundRequest } from './types.ts';

export interface ResendSecrets {
  /** The endpoint's signing secret, "whsec_<base64>". */
  secret: string;
}

function secretKey(secret: string): Buffer {
  const b64 = (secret ?? '').startsWith('whsec_') ? secret.slice('whsec_'.length) : secret ?? '';
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
  if (key.length === 0) throw signatureError('the configured Resend signing secret is not a whsec_ secret');
  return key;
}

/** Standard Webhooks verification; the unbranded webhook-* headers are accepted as well as svix-*. */
export function verifyStandardWebhook(req: InboundRequest, body: Buffer, secret: string, opts: InboundOptions): { id: string } {
  const key = secretKey(secret);
  const id = header(req, 'svix-id') ?? header(req, 'webhook-id');
  const timestamp = header(req, 'svix-timestamp') ?? header(req, 'webhook-timestamp');
  const signatures = header(req, 'svix-signature') ?? header(req, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw signatureError('the webhook signature headers are missing');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  const matched = signatures.split(' ').some((entry) => {
    const comma = entry.indexOf(',');
    return comma > 0 && entry.slice(0, comma) === 'v1' && safeEqual(entry.slice(comma + 1), expected);
  });
  if (!matched) throw signatureError('no webhook signature matches');
  checkFresh(/^\d{1,12}$/.test(timestamp.trim()) ? dateOf(Number(timestamp)) : undefined, opts);
  return { id };
}

/** Resend echoes tags as { name: value }; the send API's [{ name, value }] form is read too. */
function tagValue(tags: unknown): string | undefined {
  const asObject = obj(tags);
  if (asObject) return str(asObject[TANDEM_MESSAGE_ID_KEY]);
  for (const t of arr(tags)) {
    const tag = obj(t);
    if (tag && tag.name === TANDEM_MESSAGE_ID_KEY) return str(tag.value);
  }
  return undefined;
}

function kindOf(type: string, data: Json): InboundKind | undefined {
  switch (type) {
    case 'email.bounced': {
      // Resend reports permanent rejections here; a bounce it marks Transient/Undetermined stays soft.
      const bounceType = str(obj(data.bounce)?.type);
      return bounceType === undefined || bounceType === 'Permanent' ? 'hard_bounce' : 'soft_bounce';
    }
    case 'email.complained': return 'complaint';
    case 'email.delivered': return 'delivered';
    case 'email.opened': return 'opened';
    case 'email.clicked': return 'clicked';
    default: return undefined; // email.sent, email.delivery_delayed, contact and domain events
  }
}

function reasonOf(kind: InboundKind, data: Json): string | undefined {
  if (kind === 'clicked') return str(obj(data.click)?.link);
  const bounce = obj(data.bounce);
  if (!bounce) return undefined;
  return [str(bounce.type), str(bounce.subType), str(bounce.message)].filter(Boolean).join(': ') || undefined;
}

/** Verifies a Resend (Svix) webhook POST and maps its event, one per recipient. */
export function parseResend(req: InboundRequest, secrets: ResendSecrets, opts: InboundOptions): Promise<InboundEvent[]> {
  return guarded(() => {
    const body = rawBody(req);
    const { id } = verifyStandardWebhook(req, body, secrets?.secret, opts);
    const payload = obj(parseJson(body));
    const data = obj(payload?.data);
    if (!payload || !data || !str(payload.type)) throw payloadError('not a Resend webhook payload');
    const kind = kindOf(str(payload.type) ?? '', data);
    if (!kind) return [];
    const at = dateOf(payload.created_at) ?? dateOf(data.created_at);
    if (!at) throw payloadError('the Resend event has no time');
    const to = Array.isArray(data.to) ? data.to : [data.to];
    if (to.length === 0) throw payloadError('the Resend event names no recipient');
    const providerMessageId = str(data.email_id);
    const messageId = tagValue(data.tags);
    const reason = reasonOf(kind, data);
    // svix-id stays the same when Svix retries a delivery.
    return to.map((addr) => {
      const email = emailOf(addr);
      return event({ provider: 'resend', kind, email, providerMessageId, messageId, at, reason, eventId: `resend:${id}:${email}` });
    });
  });
}
