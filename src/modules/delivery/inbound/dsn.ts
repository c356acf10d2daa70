// RFC 3464 delivery status notifications: the bounce mails MTAs send back to the envelope sender.
// A DSN is a multipart/report; report-type=delivery-status with a human-readable part, a
// message/delivery-status part (one block of per-message fields, then one block per recipient) and,
// usually, the returned message or just its headers (text/rfc822-headers), which lead back to our
// message id. mailparser does the MIME; the delivery-status fields are read here.
import type { Attachment } from 'mailparser';
import { createHash } from 'node:crypto';
import { lazy } from '../../../lazy.ts';
import { messageIdFromHeader } from './message-id.ts';
import { dateOf, emailOf, event, guarded, hashEventId, payloadError } from './common.ts';
import { InboundError, TANDEM_MESSAGE_ID_HEADER, type InboundEvent, type InboundKind } from './types.ts';

const MAX_DSN_BYTES = 10 * 1024 * 1024;
const STATUS_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const RETURNED_TYPES = new Set(['text/rfc822-headers', 'message/rfc822', 'message/global', 'message/global-headers']);

type Fields = Map<string, string>;

/** Header-style lines ("Name: value", continuation lines folded in) grouped by blank lines. */
export function parseFieldGroups(text: string): Fields[] {
  const groups: Fields[] = [];
  let current: Fields | undefined;
  let last: string | undefined;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') {
      current = undefined;
      last = undefined;
      continue;
    }
    if (/^[ \t]/.test(line) && current && last) {
      current.set(last, `${current.get(last)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    if (!current) groups.push(current = new Map<string, string>());
    last = line.slice(0, colon).trim().toLowerCase();
    // The first occurrence wins: a later repeat is more likely noise than a correction.
    if (!current.has(last)) current.set(last, line.slice(colon + 1).trim());
    else last = undefined;
  }
  return groups;
}

/** "rfc822; a@b" (or "utf-8; a@b" in a global DSN) to the address. */
function addressOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const semi = value.indexOf(';');
  return (semi >= 0 ? value.slice(semi + 1) : value).trim() || undefined;
}

function kindOf(action: string, status: string | undefined): InboundKind | undefined {
  const klass = status?.trim()[0];
  switch (action) {
    case 'failed': return klass === '4' ? 'soft_bounce' : 'hard_bounce';
    case 'delayed': return 'soft_bounce';
    case 'delivered': return 'delivered';
    default: return undefined; // relayed, expanded: no final word on the address
  }
}

function originalHeaders(parts: Attachment[]): Fields | undefined {
  const part = parts.find((a) => RETURNED_TYPES.has(a.contentType.toLowerCase()));
  if (!part) return undefined;
  const text = part.content.toString('utf8');
  const head = text.replace(/\r\n?/g, '\n').split(/\n\n/, 1)[0] ?? '';
  return parseFieldGroups(head)[0];
}

/** The events in one DSN (one per recipient block whose Action says something about the address). */
const mailparser = lazy(() => import('mailparser'));

export function parseDsn(raw: Buffer, opts: { now?: () => Date } = {}): Promise<InboundEvent[]> {
  return guarded(async () => {
    if (!Buffer.isBuffer(raw) || raw.length === 0) throw payloadError('the DSN is empty');
    if (raw.length > MAX_DSN_BYTES) throw payloadError('the DSN is too large');
    const { simpleParser } = await mailparser();
    const mail = await simpleParser(raw, {
      keepDeliveryStatus: true, ignoreEmbedded: true, skipHtmlToText: true, skipTextToHtml: true,
      skipImageLinks: true, checksumAlgo: false,
    });
    const ct = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
    if (ct?.value?.toLowerCase() !== 'multipart/report' || ct.params?.['report-type']?.toLowerCase() !== 'delivery-status') {
      throw payloadError('not a multipart/report delivery-status message');
    }
    const statusPart = mail.attachments.find((a) => STATUS_TYPES.has(a.contentType.toLowerCase()));
    if (!statusPart) throw payloadError('the report has no message/delivery-status part');
    const [perMessage, ...perRecipient] = parseFieldGroups(statusPart.content.toString('utf8'));
    if (!perMessage || perRecipient.length === 0) throw payloadError('the delivery-status part names no recipient');

    const original = originalHeaders(mail.attachments);
    const originalMessageId = original?.get('message-id');
    const messageId = original?.get(TANDEM_MESSAGE_ID_HEADER.toLowerCase())?.trim() || messageIdFromHeader(originalMessageId);
    const providerMessageId = originalMessageId?.trim().replace(/^<|>$/g, '') || undefined;
    // When the report was made; Arrival-Date (when the original reached the reporting MTA) is the last resort.
    const reportedAt = mail.date ?? dateOf(perMessage.get('arrival-date'));
    const dsnId = mail.messageId?.trim();

    const out: InboundEvent[] = [];
    for (const fields of perRecipient) {
      const action = fields.get('action')?.toLowerCase().split(/[\s(]/, 1)[0];
      const address = addressOf(fields.get('final-recipient')) ?? addressOf(fields.get('original-recipient'));
      if (!action || !address) continue;
      const status = fields.get('status')?.split(/\s/, 1)[0];
      const kind = kindOf(action, status);
      if (!kind) continue;
      const email = emailOf(address);
      const at = dateOf(fields.get('last-attempt-date')) ?? reportedAt ?? opts.now?.() ?? new Date();
      const diagnostic = fields.get('diagnostic-code');
      const reason = [status, diagnostic].filter(Boolean).join(' ') || action;
      // The DSN's own Message-ID identifies a replay of this report; without one, hash what it says.
      const eventId = dsnId
        ? `dsn:${createHash('sha256').update(`${dsnId}\n${email}\n${kind}`).digest('hex')}`
        : hashEventId('dsn', kind, email, providerMessageId, at);
      out.push(event({ provider: 'dsn', kind, email, providerMessageId, messageId, at, reason, eventId }));
    }
    if (out.length === 0 && !perRecipient.some((f) => f.has('action'))) throw new InboundError('the delivery-status part has no Action fields', 'payload');
    return out;
  });
}
