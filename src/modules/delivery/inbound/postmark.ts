// Postmark webhooks (Bounce, SpamComplaint, Delivery, Open, Click, SubscriptionChange). Postmark signs
// nothing; the webhook URL is configured with HTTP Basic credentials, which we compare in constant
// time. Postmark's payloads carry no signed timestamp, so there is no staleness window: replays are
// caught by eventId (the bounce ID for bounces and complaints).
import { dateOf, emailOf, event, guarded, hashEventId, header, idOf, obj, parseJson, rawBody, safeEqual, signatureError, str, tandemIdFrom, payloadError } from './common.ts';
import type { InboundEvent, InboundKind, InboundOptions, InboundRequest } from './types.ts';

export interface PostmarkSecrets { username: string; password: string }

// Bounce types, per Postmark's bounce API. Addresses Postmark deactivates (Inactive: true) are hard
// bounces whatever the type; these are hard even when it does not.
const HARD = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated']);
// Not a failure of this address to receive mail: nothing to record.
const IGNORED = new Set(['AutoResponder', 'Subscribe', 'AddressChange', 'OpenRelayTest', 'ChallengeVerification', 'InboundError']);

function checkAuth(req: InboundRequest, secrets: PostmarkSecrets): void {
  const auth = header(req, 'authorization') ?? '';
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(auth);
  const given = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
  const expected = `${secrets?.username ?? ''}:${secrets?.password ?? ''}`;
  // An unconfigured secret never matches, even an empty Authorization.
  if (!secrets?.username || !secrets.password || !safeEqual(given, expected)) throw signatureError('the Basic credentials do not match');
}

/**
 * Bounce IDs are 64-bit and can exceed what a JSON number keeps exactly; two bounces rounded to the same
 * double would dedupe as one. The digits are read from the raw body instead (the match whose value is the
 * parsed ID, so an "ID" inside Metadata is not taken for it).
 */
function bounceId(parsed: unknown, raw: string): string | undefined {
  if (typeof parsed !== 'number') return idOf(parsed);
  if (Number.isSafeInteger(parsed)) return String(parsed);
  for (const m of raw.matchAll(/"ID"\s*:\s*(\d{1,30})\b/g)) if (Number(m[1]) === parsed) return m[1];
  return idOf(parsed);
}

function bounceKind(type: string | undefined, inactive: boolean): InboundKind | undefined {
  if (type === 'SpamComplaint') return 'complaint';
  if (type === 'Unsubscribe') return 'unsubscribe';
  if (type && IGNORED.has(type)) return undefined;
  return inactive || (type !== undefined && HARD.has(type)) ? 'hard_bounce' : 'soft_bounce';
}

function parseOne(p: Record<string, unknown>, raw: string): InboundEvent[] {
  // Older (non-modular) webhooks have no RecordType.
  const recordType = str(p.RecordType) ?? (p.BouncedAt !== undefined ? 'Bounce' : p.DeliveredAt !== undefined ? 'Delivery' : undefined);
  const providerMessageId = str(p.MessageID);
  const messageId = tandemIdFrom(p.Metadata);
  let kind: InboundKind | undefined;
  let email: string;
  let at: Date | undefined;
  let reason: string | undefined;
  let providerEventId: string | undefined;
  switch (recordType ?? '') {
    case 'Bounce':
    case 'SpamComplaint': {
      const type = str(p.Type) ?? (recordType === 'SpamComplaint' ? 'SpamComplaint' : undefined);
      kind = bounceKind(type, p.Inactive === true);
      email = emailOf(p.Email);
      at = dateOf(p.BouncedAt);
      reason = [type, str(p.Details) ?? str(p.Description)].filter(Boolean).join(': ');
      const id = bounceId(p.ID, raw);
      if (id) providerEventId = `postmark:bounce:${id}`;
      break;
    }
    case 'Delivery':
      kind = 'delivered';
      email = emailOf(p.Recipient);
      at = dateOf(p.DeliveredAt);
      reason = str(p.Details);
      break;
    case 'Open':
    case 'Click':
      kind = recordType === 'Open' ? 'opened' : 'clicked';
      email = emailOf(p.Recipient);
      at = dateOf(p.ReceivedAt);
      reason = recordType === 'Click' ? str(p.OriginalLink) : undefined;
      break;
    case 'SubscriptionChange':
      // Postmark also reports its own suppressions here (after a hard bounce or complaint, which arrive
      // as their own webhooks); only a recipient's unsubscribe is new information.
      if (p.SuppressSending !== true || str(p.SuppressionReason) !== 'ManualSuppression') return [];
      kind = 'unsubscribe';
      email = emailOf(p.Recipient);
      at = dateOf(p.ChangedAt);
      reason = 'ManualSuppression';
      break;
    default:
      throw payloadError('not a Postmark webhook payload');
  }
  if (!kind) return [];
  if (!at) throw payloadError('the Postmark payload has no event time');
  return [event({
    provider: 'postmark', kind, email, providerMessageId, messageId, at, reason: reason || undefined,
    eventId: providerEventId ?? hashEventId('postmark', kind, email, providerMessageId, at),
  })];
}

/** Checks the webhook's Basic credentials and maps one Postmark webhook payload. */
export function parsePostmark(req: InboundRequest, secrets: PostmarkSecrets, _opts: InboundOptions): Promise<InboundEvent[]> {
  return guarded(() => {
    checkAuth(req, secrets);
    const body = rawBody(req);
    const p = obj(parseJson(body));
    if (!p) throw payloadError('not a Postmark webhook payload');
    return parseOne(p, body.toString('utf8'));
  });
}
