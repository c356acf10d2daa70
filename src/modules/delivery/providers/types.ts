// The contract between the delivery core and each HTTP provider adapter. Adapters hold no state
// beyond their configuration and never touch the database.

export interface OutgoingEmail {
  from: { address: string; name?: string };
  to: { address: string; name?: string };
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  /** Extra headers, e.g. List-Unsubscribe, List-Unsubscribe-Post, Message-ID. */
  headers: Record<string, string>;
  /** Tandem's message id; providers that take metadata/tags/custom args get it, so bounce webhooks can be matched. */
  messageId: string;
}

export interface OutgoingSms { from: string; to: string; body: string; messageId: string; statusCallbackUrl?: string }

export interface SendResult { providerMessageId: string }

export interface EmailProvider { readonly name: string; send(m: OutgoingEmail): Promise<SendResult>; close?(): Promise<void> }

export interface SmsProvider { readonly name: string; send(m: OutgoingSms): Promise<SendResult> }

export type ProviderErrorKind = 'retryable' | 'rate_limited' | 'permanent' | 'auth';

/** Why a send failed, so the caller can retry, slow down, or give up on this one message only. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly kind: ProviderErrorKind,
    readonly status?: number,
    readonly retryAfterMs?: number,
    /** What went wrong in detail, for the log only (the message is what users see). */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** What every adapter accepts besides its credentials. */
export interface HttpOptions {
  /** Defaults to the provider's real endpoint; tests point it at a local server. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Whole request, answer body included. Default 15 s. */
  timeoutMs?: number;
}
