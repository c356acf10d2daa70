/** One message caught by the dev inbox instead of being sent. */
export interface DevInboxMessage {
  id: string;
  channel: string;
  /** Why it was sent: 'test' (a test send) and, from the delivery issue on, the message's source. */
  source: string;
  to: string;
  from: string | null;
  subject: string | null;
  html: string | null;
  text: string | null;
  meta: Record<string, unknown>;
  createdAt: Date;
}
