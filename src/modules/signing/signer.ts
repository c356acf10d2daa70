// Signed tokens for links that act without a login (unsubscribe, preference centre, tracking): a
// compact payload and an HMAC-SHA256 over the purpose and the payload, so a token made for one purpose
// is refused for another. Tokens carry no expiry of their own; a purpose that needs one puts a time in
// the payload and checks it.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignedPayload = Record<string, string | number | boolean | null>;

export interface Signer {
  sign(purpose: string, payload: SignedPayload): string;
  /** The payload, or null when the token is malformed, forged or made for another purpose. */
  verify(purpose: string, token: string): SignedPayload | null;
  /** A raw HMAC (hex) of `value` for `purpose`, for values signed elsewhere (a link's URL). */
  mac(purpose: string, value: string): string;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * The bytes of `text` when it is the one canonical base64url spelling of them, else null. Node's
 * decoder skips characters outside the alphabet, accepts padding and ignores the unused low bits of
 * the last character, so one token would otherwise have many spellings; a token is accepted only as
 * this signer wrote it.
 */
function strictB64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

export function createSigner(secret: string | Buffer): Signer {
  const key = Buffer.from(secret);
  const hmac = (purpose: string, data: string) => createHmac('sha256', key).update(`${purpose}\n${data}`).digest();
  return {
    sign(purpose, payload) {
      const data = b64(JSON.stringify(payload));
      // 16 bytes of the HMAC: 128 bits is plenty against forgery and keeps links short.
      return `${data}.${b64(hmac(purpose, data).subarray(0, 16))}`;
    },
    verify(purpose, token) {
      if (typeof token !== 'string' || token.length > 2048) return null;
      const dot = token.indexOf('.');
      if (dot <= 0) return null;
      const data = token.slice(0, dot);
      const body = strictB64(data);
      const given = strictB64(token.slice(dot + 1));
      if (!body || !given) return null;
      const expected = hmac(purpose, data).subarray(0, 16);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      try {
        const payload: unknown = JSON.parse(body.toString('utf8'));
        return payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? payload as SignedPayload : null;
      } catch {
        return null;
      }
    },
    mac(purpose, value) {
      return hmac(purpose, value).toString('hex');
    },
  };
}
