// Outbound webhooks: the event types Tandem emits, endpoints, messages and their delivery attempts.

/** Every event type an endpoint may subscribe to ('*' subscribes to all of them). */
export const EVENT_TYPES = [
  'consent.changed',
  'message.sent',
  'message.delivered',
  'message.bounced',
  'message.complained',
  'message.failed',
  'message.opened',
  'message.clicked',
  'webhook.test',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(type: string): type is EventType {
  return (EVENT_TYPES as readonly string[]).includes(type);
}

export type EndpointStatus = 'active' | 'disabled';

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  /** Subscribed event types; ['*'] is every type. */
  eventTypes: string[];
  status: EndpointStatus;
  disabledReason: string | null;
  disabledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An endpoint with its signing secret (only create and rotate answer it). */
export interface WebhookEndpointWithSecret extends WebhookEndpoint {
  secret: string;
}

/** What is POSTed: the JSON body of every attempt. */
export interface WebhookPayload {
  type: string;
  /** ISO 8601 time of the event. */
  timestamp: string;
  data: Record<string, unknown>;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookAttempt {
  attempt: number;
  at: Date;
  httpStatus: number | null;
  errorCode: string | null;
  error: string | null;
  durationMs: number;
}

/** A message as one endpoint saw it: the payload, the delivery's state and every attempt. */
export interface EndpointMessage {
  id: string;
  type: string;
  payload: WebhookPayload;
  createdAt: Date;
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  attempts: WebhookAttempt[];
}
