// Amazon SES bounce, complaint and delivery notifications, delivered by an SNS topic to an HTTPS
// subscription. Both SES "notifications" (notificationType) and configuration-set "event publishing"
// (eventType, which adds Open and Click) are read. The SNS envelope is verified first (sns.ts).
import { messageIdFromHeader } from './message-id.ts';
import { verifySnsMessage, type SnsSecrets } from './sns.ts';
import { arr, dateOf, emailOf, event, guarded, obj, parseJson, payloadError, rawBody, str, type Json } from './common.ts';
import { TANDEM_MESSAGE_ID_HEADER, TANDEM_MESSAGE_ID_KEY, type InboundEvent, type InboundKind, type InboundOptions, type InboundRequest } from './types.ts';

export type SesSecrets = SnsSecrets;

export interface SesResult {
  events: InboundEvent[];
  /** Set for a SubscriptionConfirmation: GET it (or call ConfirmSubscription with the token) to start receiving. */
  subscribeUrl?: string;
}

/** Tandem's message id: the X-Tandem-Message-Id header (SES includes original headers when asked), an SES tag, or our Message-ID. */
function tandemId(mail: Json): string | undefined {
  const headers = arr(mail.headers).map(obj);
  const named = (name: string) => headers.find((h) => typeof h?.name === 'string' && h.name.toLowerCase() === name.toLowerCase());
  const fromHeader = str(named(TANDEM_MESSAGE_ID_HEADER)?.value);
  if (fromHeader) return fromHeader.trim();
  const tag = arr(obj(mail.tags)?.[TANDEM_MESSAGE_ID_KEY])[0];
  if (typeof tag === 'string' && tag) return tag;
  return messageIdFromHeader(str(named('Message-ID')?.value) ?? str(obj(mail.commonHeaders)?.messageId));
}

interface Recipient { email: string; reason?: string }

function sesEvents(msg: Json, snsMessageId: string): InboundEvent[] {
  const type = str(msg.notificationType) ?? str(msg.eventType);
  const mail = obj(msg.mail);
  if (!type || !mail) throw payloadError('the SNS message does not carry an SES notification');
  const providerMessageId = str(mail.messageId);
  const messageId = tandemId(mail);
  let kind: InboundKind;
  let detail: Json | undefined;
  let recipients: Recipient[];
  let reason: string | undefined;
  switch (type) {
    case 'Bounce': {
      detail = obj(msg.bounce);
      const bounceType = str(detail?.bounceType);
      kind = bounceType === 'Permanent' ? 'hard_bounce' : 'soft_bounce';
      reason = [bounceType ?? 'Undetermined', str(detail?.bounceSubType)].filter(Boolean).join('/');
      recipients = arr(detail?.bouncedRecipients).map((r) => {
        const rec = obj(r);
        const diag = str(rec?.diagnosticCode) ?? str(rec?.status);
        return { email: emailOf(rec?.emailAddress), reason: diag ? `${reason}: ${diag}` : reason };
      });
      break;
    }
    case 'Complaint': {
      detail = obj(msg.complaint);
      kind = 'complaint';
      reason = str(detail?.complaintFeedbackType) ?? str(detail?.complaintSubType) ?? 'complaint';
      recipients = arr(detail?.complainedRecipients).map((r) => ({ email: emailOf(obj(r)?.emailAddress) }));
      break;
    }
    case 'Delivery': {
      detail = obj(msg.delivery);
      kind = 'delivered';
      reason = str(detail?.smtpResponse);
      recipients = arr(detail?.recipients).map((r) => ({ email: emailOf(r) }));
      break;
    }
    case 'Open':
    case 'Click': {
      detail = obj(type === 'Open' ? msg.open : msg.click);
      kind = type === 'Open' ? 'opened' : 'clicked';
      reason = type === 'Click' ? str(detail?.link) : undefined;
      recipients = arr(mail.destination).map((r) => ({ email: emailOf(r) }));
      break;
    }
    default:
      // Send, Reject, DeliveryDelay, Rendering Failure, Subscription: nothing to suppress or record here.
      return [];
  }
  if (recipients.length === 0) throw payloadError(`the SES ${type} notification names no recipient`);
  const at = dateOf(detail?.timestamp) ?? dateOf(mail.timestamp);
  if (!at) throw payloadError('the SES notification has no timestamp');
  // feedbackId is SES's own id for a bounce/complaint (the same if it reaches us through two topics);
  // otherwise the SNS MessageId, which SNS keeps across its retries.
  const base = `ses:${str(detail?.feedbackId) ?? snsMessageId}:${kind}`;
  return recipients.map((r) => event({
    provider: 'ses', kind, email: r.email, providerMessageId, messageId, at,
    reason: r.reason ?? reason, eventId: `${base}:${r.email}`,
  }));
}

/** Verifies an SNS POST and returns the SES events in it, or the SubscribeURL of a subscription confirmation. */
export function parseSes(req: InboundRequest, secrets: SesSecrets, opts: InboundOptions): Promise<SesResult> {
  return guarded(async () => {
    const body = parseJson(rawBody(req));
    const sns = await verifySnsMessage(body, secrets ?? {}, opts);
    if (sns.Type === 'SubscriptionConfirmation') {
      const url = sns.SubscribeURL;
      // The URL is part of what SNS signed, but it is still only followed if it points at SNS itself.
      if (!url || !/^https:\/\/sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//.test(url)) throw payloadError('the SubscribeURL is not an SNS URL');
      return { events: [], subscribeUrl: url };
    }
    if (sns.Type === 'UnsubscribeConfirmation') return { events: [] };
    const msg = obj(parseJson(sns.Message, 'the SNS Message'));
    if (!msg) throw payloadError('the SNS Message is not an SES notification');
    return { events: sesEvents(msg, sns.MessageId) };
  });
}
