// The --ip filter of `knet node …` compares IPv6 addresses parsed, in whatever form a dump prints them.
import { describe, expect, it } from 'vitest';
import { buildNodeFilter, textMatches } from '../../src/netfilter/node-filter.js';

describe('--ip with an IPv6 address', () => {
  const cases = [
    ['the short form', '-A KUBE-SERVICES -d fd00:10:96::a/128 -p udp -m udp --dport 53 -j KUBE-SVC-X', 'fd00:10:96::a', true],
    ['the full form the kernel prints', 'ip6 daddr fd00:0010:0096:0000:0000:0000:0000:000a udp dport 53 goto svc', 'fd00:10:96::a', true],
    ['the loopback in full form', 'ip6 saddr 0000:0000:0000:0000:0000:0000:0000:0001 accept', '::1', true],
    ['another address', 'ip6 daddr fd00:10:96::b udp dport 53 goto svc', 'fd00:10:96::a', false],
  ] as const;
  it.each(cases)('matches %s', (_name, text, ip, expected) => {
    expect(textMatches(buildNodeFilter({ ip }), text)).toBe(expected);
  });
  it('covers each form', () => {
    expect(cases).toHaveLength(4);
  });
});
