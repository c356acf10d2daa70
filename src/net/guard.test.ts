import { describe, expect, it } from 'vitest';
import { inAllowList, isAddressAllowed, isForbiddenAddress, parseAllowList } from './guard.ts';

describe('isForbiddenAddress', () => {
  const forbidden: Record<string, string[]> = {
    loopback: ['127.0.0.1', '127.255.255.254', '::1', '[::1]'],
    unspecified: ['0.0.0.0', '0.1.2.3', '::'],
    private: ['10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fc00::1', 'fd12:3456::1'],
    'link-local and metadata': ['169.254.169.254', '169.254.0.1', 'fe80::1', 'febf::1'],
    cgnat: ['100.64.0.1', '100.127.255.255'],
    'multicast and broadcast': ['224.0.0.1', '239.255.255.250', '255.255.255.255', 'ff02::1'],
    'reserved and documentation': ['240.0.0.1', '192.0.2.1', '198.51.100.7', '203.0.113.9', '198.18.0.1', '192.0.0.8', '2001:db8::1', 'fec0::1', '100::1'],
    'IPv4-mapped and translated': ['::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '::ffff:10.0.0.1', '::ffff:0:127.0.0.1', '0:0:0:0:0:ffff:c0a8:0101'],
    'IPv4-compatible': ['::127.0.0.1', '::7f00:1', '::a9fe:a9fe', '::10.0.0.1'],
    'NAT64': ['64:ff9b::127.0.0.1', '64:ff9b::a9fe:a9fe', '64:ff9b::10.0.0.1', '64:ff9b:1::8.8.8.8'],
    '6to4 carrying a private address': ['2002:7f00:1::', '2002:a9fe:a9fe::1', '2002:c0a8:101::1', '2002:a00:1::1'],
    teredo: ['2001:0:4136:e378:8000:63bf:3fff:fdd2', '2001::1'],
    'not an address (loose forms included)': ['', 'localhost', 'example.com', '1.2.3', '0x7f.1', '2130706433', '0177.0.0.1', '::ffff:1.2.3.4.5', '[::1'],
  };
  for (const [kind, ips] of Object.entries(forbidden)) {
    it(`refuses ${kind}`, () => {
      expect(ips.filter((ip) => !isForbiddenAddress(ip))).toEqual([]);
    });
  }

  it('allows global unicast, also when carried in mapped, NAT64 and 6to4 forms', () => {
    const allowed = [
      '8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '169.253.255.255', '11.0.0.1',
      '2606:4700:4700::1111', '2a00:1450:4001:81c::200e', '[2606:4700::1]',
      '::ffff:8.8.8.8', '64:ff9b::8.8.8.8', '2002:808:808::1',
    ];
    expect(allowed.filter((ip) => isForbiddenAddress(ip))).toEqual([]);
  });
});

describe('allow list', () => {
  const allow = parseAllowList(['10.1.0.0/16', '127.0.0.2', 'fd00::/8']);

  it('matches CIDRs and bare hosts, IPv4-mapped forms as IPv4', () => {
    expect(inAllowList('10.1.2.3', allow)).toBe(true);
    expect(inAllowList('::ffff:10.1.2.3', allow)).toBe(true);
    expect(inAllowList('127.0.0.2', allow)).toBe(true);
    expect(inAllowList('fd00::5', allow)).toBe(true);
    expect(inAllowList('10.2.0.1', allow)).toBe(false);
    expect(inAllowList('127.0.0.1', allow)).toBe(false);
    expect(inAllowList('fc00::5', allow)).toBe(false);
  });

  it('lets allowed private ranges through and keeps refusing the rest', () => {
    expect(isAddressAllowed('10.1.9.9', allow)).toBe(true);
    expect(isAddressAllowed('10.9.9.9', allow)).toBe(false);
    expect(isAddressAllowed('169.254.169.254', allow)).toBe(false);
    expect(isAddressAllowed('8.8.8.8', allow)).toBe(true);
    expect(isAddressAllowed('127.0.0.1', false)).toBe(false);
    expect(isAddressAllowed('127.0.0.1', true)).toBe(true);
    expect(isAddressAllowed('not-an-ip', true)).toBe(false);
  });

  it('rejects malformed entries', () => {
    expect(() => parseAllowList(['10.0.0.0/33'])).toThrow();
    expect(() => parseAllowList(['intranet'])).toThrow();
  });
});
