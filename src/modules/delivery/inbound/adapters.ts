// Every inbound route goes through an adapter, and an adapter cannot exist without authentication: it
// declares the secret a sender must hold (a zod schema, never optional) and its `verify` step runs
// before anything is parsed. The route refuses a request to a sender without that secret before the
// adapter sees the body. Adding a provider means adding an entry here; the sender's `inbound` settings
// schema is derived from this list, so a provider cannot be configured without its secret either.
import { z } from 'zod';
import { secret } from '../../../secrets.ts';
import { header, safeEqual, signatureError } from './common.ts';
import { parseDsn } from './dsn.ts';
import { parseMailgun } from './mailgun.ts';
import { parsePostmark } from './postmark.ts';
import { parseResend } from './resend.ts';
import { parseSendGrid } from './sendgrid.ts';
import { parseSes } from './ses.ts';
import type { InboundEvent, InboundOptions, InboundProvider, InboundRequest } from './types.ts';

export interface InboundResult { events: InboundEvent[]; subscribeUrl?: string | undefined }

export interface InboundAdapter<S> {
  /** How a request proves it comes from the provider (docs/bounces.md says the same). */
  readonly proof: string;
  /** The secret the sender must hold for this provider; a request to a sender without one is refused. */
  readonly secrets: z.ZodType<S>;
  /** Verifies the request with the secret, then parses it; throws InboundError. */
  readonly parse: (req: InboundRequest, secrets: S, opts: InboundOptions) => Promise<InboundResult>;
}

interface AnyAdapter { readonly proof: string; readonly secrets: z.ZodType; readonly parse: (req: InboundRequest, secrets: never, opts: InboundOptions) => Promise<InboundResult> }

/**
 * At compile time an adapter without a secret schema is impossible; at startup, one whose schema is
 * satisfied by nothing configured (an empty object, no value) is refused: it would authenticate nobody.
 */
export function adapter<S extends Record<string, unknown>>(a: InboundAdapter<S>): InboundAdapter<S> {
  if (a.secrets.safeParse(undefined).success || a.secrets.safeParse({}).success) {
    throw new Error(`inbound adapter (${a.proof}): its secret schema accepts an empty secret`);
  }
  return a;
}

const events = (p: Promise<InboundEvent[]>): Promise<InboundResult> => p.then((e) => ({ events: e }));

/** `Authorization: Bearer <token>`, or Basic with the token as the password (for relays that only do Basic). */
export function checkBearer(req: InboundRequest, token: string): void {
  const auth = header(req, 'authorization') ?? '';
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(auth)?.[1];
  let given = bearer ?? '';
  if (!bearer && basic) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    given = decoded.slice(decoded.indexOf(':') + 1);
  }
  // An unconfigured token never matches, even an empty Authorization.
  if (!token || !given || !safeEqual(given, token)) throw signatureError('the bearer token does not match');
}

const sesSecrets = z.strictObject({
  // Required: SNS signs messages of every AWS account's topics, so the signature alone does not say
  // the notification is about this sender's mail.
  topicArn: z.union([
    z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/, 'an SNS topic ARN'),
    z.array(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/, 'an SNS topic ARN')).min(1).max(10),
  ]),
});

export const INBOUND_ADAPTERS = {
  ses: adapter({
    proof: 'an SNS signature (certificate from an SNS host) from one of the configured topic ARNs',
    secrets: sesSecrets,
    parse: (req, s, opts) => parseSes(req, s, opts),
  }),
  postmark: adapter({
    proof: 'HTTP Basic credentials',
    secrets: z.strictObject({ username: z.string().min(1).max(200), password: secret(z.string().min(8).max(200)) }),
    parse: (req, s, opts) => events(parsePostmark(req, s, opts)),
  }),
  sendgrid: adapter({
    proof: 'an ECDSA signature (Signed Event Webhook) checked with the verification key',
    secrets: z.strictObject({ publicKey: z.string().min(20).max(4000) }),
    parse: (req, s, opts) => events(parseSendGrid(req, s, opts)),
  }),
  mailgun: adapter({
    proof: 'an HMAC signature with the HTTP webhook signing key',
    secrets: z.strictObject({ signingKey: secret(z.string().min(8).max(200)) }),
    parse: (req, s, opts) => events(parseMailgun(req, s, opts)),
  }),
  resend: adapter({
    proof: 'a Standard Webhooks (Svix) signature with the whsec_ signing secret',
    secrets: z.strictObject({ secret: secret(z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/).max(200)) }),
    parse: (req, s, opts) => events(parseResend(req, s, opts)),
  }),
  dsn: adapter({
    proof: 'a bearer token (Authorization: Bearer, or Basic with the token as password)',
    secrets: z.strictObject({ token: secret(z.string().min(24).max(200).regex(/^\S+$/, 'no spaces')) }),
    parse: (req, s, opts) => {
      checkBearer(req, s.token);
      return events(parseDsn(req.rawBody, opts));
    },
  }),
} as const satisfies Record<InboundProvider, AnyAdapter>;

export const INBOUND_PROVIDERS = Object.keys(INBOUND_ADAPTERS) as InboundProvider[];

/** The `inbound` settings of a sender: one optional secret per provider, each as its adapter declares it. */
export const inboundSecrets = z.strictObject(
  Object.fromEntries(INBOUND_PROVIDERS.map((p) => [p, INBOUND_ADAPTERS[p].secrets.optional()])) as {
    [P in InboundProvider]: z.ZodOptional<(typeof INBOUND_ADAPTERS)[P]['secrets']>
  },
).optional();
