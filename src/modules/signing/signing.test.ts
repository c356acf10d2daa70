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

  it('refuses any change to a token', () => {
    const token = signer.sign('unsubscribe', { w: 'ws_1', p: 'person-1' });
    fc.assert(fc.property(fc.nat(token.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (i, c) => {
      const changed = token.slice(0, i) + c + token.slice(i + 1);
      fc.pre(changed !== token);
      const out = signer.verify('unsubscribe', changed);
      // base64url has a few spellings of the same last bits; a change that decodes to the same bytes is the same token.
      return out === null || JSON.stringify(out) === JSON.stringify({ w: 'ws_1', p: 'person-1' });
    }));
    for (const bad of ['', '.', 'abc', 'abc.', '.abc', 'x'.repeat(3000)]) expect(signer.verify('unsubscribe', bad)).toBeNull();
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
