// The delivery module's shapes: one message per send, its sender, and sending domains.

export type MessageStatus = 'queued' | 'sending' | 'retrying' | 'sent' | 'failed' | 'suppressed' | 'delivered' | 'bounced' | 'complained';

export interface MessageRow {
  /** The delivery id answered to the caller (`dlv_…`). */
  id: string;
  /** Unique per workspace: the same intent never makes two messages. */
  idempotencyKey: string;
  personId: string | null;
  channel: 'email' | 'sms';
  /** transactional | journey | broadcast | test */
  source: string;
  templateId: string | null;
  templateVersion: number | null;
  to: string;
  /** What to render: template reference or inline content, message_data, flags. */
  request: Record<string, unknown>;
  /** False with disable_message_retention: the rendered content is not kept. */
  retain: boolean;
  status: MessageStatus;
  statusReason: string | null;
  attempts: number;
  senderId: string | null;
  provider: string | null;
  providerMessageId: string | null;
  fromAddress: string | null;
  subject: string | null;
  html: string | null;
  text: string | null;
  createdAt: Date;
  updatedAt: Date;
  sentAt: Date | null;
}

export interface SenderRow {
  id: string;
  channel: 'email' | 'sms';
  kind: string;
  name: string;
  config: Record<string, unknown>;
  isDefault: boolean;
  ratePerSecond: number;
  concurrency: number;
  status: 'active' | 'paused';
  pausedReason: string | null;
}

export interface SendingDomain {
  domain: string;
  selector: string;
  privateKey: string;
  publicKey: string;
  createdAt: Date;
}

/** What `tandem domain add` prints: the DNS records to publish. */
export interface DomainRecords {
  domain: string;
  dkim: { selector: string; name: string; type: 'TXT'; value: string };
  spf: { name: string; type: 'TXT'; value: string; note: string };
  dmarc: { name: string; type: 'TXT'; value: string; note: string };
}
