import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestTandem, type TestTandem } from '../../../test/harness.ts';
import { createSigner } from './signer.ts';
import { createSigningService } from './service.ts';

describe('signed tokens', () => {
  const signer = createSigner('a'.repeat(32));

  it('verifies its own tokens for the same purpose only', () => {
    const token = signer.sign('unsubscribe', { w: 'ws_1', p: 'person-1', m: null });
    expect(signer.verify('unsubscribe', token)).toEqual({ w: 'ws_1', p: 'person-1', m: null });
    expect(signer.verify('preferences', token)).toBeNull();
    expect(createSigner('b'.repeat(32)).verify('unsubscribe', token)).toBeNull();
  });

  // The seed comes from the environment so a failure replays (fast-check prints it when it fails).
  const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

  it('refuses any change to a token', () => {
    const token = signer.sign('unsubscribe', { w: 'ws_1', p: 'person-1' });
    fc.assert(fc.property(fc.nat(token.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (i, c) => {
      const changed = token.slice(0, i) + c + token.slice(i + 1);
      fc.pre(changed !== token);
      return signer.verify('unsubscribe', changed) === null;
    }), { seed });
    for (const bad of ['', '.', 'abc', 'abc.', '.abc', 'x'.repeat(3000)]) expect(signer.verify('unsubscribe', bad)).toBeNull();
  });

  it('refuses every other spelling of a valid token (padding, stray characters, unused last bits)', () => {
    const payload = fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'), fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 4 });
    const stray = fc.constantFrom('=', '==', ' ', '\n', '\t', '+', '/', '.', '!', '%', '\u00e9', '\u0000');
    // A spelling: a position in the token and what is done there.
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: stray }),
      fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: fc.constantFrom(...alphabet.split('')) }),
      fc.record({ kind: fc.constant('append' as const), at: fc.constant(0), text: stray }),
      // Flip the low bits of the last character of either part: decodes to the same bytes in Node.
      fc.record({ kind: fc.constant('lastbits' as const), at: fc.nat(1), text: fc.constant('') }),
      fc.record({ kind: fc.constant('case' as const), at: fc.nat(), text: fc.constant('') }),
    );
    fc.assert(fc.property(payload, mutation, (p, m) => {
      const token = signer.sign('preferences', p);
      let changed = token;
      const at = m.at % token.length;
      if (m.kind === 'insert') changed = token.slice(0, at) + m.text + token.slice(at);
      else if (m.kind === 'replace') changed = token.slice(0, at) + m.text + token.slice(at + 1);
      else if (m.kind === 'append') changed = token + m.text;
      else if (m.kind === 'case') {
        const ch = token.charAt(at);
        changed = token.slice(0, at) + (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase()) + token.slice(at + 1);
      } else {
        const end = m.at === 0 ? token.indexOf('.') : token.length;
        const last = alphabet.indexOf(token.charAt(end - 1));
        changed = token.slice(0, end - 1) + alphabet.charAt(last ^ 1) + token.slice(end);
      }
      fc.pre(changed !== token);
      expect(signer.verify('preferences', changed)).toBeNull();
      expect(signer.verify('preferences', token)).toEqual(p);
    }), { seed, numRuns: 500 });
  });
});

describe('the installation key', () => {
  let t: TestTandem;
  beforeAll(async () => { t = await createTestTandem(); });
  afterAll(async () => { await t.close(); });

  it('is made once and shared by every process on the database', async () => {
    const a = createSigningService({ db: t.services.db, config: { signingSecret: undefined } });
    const b = createSigningService({ db: t.services.db, config: { signingSecret: undefined } });
    const [sa, sb] = await Promise.all([a.signer(), b.signer()]);
    expect(sb.verify('x', sa.sign('x', { n: 1 }))).toEqual({ n: 1 });
    const fixed = await createSigningService({ db: t.services.db, config: { signingSecret: 'c'.repeat(32) } }).signer();
    expect(fixed.verify('x', sa.sign('x', { n: 1 }))).toBeNull();
  });
});
