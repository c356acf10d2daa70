// Key material: random secrets with a recognisable prefix, stored only as SHA-256 hashes.
import { createHash, randomBytes } from 'node:crypto';

export type KeyKind = 'write' | 'track' | 'app';

export const KEY_PREFIX: Record<KeyKind, string> = {
  write: 'tdm_wk_',
  track: 'tdm_tk_',
  app: 'tdm_app_',
};

export function newSecret(kind: KeyKind): string {
  return KEY_PREFIX[kind] + randomBytes(24).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** What is shown when keys are listed: the prefix and a few characters, never the secret. */
export function displayPrefix(secret: string): string {
  return `${secret.slice(0, KEY_PREFIX.app.length + 4)}…`;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('hex')}`;
}
