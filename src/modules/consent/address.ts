// Addresses as the suppression list keeps them: lower-cased email, E.164 phone numbers.
import { AppError } from '../../errors.ts';
import type { ConsentChannel, TopicChannel } from './types.ts';

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
const E164 = /^\+[1-9]\d{6,14}$/;

export function normaliseEmail(value: string | null | undefined): string | null {
  const v = value?.trim().toLowerCase();
  return v && v.length <= 320 && EMAIL.test(v) ? v : null;
}

/** "+1 (555) 000-1111" -> "+15550001111"; null when it is not an E.164 number. */
export function normalisePhone(value: string | null | undefined): string | null {
  const v = value?.replace(/[\s().-]/g, '');
  return v && E164.test(v) ? v : null;
}

/** The address in its stored form, or consent.invalid_address. */
export function normaliseAddress(channel: ConsentChannel, address: string): string {
  const clean = channel === 'email' ? normaliseEmail(address) : normalisePhone(address);
  if (clean === null) throw new AppError('consent.invalid_address', undefined, { field: 'address' });
  return clean;
}

/** The person's address on a channel ("any": email, else phone). */
export function addressFor(person: { email: string | null; phone: string | null }, channel: TopicChannel): string | null {
  const email = normaliseEmail(person.email) ?? person.email?.toLowerCase() ?? null;
  const phone = normalisePhone(person.phone) ?? person.phone ?? null;
  if (channel === 'email') return email;
  if (channel === 'sms') return phone;
  return email ?? phone;
}
