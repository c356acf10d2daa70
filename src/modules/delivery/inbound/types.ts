// The normalized shape every provider's bounce/complaint notification is turned into. The library has no
// database and no routes: the lead's routes verify a request with one of these parsers and then act on the
// events (suppress, record delivery events, dedupe by eventId).

export type InboundKind = 'delivered' | 'hard_bounce' | 'soft_bounce' | 'complaint' | 'unsubscribe' | 'opened' | 'clicked';

export type InboundProvider = 'ses' | 'postmark' | 'sendgrid' | 'mailgun' | 'resend' | 'dsn';

export interface InboundEvent {
  provider: InboundProvider;
  kind: InboundKind;
  /** The recipient address (lower-cased). */
  email: string;
  /** The provider's id for the sent message, when given. */
  providerMessageId?: string;
  /** Tandem's message id when the provider echoes metadata/custom args/tags/headers we sent. */
  messageId?: string;
  at: Date;
  /** Provider-specific reason text (diagnostic code, bounce sub-type…), for the ledger. */
  reason?: string;
  /** A stable id of this notification, for dedupe of replays (provider event id or a hash of the payload). */
  eventId: string;
}

export interface InboundRequest { headers: Record<string, string | undefined>; rawBody: Buffer }

export type InboundErrorCode = 'signature' | 'stale' | 'payload';

/** The only error the parsers throw: a forged or unsigned request, a replay outside the window, or a body that is not the provider's format. */
export class InboundError extends Error {
  constructor(message: string, readonly code: InboundErrorCode) {
    super(message);
    this.name = 'InboundError';
  }
}

export interface InboundOptions {
  now(): Date;
  /** Fetches an SNS signing certificate (PEM) by URL; SES only. The default fetches over HTTPS and caches. */
  fetchCert?: (url: string) => Promise<string>;
  /** How far a signed timestamp may be from now before the request is refused as stale. Default 5 minutes. */
  toleranceMs?: number;
}

/** Every webhook parser has this shape; `S` is the provider's secret configuration. */
export type InboundParser<S, R = InboundEvent[]> = (req: InboundRequest, secrets: S, opts: InboundOptions) => Promise<R>;

/** The metadata / custom-arg / tag name under which senders pass Tandem's message id to the provider. */
export const TANDEM_MESSAGE_ID_KEY = 'tandem_message_id';
/** The header senders put Tandem's message id in; providers and DSNs that return headers echo it. */
export const TANDEM_MESSAGE_ID_HEADER = 'X-Tandem-Message-Id';
