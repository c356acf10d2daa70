// Email over SMTP with nodemailer's pooled transport (any provider: host, port, TLS, auth, pool
// size), DKIM-signed per message when the From domain is a sending domain; and the dev inbox, where
// email goes while no sender is configured. Both speak the providers' EmailProvider contract.
import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { Socket } from 'node:net';
import { isAppError } from '../../errors.ts';
import { connectGuarded, type PrivatePolicy, type Resolver } from '../../net/index.ts';
import type { DevInboxMessage } from '../devinbox/index.ts';
import { ProviderError, type EmailProvider, type OutgoingEmail, type SendResult } from './providers/types.ts';

export interface DkimOptions { domainName: string; keySelector: string; privateKey: string; headerFieldNames: string }
export type SignedEmail = OutgoingEmail & { dkim?: DkimOptions | undefined };
export interface EmailSender extends EmailProvider { send(m: SignedEmail): Promise<SendResult> }

export interface SmtpOptions {
  /** smtp://user:pass@host:port (smtps:// for TLS from the start). */
  url: string;
  /** Connections kept open to the server. */
  poolSize?: number;
  /**
   * Which addresses the server may have. `true` only for an address the operator configured
   * (TANDEM_SMTP_URL); a sender saved through the API gets config.outboundAllowPrivate.
   */
  allowPrivate: PrivatePolicy;
  resolve?: Resolver;
}

/** The one reason shown for any failure to reach the server: refused, closed, filtered, timed out, unresolvable, not SMTP. */
export const SMTP_UNREACHABLE = 'could not reach the SMTP server';

/**
 * SMTP replies: 4xx is temporary (421/450/451/452 are the server asking us to slow down), 5xx is permanent.
 * Without a reply the reason is coarse (the detail is kept for the log): a precise one would tell an open
 * port from a closed one.
 */
export function classifySmtpError(err: unknown): ProviderError {
  const e = err as { responseCode?: number; code?: string; message?: string };
  const message = (e.message ?? 'SMTP error').slice(0, 500);
  if (typeof e.responseCode === 'number') {
    if (e.responseCode === 421 || e.responseCode === 450 || e.responseCode === 451 || e.responseCode === 452) {
      return new ProviderError(message, 'rate_limited', e.responseCode, 30_000);
    }
    if (e.responseCode === 535 || e.responseCode === 530) return new ProviderError(message, 'auth', e.responseCode);
    return new ProviderError(message, e.responseCode >= 500 ? 'permanent' : 'retryable', e.responseCode);
  }
  if (isAppError(err) && err.code === 'net.forbidden_address') {
    return new ProviderError('the SMTP server\'s address is not one Tandem may connect to (TANDEM_OUTBOUND_ALLOW_PRIVATE)', 'permanent', undefined, undefined, message);
  }
  if (e.code === 'EAUTH') return new ProviderError(message, 'auth');
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') return new ProviderError(message, 'permanent');
  // Connection trouble (and anything unknown) is worth another try later.
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = [e.code, message, cause?.code, cause?.message].filter(Boolean).join(': ');
  return new ProviderError(SMTP_UNREACHABLE, 'retryable', undefined, 5_000, detail);
}

/**
 * The transfer encoding of the text parts, chosen as nodemailer would (quoted-printable unless the text
 * is mostly non-ASCII) from byte counts: nodemailer's own choice scans every character of each part,
 * several times per message, which was 7% of a sending worker's CPU.
 */
export function textEncoding(html: string, text: string): 'quoted-printable' | 'base64' {
  const chars = html.length + text.length;
  // Each character outside ASCII takes at least one more byte in UTF-8.
  const beyondAscii = Buffer.byteLength(html) + Buffer.byteLength(text) - chars;
  return beyondAscii * 2 < chars ? 'quoted-printable' : 'base64';
}

/**
 * smtp://user:pass@host:port (STARTTLS when the server offers it), smtps://… (TLS from the start).
 * Query options: `ignoreTLS=true` (never STARTTLS), `requireTLS=true`, `rejectUnauthorized=false`.
 */
export function smtpConnection(url: string) {
  const u = new URL(url);
  const secure = u.protocol === 'smtps:';
  const flag = (name: string) => u.searchParams.get(name) === 'true';
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || (secure ? 465 : 587), secure,
    ...(u.username ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } } : {}),
    ignoreTLS: flag('ignoreTLS'), requireTLS: flag('requireTLS'),
    tls: { rejectUnauthorized: u.searchParams.get('rejectUnauthorized') !== 'false' },
  };
}

export function createSmtpSender(opts: SmtpOptions): EmailSender {
  const connection = smtpConnection(opts.url);
  const policy = opts.allowPrivate;
  // Every new pooled connection resolves and vets the host and connects to the vetted address; TLS
  // (smtps or STARTTLS) still names the host: nodemailer takes the servername from `host`.
  const getSocket = (_o: SMTPPool.Options, done: (err: Error | null, socket?: { connection: Socket }) => void): void => {
    connectGuarded({ host: connection.host, port: connection.port, policy, ...(opts.resolve ? { resolve: opts.resolve } : {}), timeoutMs: 10_000 })
      .then((socket) => done(null, { connection: socket }), (err: Error) => done(err));
  };
  const transport = nodemailer.createTransport({ ...connection, pool: true, maxConnections: opts.poolSize ?? 5, maxMessages: Infinity,
    connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000, ...(policy === true ? {} : { getSocket }) } satisfies SMTPPool.Options);
  return {
    name: 'smtp',
    async send(m) {
      try {
        const info = await transport.sendMail({
          from: m.from.name ? { name: m.from.name, address: m.from.address } : m.from.address,
          to: m.to.name ? { name: m.to.name, address: m.to.address } : m.to.address,
          ...(m.replyTo ? { replyTo: m.replyTo } : {}),
          subject: m.subject, html: m.html, text: m.text, textEncoding: textEncoding(m.html, m.text),
          ...(m.headers['Message-ID'] ? { messageId: m.headers['Message-ID'] } : {}),
          headers: Object.fromEntries(Object.entries(m.headers).filter(([k]) => k.toLowerCase() !== 'message-id')),
          ...(m.dkim ? { dkim: m.dkim } : {}),
        });
        return { providerMessageId: String((info as { messageId?: string }).messageId ?? '') };
      } catch (err) {
        throw classifySmtpError(err);
      }
    },
    close() {
      transport.close();
      return Promise.resolve();
    },
  };
}

export interface DevInboxSink {
  deliver(workspaceId: string, m: Omit<DevInboxMessage, 'id' | 'createdAt'>): Promise<DevInboxMessage>;
}

/** The fallback sender: the message is kept in the workspace's dev inbox (GET /api/dev-inbox). */
export function createDevInboxSender(inbox: DevInboxSink, workspaceId: string, source: string): EmailSender {
  return {
    name: 'dev_inbox',
    async send(m) {
      const from = m.from.name ? `${m.from.name} <${m.from.address}>` : m.from.address;
      const saved = await inbox.deliver(workspaceId, {
        channel: 'email', source, to: m.to.address, from, subject: m.subject, html: m.html, text: m.text,
        meta: { messageId: m.messageId, headers: m.headers },
      });
      return { providerMessageId: saved.id };
    },
  };
}
