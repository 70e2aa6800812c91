import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../../src/netfilter/iptables/parse.js';
import { simulateIptables } from '../../../src/netfilter/iptables/simulate.js';
import type { Packet, TraceResult } from '../../../src/netfilter/types.js';

/** A dump of the given tables, each a list of lines after `*table`. */
function dumpOf(tables: Record<string, string[]>): string {
  return Object.entries(tables)
    .map(([name, lines]) => [`*${name}`, ...lines, 'COMMIT'].join('\n'))
    .join('\n') + '\n';
}

function trace(tables: Record<string, string[]>, packet: Partial<Packet> = {}, localIPs: string[] = ['192.168.0.2'], maxSteps?: number): TraceResult {
  const dump = parseIptablesSave(dumpOf(tables), { mode: 'strict' });
  return simulateIptables(
    dump,
    { src: '10.0.0.2', dst: '10.96.0.10', protocol: 'tcp', dport: 80, hook: 'prerouting', ...packet },
    maxSteps === undefined ? { localIPs } : { localIPs, maxSteps },
  );
}

function summary(r: TraceResult): [number, string, string | null, boolean][] {
  return r.outcomes.map((o) => [Number(o.probability.toFixed(12)), o.verdict, o.dnat, o.masquerade]);
}

const NAT = [':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]'];
const FILTER = [':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];

describe('simulateIptables', () => {
  it('splits kube-proxy statistic ladders into outcomes whose probabilities are exact products and sum to 1', () => {
    const r = trace({
      nat: [...NAT, ':SVC - [0:0]', ':A - [0:0]', ':B - [0:0]', ':C - [0:0]',
        '-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j SVC',
        '-A SVC -m statistic --mode random --probability 0.33333333349 -j A',
        '-A SVC -m statistic --mode random --probability 0.50000000000 -j B',
        '-A SVC -j C',
        '-A A -p tcp -j DNAT --to-destination 10.1.0.1:8080',
        '-A B -p tcp -j DNAT --to-destination 10.1.0.2:8080',
        '-A C -p tcp -j DNAT --to-destination 10.1.0.3:8080'],
    });
    const p1 = 0.33333333349;
    expect(summary(r)).toEqual([
      [Number(p1.toFixed(12)), 'accept', '10.1.0.1:8080', false],
      [Number(((1 - p1) * 0.5).toFixed(12)), 'accept', '10.1.0.2:8080', false],
      [Number(((1 - p1) * 0.5).toFixed(12)), 'accept', '10.1.0.3:8080', false],
    ]);
    expect(r.outcomes.reduce((s, o) => s + o.probability, 0)).toBeCloseTo(1, 14);
    expect(r.outcomes[1]!.path.map((s) => [s.chain, s.line, s.effect])).toEqual([
      ['PREROUTING', 9, 'jump SVC'],
      ['SVC', 11, 'probability 0.5 taken, jump B'],
      ['B', 14, 'DNAT to 10.1.0.2:8080'],
    ]);
  });

  it('treats --mode nth as a branch of probability 1/every', () => {
    const r = trace({ filter: [...FILTER, '-A FORWARD -m statistic --mode nth --every 4 --packet 0 -j DROP'] });
    expect(summary(r)).toEqual([
      [0.25, 'drop', null, false],
      [0.75, 'accept', null, false],
    ]);
  });

  it('follows goto: when the goto target returns, its caller returns too', () => {
    const r = trace({
      filter: [...FILTER, ':A - [0:0]', ':B - [0:0]',
        '-A FORWARD -j A',
        '-A FORWARD -j REJECT',
        '-A A -g B',
        '-A A -j DROP',
        '-A B -j RETURN'],
    });
    // B returns to FORWARD (A's caller), skipping A's DROP; FORWARD then REJECTs.
    expect(r.verdict).toBe('reject');
    expect(r.outcomes[0]!.path.map((s) => s.line)).toEqual([7, 9, 11, 8]);
  });

  it('applies MARK arithmetic and kube-proxy masquerade in POSTROUTING', () => {
    const r = trace({
      nat: [...NAT, ':KUBE-MARK-MASQ - [0:0]', ':KUBE-POSTROUTING - [0:0]',
        '-A PREROUTING -j KUBE-MARK-MASQ',
        '-A POSTROUTING -j KUBE-POSTROUTING',
        '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
        '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
        '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
        '-A KUBE-POSTROUTING -j MASQUERADE --random-fully'],
    }, { mark: 0x10 });
    // The masquerade bit is cleared again before MASQUERADE, so the final mark is the initial one.
    expect(r.outcomes[0]).toMatchObject({ verdict: 'accept', masquerade: true });
    expect(r.outcomes[0]!.mark).toBeUndefined();
    expect(r.outcomes[0]!.path.map((s) => s.effect)).toEqual([
      'jump KUBE-MARK-MASQ',
      'mark 0x10 → 0x4010',
      'jump KUBE-POSTROUTING',
      'mark 0x4010 → 0x10',
      'MASQUERADE (source becomes the outgoing interface address)',
    ]);
  });

  it.each([
    ['--or-mark', '--or-mark 0x4000', 0x1, 0x4001],
    ['--xor-mark', '--xor-mark 0x4000', 0x4001, 0x1],
    ['--and-mark', '--and-mark 0xff', 0x4001, 0x1],
    ['--set-mark', '--set-mark 0x8000', 0x1, 0x8000],
    ['--set-mark with a mask', '--set-mark 0x8000/0x8000', 0x1, 0x8001],
  ])('MARK %s', (_name, option, before, after) => {
    const r = trace({ mangle: [':PREROUTING ACCEPT [0:0]', `-A PREROUTING -j MARK ${option}`] }, { mark: before });
    expect(r.outcomes[0]!.mark).toBe(after);
  });

  it.each([
    ['addrtype LOCAL on the node IP', ['-A INPUT -m addrtype --dst-type LOCAL -j DROP'], { dst: '192.168.0.2' }, 'drop'],
    ['negated source CIDR', ['-A FORWARD ! -s 10.0.0.0/8 -j DROP'], {}, 'accept'],
    ['multiport with a range', ['-A FORWARD -p tcp -m multiport --dports 22,70:90 -j REJECT'], {}, 'reject'],
    ['protocol mismatch', ['-A FORWARD -p udp -m udp --dport 80 -j DROP'], {}, 'accept'],
    ['conntrack NEW', ['-A FORWARD -m conntrack --ctstate NEW -j DROP'], {}, 'drop'],
    ['conntrack ESTABLISHED when told', ['-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j DROP'], { ctState: 'ESTABLISHED' }, 'drop'],
    ['state NEW negated', ['-A FORWARD -m state ! --state NEW -j DROP'], {}, 'accept'],
    ['physdev: not bridged', ['-A FORWARD -m physdev --physdev-is-in -j DROP'], {}, 'accept'],
    ['input interface wildcard', ['-A FORWARD -i cali+ -j DROP'], { inInterface: 'cali1234' }, 'drop'],
    ['TCP SYN of a new connection', ['-A FORWARD -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP'], {}, 'drop'],
    ['comment, limit and LOG do not decide', ['-A FORWARD -m comment --comment "x" -m limit --limit 5/s -j LOG --log-prefix "x: "', '-A FORWARD -j REJECT'], {}, 'reject'],
    ['chain policy DROP', [], {}, 'drop'],
  ] as const)('%s', (name, rules, packet, verdict) => {
    const filter = [':INPUT ACCEPT [0:0]', `:FORWARD ${name === 'chain policy DROP' ? 'DROP' : 'ACCEPT'} [0:0]`, ':OUTPUT ACCEPT [0:0]', ...rules];
    expect(trace({ filter }, packet).verdict).toBe(verdict);
  });

  it('takes the OUTPUT path for packets the node sends, then INPUT when they are for the node itself', () => {
    const r = trace(
      { filter: [...FILTER, '-A OUTPUT -d 127.0.0.1/32 -j ACCEPT', '-A INPUT -j REJECT'], nat: [...NAT, '-A OUTPUT -d 10.96.0.10/32 -p tcp -j DNAT --to-destination 127.0.0.1:8080'] },
      { hook: 'output', src: '192.168.0.2' },
    );
    expect(summary(r)).toEqual([[1, 'reject', '127.0.0.1:8080', false]]);
    // filter OUTPUT sees the destination after DNAT.
    expect(r.outcomes[0]!.path.map((s) => `${s.table}:${s.chain}`)).toEqual(['nat:OUTPUT', 'filter:OUTPUT', 'filter:INPUT']);
  });

  it('skips nat for packets of an established connection', () => {
    const r = trace({ nat: [...NAT, '-A PREROUTING -p tcp -j DNAT --to-destination 10.1.0.1:80'] }, { ctState: 'ESTABLISHED' });
    expect(summary(r)).toEqual([[1, 'accept', null, false]]);
  });

  it('handles IPv6: DNAT to [ip]:port, ::1 is local', () => {
    const r = trace(
      { nat: [...NAT, ':SEP - [0:0]', '-A PREROUTING -d fd00:10:96::a/128 -p tcp -m tcp --dport 80 -j SEP', '-A SEP -s fd00:10:244::5/128 -j MASQUERADE', '-A SEP -p tcp -m tcp -j DNAT --to-destination [fd00:10:244::5]:8080'] },
      { src: 'fd00:10:244::7', dst: 'fd00:10:96::a' },
      ['2001:db8::1'],
    );
    expect(summary(r)).toEqual([[1, 'accept', '[fd00:10:244::5]:8080', false]]);
  });

  it.each([
    ['an unknown target', ['-A FORWARD -j TPROXY --on-port 1'], 'target TPROXY not modelled'],
    ['an unknown match', ['-A FORWARD -m socket -j DROP'], 'match not modelled: -m socket'],
    ['-m set without ipset data', ['-A FORWARD -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT'], 'match not modelled: -m set --match-set KUBE-CLUSTER-IP: no ipset data given'],
  ])('reports %s as a not-modelled outcome naming the rule', (_name, rules, reason) => {
    const r = trace({ filter: [...FILTER, ...rules] });
    expect(r.verdict).toBe('unknown');
    expect(r.outcomes[0]!.notModelled).toEqual({ table: 'filter', chain: 'FORWARD', rule: rules[0], line: 5, reason });
    expect(r.findings).toEqual([{ code: 'iptables-not-modelled', severity: 'warning', message: `filter FORWARD line 5: ${reason}; the outcome through this rule is unknown`, line: 5, rule: rules[0] }]);
  });

  it('answers -m set from the ipset data it is given', () => {
    const dump = parseIptablesSave(dumpOf({ filter: [...FILTER, '-A FORWARD -m set --match-set KUBE-CLUSTER-IP dst,dst -j REJECT'] }), { mode: 'strict' });
    const lookups: [string, string[]][] = [];
    const r = simulateIptables(dump, { src: '10.0.0.2', dst: '10.96.0.10', protocol: 'tcp', dport: 80, hook: 'prerouting' }, {
      localIPs: [],
      ipsets: (name, packet, flags) => {
        lookups.push([name, [...flags]]);
        return packet.dst === '10.96.0.10';
      },
    });
    expect(lookups).toEqual([['KUBE-CLUSTER-IP', ['dst', 'dst']]]);
    expect(r.verdict).toBe('reject');
  });

  it('stops a jump loop with a finding instead of hanging (a lenient parse lets it through)', () => {
    const dump = parseIptablesSave(dumpOf({ filter: [...FILTER, ':A - [0:0]', ':B - [0:0]', '-A FORWARD -j A', '-A A -j B', '-A B -g A'] }), { mode: 'lenient' });
    expect(dump.findings.map((f) => f.code)).toEqual(['iptables-jump-loop']);
    const r = simulateIptables(dump, { src: '10.0.0.2', dst: '10.96.0.10', protocol: 'tcp', dport: 80, hook: 'prerouting' }, { localIPs: [] });
    expect(r.verdict).toBe('unknown');
    expect(r.findings.map((f) => f.code)).toEqual(['iptables-jump-loop']);
    expect(r.outcomes[0]!.notModelled).toMatchObject({ chain: 'B', line: 9 });
  });

  it('stops after maxSteps rules with a finding', () => {
    const rules = Array.from({ length: 50 }, () => '-A FORWARD -p udp -j DROP');
    const r = trace({ filter: [...FILTER, ...rules] }, {}, [], 10);
    expect(r.verdict).toBe('unknown');
    expect(r.findings.map((f) => f.code)).toEqual(['iptables-max-steps']);
  });

  it('bounds exponential branching (hostile statistic chains) by a finding, with all probability accounted for', () => {
    const lines = [...FILTER];
    for (let i = 0; i < 20; i++) {
      lines.push(`:C${i} - [0:0]`, `-A C${i} -j RETURN`, `-A FORWARD -m statistic --mode random --probability 0.5 -j C${i}`);
    }
    const r = trace({ filter: lines });
    expect(r.findings.map((f) => f.code)).toContain('iptables-too-many-outcomes');
    expect(r.outcomes.reduce((s, o) => s + o.probability, 0)).toBeCloseTo(1, 9);
  });

  it('follows existing ClientIP affinity when told the endpoint', () => {
    const nat = [...NAT, ':SVC - [0:0]', ':SEP-A - [0:0]', ':SEP-B - [0:0]',
      '-A PREROUTING -d 10.96.0.10/32 -j SVC',
      '-A SVC -m recent --rcheck --seconds 10800 --reap --name SEP-A --mask 255.255.255.255 --rsource -j SEP-A',
      '-A SVC -m recent --rcheck --seconds 10800 --reap --name SEP-B --mask 255.255.255.255 --rsource -j SEP-B',
      '-A SVC -m statistic --mode random --probability 0.50000000000 -j SEP-A',
      '-A SVC -j SEP-B',
      '-A SEP-A -p tcp -m recent --set --name SEP-A --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.1.0.1:80',
      '-A SEP-B -p tcp -m recent --set --name SEP-B --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.1.0.2:80'];
    const dump = parseIptablesSave(dumpOf({ nat }), { mode: 'strict' });
    const packet: Packet = { src: '10.0.0.2', dst: '10.96.0.10', protocol: 'tcp', dport: 80, hook: 'prerouting' };
    expect(summary(simulateIptables(dump, packet, { localIPs: [] }))).toEqual([
      [0.5, 'accept', '10.1.0.1:80', false],
      [0.5, 'accept', '10.1.0.2:80', false],
    ]);
    const sticky = simulateIptables(dump, packet, { localIPs: [], affinity: ['10.1.0.2:80'] });
    expect(summary(sticky)).toEqual([[1, 'accept', '10.1.0.2:80', false]]);
    expect(sticky.assumptions).toContain('the client already has session affinity to 10.1.0.2:80');
  });

  it('states its assumptions', () => {
    const r = trace({ nat: [...NAT, ':S - [0:0]', '-A PREROUTING -j S', '-A S -m recent --name X --rcheck --seconds 10800 --reap -j DNAT --to-destination 10.1.0.1:80'] });
    expect(r.assumptions).toEqual([
      'connection state NEW: the first packet of a new connection (conntrack has no entry for it yet)',
      'local addresses (for -m addrtype LOCAL and the routing decision): 192.168.0.2, 127.0.0.0/8, ::1',
      'no existing session affinity: `-m recent --rcheck` rules were taken as not matching (a new client)',
    ]);
  });
});
