// The Message-ID header Tandem puts on the mail it sends, so a bounce that returns only the original
// headers (a DSN, an ISP's report) still leads back to the message. The left part carries a "tandem."
// marker, which keeps other systems' Message-IDs from being read as ours.

const ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
const PREFIX = 'tandem.';

function isDotAtom(s: string): boolean {
  return s.length > 0 && s.split('.').every((part) => ATOM.test(part));
}

/** `<tandem.<messageId>@<domain>>`; throws a TypeError for an id or domain a Message-ID cannot carry verbatim. */
export function tandemMessageIdHeader(messageId: string, domain: string): string {
  if (!isDotAtom(messageId) || messageId.length > 200) throw new TypeError(`message id ${JSON.stringify(messageId)} cannot be carried in a Message-ID`);
  if (!isDotAtom(domain) || domain.length > 253) throw new TypeError(`domain ${JSON.stringify(domain)} cannot be carried in a Message-ID`);
  return `<${PREFIX}${messageId}@${domain.toLowerCase()}>`;
}

/** Tandem's message id from a Message-ID (or References) value made by tandemMessageIdHeader, else undefined. */
export function messageIdFromHeader(value: string | undefined | null): string | undefined {
  if (typeof value !== 'string' || value.length > 4000) return undefined;
  // References and In-Reply-To may hold several ids; take the first that is ours.
  for (const m of value.matchAll(/<?\s*([^<>\s@]+)@([^<>\s@]+?)\s*>?(?=\s|$|,)/g)) {
    const left = m[1]!;
    if (!left.toLowerCase().startsWith(PREFIX)) continue;
    const id = left.slice(PREFIX.length);
    if (isDotAtom(id)) return id;
  }
  return undefined;
}
