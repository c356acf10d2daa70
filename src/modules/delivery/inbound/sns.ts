// Amazon SNS message signatures (HTTP/HTTPS subscriptions). SNS signs a canonical string of some of
// the message's fields ("Name\nvalue\n" for each, in a fixed order that depends on the message type) with
// RSA: SignatureVersion 1 uses SHA1, 2 uses SHA256. The public key is in an X.509 certificate at
// SigningCertURL, which we only fetch from an SNS host over HTTPS; the certificate's source is thus
// vouched for by TLS (AWS's own SDK validators do the same and do not walk a chain either).
import { X509Certificate, verify as cryptoVerify } from 'node:crypto';
import { safeFetch } from '../../../net/index.ts';
import { checkFresh, dateOf, obj, payloadError, signatureError, str, type Json } from './common.ts';
import type { InboundOptions } from './types.ts';

export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

export interface SnsMessage {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
}

export interface SnsSecrets {
  /** Accept only these topics (recommended by AWS). Unset accepts any topic signed by SNS. */
  topicArn?: string | readonly string[];
}

const FIELDS: Record<SnsMessageType, readonly string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};
const ALGORITHMS: Record<string, string> = { '1': 'RSA-SHA1', '2': 'RSA-SHA256' };

/** The string SNS signs: each present field as "Name\nvalue\n"; Subject only when the message has one. */
export function snsStringToSign(msg: Json): string {
  const type = msg.Type as SnsMessageType;
  let out = '';
  for (const name of FIELDS[type] ?? []) {
    const value = msg[name];
    if (name === 'Subject' && (value === undefined || value === null)) continue;
    if (typeof value !== 'string') throw payloadError(`the SNS message has no ${name}`);
    out += `${name}\n${value}\n`;
  }
  return out;
}

/** https, an sns.<region>.amazonaws.com host (amazonaws.com.cn in China), no port or credentials, a .pem path. */
export function isSnsCertUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.port === '' && url.username === '' && url.password === ''
    && /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(url.hostname) && url.pathname.endsWith('.pem');
}

export async function defaultFetchCert(url: string): Promise<string> {
  const res = await safeFetch(url, { redirect: 'manual', maxBytes: 64 * 1024, timeoutMs: 5_000 });
  if (res.status !== 200) throw new Error(`certificate fetch answered ${res.status}`);
  return res.body.toString('utf8');
}

// Certificates by URL, per fetcher (so tests injecting their own fetcher never see another's keys).
// SNS rotates certificates under new URLs, so a cached URL never changes content.
const certCaches = new WeakMap<(url: string) => Promise<string>, Map<string, Promise<X509Certificate>>>();
const MAX_CACHED = 50;

function loadCert(url: string, fetchCert: (url: string) => Promise<string>): Promise<X509Certificate> {
  let cache = certCaches.get(fetchCert);
  if (!cache) certCaches.set(fetchCert, cache = new Map<string, Promise<X509Certificate>>());
  const hit = cache.get(url);
  if (hit) return hit;
  const loading = fetchCert(url).then((pem) => new X509Certificate(pem));
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(url, loading);
  loading.catch(() => cache.delete(url));
  return loading;
}

function topicAllowed(arn: string, allowed: SnsSecrets['topicArn']): boolean {
  if (allowed === undefined) return true;
  return (typeof allowed === 'string' ? [allowed] : allowed).includes(arn);
}

/** Verifies an SNS message (already JSON-parsed) and returns it typed; throws InboundError. */
export async function verifySnsMessage(body: unknown, secrets: SnsSecrets, opts: InboundOptions): Promise<SnsMessage> {
  const msg = obj(body);
  const type = msg && str(msg.Type);
  if (!msg || !type || !(type in FIELDS)) throw payloadError('not an SNS message');
  const canonical = snsStringToSign(msg);
  const algorithm = ALGORITHMS[String(msg.SignatureVersion)];
  if (!algorithm) throw signatureError('unsupported SNS SignatureVersion');
  const signature = str(msg.Signature);
  if (!signature || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) throw signatureError('the SNS message is not signed');
  const certUrl = str(msg.SigningCertURL);
  if (!certUrl || !isSnsCertUrl(certUrl)) throw signatureError('SigningCertURL is not an https URL on an SNS host');

  let cert: X509Certificate;
  try {
    cert = await loadCert(certUrl, opts.fetchCert ?? defaultFetchCert);
  } catch {
    throw signatureError('the SNS signing certificate could not be fetched or read');
  }
  const now = opts.now().getTime();
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) throw signatureError('the SNS signing certificate is not valid now');
  let ok = false;
  try {
    ok = cryptoVerify(algorithm, Buffer.from(canonical, 'utf8'), cert.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) throw signatureError('the SNS signature does not match');
  if (!topicAllowed(msg.TopicArn as string, secrets?.topicArn)) throw signatureError('the SNS message is from a topic this sender does not accept');
  checkFresh(dateOf(msg.Timestamp), opts);
  return msg as unknown as SnsMessage;
}
