// Addresses as the suppression list keeps them. A spelling that normalises differently from the
// list's would let a send past a suppression: these cases were surviving mutants (docs/testing.md).
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { addressFor, normaliseAddress, normaliseEmail, normalisePhone } from './address.ts';

describe('normaliseEmail', () => {
  it('trims and lower-cases', () => {
    expect(normaliseEmail('  Ann@Example.COM \t')).toBe('ann@example.com');
  });

  it('answers null for nothing, and for what is not an address', () => {
    for (const v of [undefined, null, '', '   ', 'ann', 'ann@', '@example.com', 'ann@example', 'a b@example.com', 'ann@exa mple.com', '<ann@example.com>']) {
      expect(normaliseEmail(v), String(v)).toBeNull();
    }
  });

  it('takes 320 characters and refuses 321', () => {
    const at320 = `${'a'.repeat(64)}@${'b'.repeat(251)}.com`;
    expect(at320).toHaveLength(320);
    expect(normaliseEmail(at320)).toBe(at320);
    expect(normaliseEmail(`a${at320}`)).toBeNull();
  });
});

describe('normalisePhone', () => {
  it('strips spaces, dots, dashes and brackets to E.164', () => {
    expect(normalisePhone('+1 (555) 000-1111')).toBe('+15550001111');
    expect(normalisePhone('+44.20.7946.0958')).toBe('+442079460958');
  });

  it('answers null for nothing, a number without +country, a leading 0, or too few or many digits', () => {
    for (const v of [undefined, null, '', '5550001111', '+0555000111', '+12345', '+1234567890123456', '+1 555 abc 1111']) {
      expect(normalisePhone(v), String(v)).toBeNull();
    }
    expect(normalisePhone('+1234567')).toBe('+1234567');
    expect(normalisePhone('+123456789012345')).toBe('+123456789012345');
  });
});

describe('normaliseAddress and addressFor', () => {
  it('normalises per channel, and refuses what is no address with consent.invalid_address', () => {
    expect(normaliseAddress('email', ' Bob@Example.com')).toBe('bob@example.com');
    expect(normaliseAddress('sms', '+1 555 000 2222')).toBe('+15550002222');
    for (const [channel, v] of [['email', '+15550002222'], ['sms', 'bob@example.com'], ['email', '']] as const) {
      const err = (() => { try { normaliseAddress(channel, v); } catch (e) { return e; } return undefined; })();
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'consent.invalid_address', field: 'address' });
    }
  });

  it('picks the person\'s address on a channel: email, phone, or for "any" the email first', () => {
    const both = { email: ' Cat@Example.com', phone: '+1 555 000 3333' };
    expect(addressFor(both, 'email')).toBe('cat@example.com');
    expect(addressFor(both, 'sms')).toBe('+15550003333');
    expect(addressFor(both, 'any')).toBe('cat@example.com');
    expect(addressFor({ email: null, phone: '+1 555 000 3333' }, 'any')).toBe('+15550003333');
    // Kept as given (lower-cased) when it does not parse: the ledger records what the person had.
    expect(addressFor({ email: 'Not An Address', phone: 'call me' }, 'email')).toBe('not an address');
    expect(addressFor({ email: 'Not An Address', phone: 'call me' }, 'sms')).toBe('call me');
    expect(addressFor({ email: null, phone: null }, 'any')).toBeNull();
  });
});
