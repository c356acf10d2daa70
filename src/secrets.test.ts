import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SECRET_MASK, maskUrlPassword, secret, secretMasker, secretPaths } from './secrets.ts';

describe('declared secrets are masked wherever the schema puts them', () => {
  const token = secret(z.string());
  const schema = z.union([
    z.strictObject({ kind: z.literal('a'), apiKey: token, region: z.string() }),
    z.strictObject({ kind: z.literal('b'), url: secret(z.string(), 'url-password'), nested: z.object({ pin: secret(z.string()).optional() }).optional() }),
    z.strictObject({ kind: z.literal('c'), list: z.array(z.object({ code: secret(z.string()), label: z.string() })) }),
  ]);
  const mask = secretMasker(schema);

  it('finds the paths through unions, optionals, nested objects and arrays', () => {
    expect(secretPaths(schema)).toEqual(['apiKey', 'list[].code', 'nested.pin', 'url']);
  });

  it('masks values, keeps the rest, keeps a URL\'s host', () => {
    expect(mask({ kind: 'a', apiKey: 'k-123', region: 'eu' })).toEqual({ kind: 'a', apiKey: SECRET_MASK, region: 'eu' });
    expect(mask({ kind: 'b', url: 'smtp://u:p%40ss@mx.example.com:587?x=1', nested: { pin: '1234' } }))
      .toEqual({ kind: 'b', url: `smtp://u:${SECRET_MASK}@mx.example.com:587?x=1`, nested: { pin: SECRET_MASK } });
    expect(mask({ kind: 'c', list: [{ code: 'c1', label: 'one' }] })).toEqual({ kind: 'c', list: [{ code: SECRET_MASK, label: 'one' }] });
  });

  it('masks secret-named keys a schema does not know (stored before a field was declared)', () => {
    expect(mask({ kind: 'a', extra: { clientSecret: 's', refresh_token: 't', password: 'p', privateKey: 'k', note: 'n' } }))
      .toEqual({ kind: 'a', extra: { clientSecret: SECRET_MASK, refresh_token: SECRET_MASK, password: SECRET_MASK, privateKey: SECRET_MASK, note: 'n' } });
  });

  it('a URL without a password is unchanged; one that does not parse is masked whole', () => {
    expect(maskUrlPassword('https://hooks.example.com/x')).toBe('https://hooks.example.com/x');
    expect(maskUrlPassword('not a url')).toBe(SECRET_MASK);
  });
});
