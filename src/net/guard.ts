// Which IP addresses an outbound request may connect to. Webhooks, image import and form actions
// take URLs from users; without this check they reach loopback, cloud metadata and the private network.
// The rule is an allow rule: an address is reachable only if it is global unicast. Every IPv6 form that
// embeds an IPv4 address (mapped, translated, compatible, NAT64, 6to4) is judged by the IPv4 inside it.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Parse an address as the socket layer sees it (dotted quad or RFC 4291 text); null when it is not one. */
function parseAddress(ip: string): Address | null {
  const text = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  // Only the strict forms: ipaddr would also read inet_aton forms ("0x7f.1", "1.2.3"), which net.connect
  // treats as names to resolve. The URL parser turns such hosts into dotted quads before they get here,
  // and a loose form reaching this check is refused rather than guessed at.
  if (isIP(text) === 0) return null;
  try {
    return ipaddr.parse(text);
  } catch {
    return null;
  }
}

function ipv4FromWords(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

/** The IPv4 address an IPv6 address carries, for the forms that route to it; null for plain IPv6. */
export function embeddedIPv4(addr: ipaddr.IPv6): ipaddr.IPv4 | null {
  const p = addr.parts;
  const w = (i: number): number => p[i] ?? 0;
  const range = addr.range();
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (RFC 6145 translated).
  if (range === 'ipv4Mapped' || range === 'rfc6145') return ipv4FromWords(w(6), w(7));
  // ::a.b.c.d (deprecated IPv4-compatible); :: and ::1 are judged as themselves.
  if (w(0) === 0 && w(1) === 0 && w(2) === 0 && w(3) === 0 && w(4) === 0 && w(5) === 0) {
    if (range === 'unspecified' || range === 'loopback') return null;
    return ipv4FromWords(w(6), w(7));
  }
  // 64:ff9b::a.b.c.d (RFC 6052 NAT64 well-known prefix).
  if (w(0) === 0x64 && w(1) === 0xff9b && w(2) === 0 && w(3) === 0 && w(4) === 0 && w(5) === 0) {
    return ipv4FromWords(w(6), w(7));
  }
  // 2002:AABB:CCDD::/48 (6to4) routes to the relay at AA.BB.CC.DD.
  if (range === '6to4') return ipv4FromWords(w(1), w(2));
  return null;
}

function forbiddenIPv4(addr: ipaddr.IPv4): boolean {
  // Everything ipaddr classifies specially is refused: unspecified 0/8, broadcast, multicast, link-local
  // (169.254/16, cloud metadata), loopback 127/8, CGNAT 100.64/10, RFC 1918, reserved, documentation,
  // benchmarking, 240/4, AS112, AMT.
  return addr.range() !== 'unicast';
}

const globalUnicast6 = ipaddr.IPv6.parseCIDR('2000::/3');

function forbiddenIPv6(addr: ipaddr.IPv6): boolean {
  const v4 = embeddedIPv4(addr);
  if (v4) return forbiddenIPv4(v4);
  // Teredo, RFC 8215 local NAT64, ULA fc00::/7, fe80::/10, site-local, multicast, documentation,
  // discard and anything outside 2000::/3 (unallocated) are refused.
  if (addr.range() !== 'unicast') return true;
  return !addr.match(globalUnicast6);
}

/** True when an outbound connection must not go to this address. Anything that is not an address is forbidden. */
export function isForbiddenAddress(ip: string): boolean {
  const addr = parseAddress(ip);
  if (!addr) return true;
  return addr.kind() === 'ipv4' ? forbiddenIPv4(addr as ipaddr.IPv4) : forbiddenIPv6(addr as ipaddr.IPv6);
}

/** CIDR ranges an operator allows despite the rule (internal webhook receivers, an intranet image host). */
export type AllowList = readonly (readonly [Address, number])[];

/** Parse CIDRs ("10.1.0.0/16", "fd00::/8", or a bare address for one host). Throws on a malformed entry. */
export function parseAllowList(cidrs: readonly string[]): AllowList {
  return cidrs.map((entry) => {
    const text = entry.trim();
    if (text.includes('/')) return ipaddr.parseCIDR(text);
    const addr = ipaddr.parse(text);
    return [addr, addr.kind() === 'ipv4' ? 32 : 128] as const;
  });
}

function unmapped(addr: Address): Address {
  return addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()
    ? (addr as ipaddr.IPv6).toIPv4Address()
    : addr;
}

/** True when the address falls inside an allowed range (IPv4-mapped IPv6 matches IPv4 ranges too). */
export function inAllowList(ip: string, allow: AllowList): boolean {
  const parsed = parseAddress(ip);
  if (!parsed) return false;
  const addr = unmapped(parsed);
  return allow.some(([net, bits]) => {
    const range = unmapped(net);
    if (range.kind() !== addr.kind()) return false;
    // A mapped range (::ffff:10.0.0.0/104) becomes an IPv4 one with 96 fewer bits.
    const prefix = range === net ? bits : bits - 96;
    return addr.match(range, Math.max(0, prefix));
  });
}

/** The policy a connection is checked against: true allows everything (trusted networks only). */
export type PrivatePolicy = boolean | AllowList;

/** True when the policy lets a connection go to this address. */
export function isAddressAllowed(ip: string, policy: PrivatePolicy): boolean {
  if (policy === true) return parseAddress(ip) !== null;
  if (!isForbiddenAddress(ip)) return true;
  return policy !== false && inAllowList(ip, policy);
}
