// nft parsing and simulation beyond kube-proxy's fixture: forms nft prints, hostile and broken input,
// statements knet does not model (never silently skipped), jump loops, policies, families.
import { describe, expect, it } from 'vitest';
import { NftParseError, parseNftRuleset, simulateNft, isNftRuleset } from '../../../src/netfilter/nft/index.js';
import type { Packet } from '../../../src/netfilter/types.js';
import { generateKubeProxyNft } from './generate.js';

function pkt(p: Partial<Packet> = {}): Packet {
  return { src: '10.0.0.2', dst: '10.96.0.10', protocol: 'tcp', sport: 40000, dport: 80, hook: 'prerouting', ...p };
}
const opts = { localIPs: ['192.168.0.2'] };

function chainRuleset(body: string, header = 'type filter hook prerouting priority 0; policy accept;'): string {
  return `table ip t {\n\tchain c {\n\t\t${header}\n${body
    .split('\n')
    .map((l) => `\t\t${l}`)
    .join('\n')}\n\t}\n\tchain other {\n\t\tdrop\n\t}\n}\n`;
}

describe('kube-proxy chain names', () => {
  it('hash like kube-proxy (ns1/svc1/tcp/p80 → ULMVA6XW)', () => {
    const script = generateKubeProxyNft({ podCIDR: '10.0.0.0/8', serviceCIDR: '172.30.0.0/16', nodeIPs: [], services: [{ namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.41', port: 80, portName: 'p80', targetPort: 80, endpoints: [{ ip: '10.180.0.1' }] }] });
    expect(script).toContain('add chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80');
    expect(script).toContain('endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  });
});

describe('matches and statements', () => {
  it.each([
    ['tcp dport with an anonymous set', 'tcp dport { 22, 80-90 } drop', pkt({ dport: 85 }), 'drop'],
    ['tcp dport outside the set', 'tcp dport { 22, 80-90 } drop', pkt({ dport: 91 }), 'accept'],
    ['udp dport does not match tcp', 'udp dport 80 drop', pkt(), 'accept'],
    ['ip saddr != prefix', 'ip saddr != 10.0.0.0/8 drop', pkt({ src: '11.0.0.1' }), 'drop'],
    ['ip daddr range', 'ip daddr 10.96.0.1-10.96.0.20 reject', pkt(), 'reject'],
    ['meta l4proto by number', 'meta l4proto 6 drop', pkt(), 'drop'],
    ['ct state established,related (a NEW packet does not match)', 'ct state established,related drop', pkt(), 'accept'],
    ['ct state in an anonymous set', 'ct state { new, invalid } drop', pkt(), 'drop'],
    ['mark with a mask', 'meta mark & 0x00004000 == 0x00004000 drop', pkt({ mark: 0x4000 }), 'drop'],
    ['mark set then tested', 'meta mark set meta mark | 0x00000010\nmeta mark 0x00000010 drop', pkt(), 'drop'],
    ['fib daddr type local', 'fib daddr type local drop', pkt({ dst: '192.168.0.2' }), 'drop'],
    ['fib daddr type != local', 'fib daddr type != local drop', pkt({ dst: '192.168.0.2' }), 'accept'],
    ['iifname unknown (empty) does not equal eth0', 'iifname "eth0" drop', pkt(), 'accept'],
    ['iifname wildcard', 'iifname "veth*" drop', pkt({ inInterface: 'veth12' }), 'drop'],
    ['counter and comment are no-ops', 'counter packets 5 bytes 300 ip daddr 10.96.0.10 drop comment "x"', pkt(), 'drop'],
    ['log is not terminal', 'log prefix "seen " level info\nreject', pkt(), 'reject'],
    ['goto then fall through returns to the caller of the caller', 'goto other', pkt(), 'drop'],
    ['inline vmap', 'tcp dport vmap { 80 : drop, 443 : accept }', pkt(), 'drop'],
  ])('%s', (_name, body, packet, verdict) => {
    const r = simulateNft(parseNftRuleset(chainRuleset(body), { mode: 'strict' }), packet, opts);
    expect(r.verdict).toBe(verdict);
  });

  it('a base chain with policy drop drops what no rule accepts, and says so in the path', () => {
    const r = simulateNft(parseNftRuleset(chainRuleset('tcp dport 22 accept', 'type filter hook prerouting priority 0; policy drop;'), { mode: 'strict' }), pkt(), opts);
    expect(r.outcomes.map((o) => [o.verdict, o.path.at(-1)?.rule])).toEqual([['drop', 'policy drop']]);
  });

  it('accept ends one base chain, not the hook: a later base chain can still drop', () => {
    const text = 'table ip a {\n chain c {\n  type filter hook prerouting priority -10; policy accept;\n  accept\n }\n}\ntable inet b {\n chain c {\n  type filter hook prerouting priority 10; policy accept;\n  tcp dport 80 drop\n }\n}\n';
    const r = simulateNft(parseNftRuleset(text, { mode: 'strict' }), pkt(), opts);
    expect(r.outcomes.map((o) => [o.verdict, o.path.map((p) => p.table)])).toEqual([['drop', ['ip a', 'inet b']]]);
  });

  it('only tables of the packet family (and inet) are consulted', () => {
    const text = 'table ip6 six {\n chain c {\n  type filter hook prerouting priority 0;\n  drop\n }\n}\n';
    const ruleset = parseNftRuleset(text, { mode: 'strict' });
    expect(simulateNft(ruleset, pkt(), opts).verdict).toBe('accept');
    expect(simulateNft(ruleset, pkt({ src: 'fd00::2', dst: 'fd00::10' }), opts).verdict).toBe('drop');
  });

  it('numgen with offset and a missing key: the missing share falls through to the next rule', () => {
    const r = simulateNft(parseNftRuleset(chainRuleset('numgen random mod 4 offset 1 vmap { 1 : drop, 2-3 : reject }\naccept'), { mode: 'strict' }), pkt(), opts);
    expect(r.outcomes.map((o) => [o.verdict, o.probability])).toEqual([
      ['drop', 0.25],
      ['reject', 0.5],
      ['accept', 0.25],
    ]);
  });
});

describe('IPv6 (table ip6 kube-proxy)', () => {
  const text = [
    'table ip6 kube-proxy {',
    '\tmap service-ips {',
    '\t\ttype ipv6_addr . inet_proto . inet_service : verdict',
    '\t\telements = { fd00:10:96::a . udp . 53 : goto service-dns }',
    '\t}',
    '\tchain nat-prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t\tip6 daddr . meta l4proto . th dport vmap @service-ips',
    '\t}',
    '\tchain service-dns {',
    '\t\tip6 saddr != fd00:10:244::/56 meta mark set meta mark | 0x00004000',
    '\t\tnumgen random mod 2 vmap { 0 : goto ep-a, 1 : goto ep-b }',
    '\t}',
    '\tchain ep-a {',
    '\t\tmeta l4proto udp dnat to [fd00:10:244::2]:53',
    '\t}',
    '\tchain ep-b {',
    '\t\tmeta l4proto udp dnat to [fd00:10:244:1::3]:53',
    '\t}',
    '}',
  ].join('\n');

  it('DNATs to bracketed IPv6 endpoints, compares compressed addresses canonically', () => {
    const r = simulateNft(parseNftRuleset(text, { mode: 'strict' }), pkt({ src: 'fd00:10:244:0:0:0:0:5', dst: 'fd00:10:96:0::a', protocol: 'udp', dport: 53 }), opts);
    expect(r.outcomes.map((o) => [o.probability, o.dnat, o.mark ?? 0])).toEqual([
      [0.5, '[fd00:10:244::2]:53', 0],
      [0.5, '[fd00:10:244:1::3]:53', 0],
    ]);
  });

  it('an IPv4 packet does not see the ip6 table', () => {
    const r = simulateNft(parseNftRuleset(text, { mode: 'strict' }), pkt({ protocol: 'udp', dport: 53 }), opts);
    expect(r.outcomes.map((o) => [o.verdict, o.dnat])).toEqual([['accept', null]]);
  });
});

describe('meta random (how iptables-nft prints -m statistic --mode random)', () => {
  it.each([
    ['< threshold', 'meta random & 2147483647 < 1073741824 counter packets 0 bytes 0 jump other', 0.5],
    ['a third', 'meta random & 2147483647 < 715827883 jump other', 715827883 / 2147483648],
    ['> threshold', 'meta random & 2147483647 > 1610612735 jump other', 0.25],
  ])('%s: a drop branch and an accept branch with the right weights', (_name, body, p) => {
    const r = simulateNft(parseNftRuleset(chainRuleset(body), { mode: 'strict' }), pkt(), opts);
    expect(r.outcomes.map((o) => [o.verdict, o.probability])).toEqual([
      ['drop', p],
      ['accept', 1 - p],
    ]);
  });
});

describe('what knet does not model is never skipped', () => {
  it.each([
    ['limit rate', 'limit rate 10/second accept', '`limit` is not modelled'],
    ['queue', 'queue num 1', '`queue` is not modelled'],
    ['ct status', 'ct status dnat accept', '`ct status` is not modelled'],
    ['a data map in dnat', 'dnat to ip daddr map { 10.96.0.10 : 10.0.0.1 }', 'not modelled'],
    ['a rule the parser cannot read', 'ip daddr', 'expected a value'],
  ])('%s: an unknown outcome naming the rule', (_name, body, reason) => {
    const ruleset = parseNftRuleset(chainRuleset(body), { mode: 'strict' });
    const r = simulateNft(ruleset, pkt(), opts);
    expect(r.verdict).toBe('unknown');
    expect(r.outcomes[0]!.notModelled).toMatchObject({ table: 'ip t', chain: 'c', rule: body, line: 4 });
    expect(r.outcomes[0]!.notModelled!.reason).toContain(reason);
  });

  it('rules before the unknown one still decide when they match', () => {
    const r = simulateNft(parseNftRuleset(chainRuleset('tcp dport 80 drop\nlimit rate 1/second accept'), { mode: 'strict' }), pkt(), opts);
    expect(r.verdict).toBe('drop');
  });
});

describe('broken and hostile input', () => {
  const good = chainRuleset('tcp dport 80 drop');

  it('truncated: strict names the last line, lenient records it and keeps the rules read', () => {
    const cut = good.slice(0, good.indexOf('chain other'));
    expect(() => parseNftRuleset(cut, { mode: 'strict' })).toThrow(/line \d+: the input ends inside a block/);
    const lenient = parseNftRuleset(cut, { mode: 'lenient' });
    expect(lenient.findings.map((f) => f.code)).toEqual(['nft-line-not-understood']);
    expect(simulateNft(lenient, pkt(), opts).verdict).toBe('drop');
  });

  it.each([
    ['a jump to a missing chain', chainRuleset('jump nowhere'), 'nft-missing-chain', 4],
    ['a lookup of a missing set', chainRuleset('ip daddr @nowhere drop'), 'nft-missing-set', 4],
    ['an unknown family', 'table foo t {\n}\n', 'nft-line-not-understood', 1],
    ['an unknown top-level word', 'hello world\n', 'nft-line-not-understood', 1],
    ['an unknown hook', 'table ip t {\n chain c {\n  type filter hook sideways priority 0;\n }\n}\n', 'nft-line-not-understood', 3],
    ['a stray closing brace', '}\n', 'nft-line-not-understood', 1],
    ['a million-character line', `table ip t {\n${'a'.repeat(1_000_001)}\n}\n`, 'nft-line-not-understood', 2],
  ])('%s: strict throws NftParseError with the line, lenient gives a finding', (_name, text, code, line) => {
    let thrown: unknown;
    try {
      parseNftRuleset(text, { mode: 'strict' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(NftParseError);
    expect((thrown as NftParseError).line).toBe(line);
    expect(parseNftRuleset(text, { mode: 'lenient' }).findings.map((f) => [f.code, f.line])).toContainEqual([code, line]);
  });

  it('a jump to a missing chain, simulated: unknown, naming the rule', () => {
    const r = simulateNft(parseNftRuleset(chainRuleset('jump nowhere'), { mode: 'lenient' }), pkt(), opts);
    expect(r.outcomes[0]!.notModelled?.reason).toBe('chain "nowhere" does not exist');
  });

  it('a jump loop ends at the step limit with an unknown outcome', () => {
    const text = 'table ip t {\n chain c {\n  type filter hook prerouting priority 0;\n  jump a\n }\n chain a {\n  jump b\n }\n chain b {\n  jump a\n }\n}\n';
    const r = simulateNft(parseNftRuleset(text, { mode: 'strict' }), pkt(), { ...opts, maxSteps: 500 });
    expect(r.verdict).toBe('unknown');
    expect(r.outcomes[0]!.notModelled?.reason).toMatch(/more than 500 rules evaluated/);
  });

  it.each([
    ['not JSON', '{ "nftables": [ '],
    ['JSON without an nftables array', '{ "tables": [] }'],
  ])('%s: a parse error', (_name, text) => {
    expect(() => parseNftRuleset(text, { mode: 'lenient' })).toThrow(NftParseError);
  });

  it('JSON with unknown expressions keeps the rule and marks it not modelled', () => {
    const json = JSON.stringify({
      nftables: [
        { table: { family: 'ip', name: 't' } },
        { chain: { family: 'ip', table: 't', name: 'c', type: 'filter', hook: 'prerouting', prio: 0, policy: 'accept' } },
        { rule: { family: 'ip', table: 't', chain: 'c', expr: [{ limit: { rate: 1, per: 'second' } }, { accept: null }] } },
      ],
    });
    const r = simulateNft(parseNftRuleset(json, { mode: 'strict' }), pkt(), opts);
    expect(r.verdict).toBe('unknown');
    expect(r.outcomes[0]!.notModelled).toMatchObject({ chain: 'c', line: 3, rule: 'json-statement-limit accept' });
  });
});

describe('isNftRuleset', () => {
  it.each([
    ['nft list ruleset', 'table ip kube-proxy {\n}', true],
    ['knftables script', 'add table ip kube-proxy\n', true],
    ['nft -j', '{"nftables": []}', true],
    ['iptables-save', '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n', false],
  ])('%s → %s', (_name, text, expected) => {
    expect(isNftRuleset(text)).toBe(expected);
  });
});

describe('ClientIP session affinity (kube-proxy affinity sets)', () => {
  const script = generateKubeProxyNft({
    podCIDR: '10.0.0.0/8',
    serviceCIDR: '172.30.0.0/16',
    nodeIPs: [],
    services: [{ namespace: 'web', name: 'sticky', clusterIP: '172.30.1.14', port: 80, portName: 'http', targetPort: 8080, affinity: true, endpoints: [{ ip: '10.180.0.2' }, { ip: '10.180.0.3' }] }],
  });
  const packet = pkt({ dst: '172.30.1.14', dport: 80 });

  it.each([
    [[] as string[], [['10.180.0.2:8080', 0.5], ['10.180.0.3:8080', 0.5]], "no existing session affinity: lookups in kube-proxy's affinity sets were taken as not matching (a new client)"],
    [['10.180.0.3:8080'], [['10.180.0.3:8080', 1]], 'the client already has session affinity to 10.180.0.3:8080'],
    [['10.180.0.2:8080', '10.180.0.9:80'], [['10.180.0.2:8080', 1]], 'the client already has session affinity to 10.180.0.2:8080, 10.180.0.9:80'],
    // Affinity to an endpoint the Service does not have: a new client after all.
    [['10.180.0.9:8080'], [['10.180.0.2:8080', 0.5], ['10.180.0.3:8080', 0.5]], 'the client already has session affinity to 10.180.0.9:8080'],
  ])('--affinity %j', (affinity, outcomes, assumption) => {
    const r = simulateNft(parseNftRuleset(script, { mode: 'strict' }), packet, { ...opts, affinity });
    expect(r.outcomes.map((o) => [o.dnat, o.probability])).toEqual(outcomes);
    expect(r.assumptions).toContain(assumption);
  });
});

describe('interfaces', () => {
  it.each([
    ['oifname', 'oifname "eth0" drop', { outInterface: 'eth0' }, 'drop'],
    ['oifname, another interface', 'oifname "eth0" drop', { outInterface: 'eth1' }, 'accept'],
    ['oif (printed by name)', 'oif "eth0" drop', { outInterface: 'eth0' }, 'drop'],
    ['iif', 'iif "cni0" drop', { inInterface: 'cni0' }, 'drop'],
    ['meta iifname with a wildcard', 'meta iifname "veth*" drop', { inInterface: 'veth12ab' }, 'drop'],
  ] as const)('%s', (_name, body, p, verdict) => {
    const r = simulateNft(parseNftRuleset(chainRuleset(body, 'type filter hook postrouting priority 0; policy accept;'), { mode: 'strict' }), pkt(p), opts);
    expect(r.verdict).toBe(verdict);
  });
});
