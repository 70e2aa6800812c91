// IPVS is not available in this kernel ("Protocol not available"): the parser and the simulator are
// tested on documented ipvsadm output (kubernetes/kubernetes pkg/proxy/ipvs/README.md; see fixtures/README.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ipsetLookup, parseIpset } from '../../../src/netfilter/ipset/index.js';
import { parseIptablesSave } from '../../../src/netfilter/iptables/parse.js';
import { IpvsParseError, parseIpvsadm, simulateIpvs, type IpvsTable } from '../../../src/netfilter/ipvs/index.js';
import type { Packet } from '../../../src/netfilter/types.js';

const here = new URL('./fixtures/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, here), 'utf8');
const listing = parseIpvsadm(read('readme-ipvsadm-ln.txt'), { mode: 'strict' });
const saved = parseIpvsadm(read('readme-ipvsadm-sn.txt'), { mode: 'strict' });
const iptables = parseIptablesSave(read('iptables-save-cluster-cidr.txt'), { mode: 'strict' });
const ipsets = ipsetLookup(parseIpset(read('ipset-list.txt'), { mode: 'strict' }).sets);

const shape = (t: IpvsTable): unknown =>
  t.virtualServers.map((v) => [v.protocol, v.address, v.port, v.scheduler, v.persistent ?? null, v.realServers.map((r) => [r.address, r.port, r.forward, r.weight])]);

function pkt(p: Partial<Packet>): Packet {
  return { src: '10.244.16.5', dst: '10.0.0.10', protocol: 'udp', sport: 40000, dport: 53, hook: 'prerouting', ...p };
}

describe('parseIpvsadm (documented output; IPVS is not available in this kernel)', () => {
  it('reads the README listing: virtual servers, scheduler, persistence, real servers', () => {
    expect(listing.findings).toEqual([]);
    expect(shape(listing)).toEqual([
      ['TCP', '10.0.0.1', 443, 'rr', 10800, [['192.168.0.1', 6443, 'Masq', 1]]],
      ['TCP', '10.0.0.10', 53, 'rr', null, [['172.17.0.2', 53, 'Masq', 1]]],
      ['UDP', '10.0.0.10', 53, 'rr', null, [['172.17.0.2', 53, 'Masq', 1]]],
    ]);
    expect(listing.virtualServers[0]!.realServers[0]).toMatchObject({ activeConn: 1, inActConn: 0, line: 5, raw: '-> 192.168.0.1:6443             Masq    1      1          0' });
  });

  it('reads ipvsadm -Sn into the same model', () => {
    expect(shape(saved)).toEqual(shape(listing));
  });

  it.each([
    ['IPv6, SCTP and firewall-mark services', 'UDP  [fd00:10:96::a]:53 rr\n  -> [fd00:10:244::2]:53  Masq 1 0 0\nSCTP  10.96.5.5:9999 sh\nFWM  100 wrr\n  -> 10.244.1.2:80  Route 3 0 0\n', [
      ['UDP', 'fd00:10:96::a', 53, 'rr', null, [['fd00:10:244::2', 53, 'Masq', 1]]],
      ['SCTP', '10.96.5.5', 9999, 'sh', null, []],
      ['FWM', '', 0, 'wrr', null, [['10.244.1.2', 80, 'Route', 3]]],
    ]],
    ['long options of ipvsadm -S', '--add-service --udp-service 10.96.0.10:53 --scheduler lc\n--add-server --udp-service 10.96.0.10:53 --real-server 10.244.0.2:53 -m --weight 0\n', [['UDP', '10.96.0.10', 53, 'lc', null, [['10.244.0.2', 53, 'Masq', 0]]]]],
  ])('%s', (_name, text, expected) => {
    expect(shape(parseIpvsadm(text, { mode: 'strict' }))).toEqual(expected);
  });

  it.each([
    ['a real server before any virtual server', '  -> 10.0.0.1:80 Masq 1 0 0\n', 1],
    ['a garbled address', 'TCP  10.0.0.1 rr\n', 1],
    ['a missing weight', 'TCP  10.0.0.1:80 rr\n  -> 10.0.0.2:80 Masq\n', 2],
    ['an unknown line', 'TCP  10.0.0.1:80 rr\nhello world\n', 2],
    ['a real server for an unknown service (-S)', '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1\n', 1],
  ])('bad input, %s: strict throws with the line, lenient finds', (_name, text, line) => {
    expect(() => parseIpvsadm(text, { mode: 'strict' })).toThrow(IpvsParseError);
    expect(parseIpvsadm(text, { mode: 'lenient' }).findings.map((f) => f.line)).toEqual([line]);
  });

  it('a million-character line is reported, not parsed', () => {
    expect(parseIpvsadm(`TCP  10.0.0.1:80 rr ${'x'.repeat(1_000_000)}\n`).findings.map((f) => f.code)).toEqual(['ipvs-line-not-understood']);
  });
});

describe('simulateIpvs', () => {
  it.each([
    ['UDP to kube-dns → its one real server', pkt({}), [[1, 'accept', '172.17.0.2:53', '172.17.0.2:53']]],
    ['TCP to the API server → real server, persistence noted', pkt({ protocol: 'tcp', dst: '10.0.0.1', dport: 443 }), [[1, 'accept', '192.168.0.1:6443', '192.168.0.1:6443']]],
    ['not a virtual server → untouched', pkt({ dst: '10.0.0.99' }), [[1, 'accept', null, undefined]]],
  ])('IPVS lookup only: %s', (_name, packet, expected) => {
    const r = simulateIpvs({ ipvs: listing }, packet, { localIPs: ['192.168.0.2'] });
    expect(r.outcomes.map((o) => [o.probability, o.verdict, o.dnat, o.realServer])).toEqual(expected);
    expect(r.format).toBe('ipvs');
  });

  it('splits by weight; weight 0 (terminating) gets no new connections; rr gives equal weights equal shares', () => {
    const ipvs = parseIpvsadm('TCP  10.96.0.50:80 wrr\n  -> 10.244.1.1:80 Masq 1 0 0\n  -> 10.244.1.2:80 Masq 0 3 0\n  -> 10.244.1.3:80 Masq 3 0 0\n', { mode: 'strict' });
    const r = simulateIpvs({ ipvs }, pkt({ protocol: 'tcp', dst: '10.96.0.50', dport: 80 }), { localIPs: [] });
    expect(r.outcomes.map((o) => [o.probability, o.dnat])).toEqual([
      [0.25, '10.244.1.1:80'],
      [0.75, '10.244.1.3:80'],
    ]);
    expect(r.outcomes[1]!.path.map((p) => p.effect)).toEqual(['virtual server TCP 10.96.0.50:80, scheduler wrr', 'real server 10.244.1.3:80 (Masq, weight 3 of 4): DNAT to 10.244.1.3:80']);
  });

  it.each([
    ['no real servers', 'TCP  10.96.0.50:80 rr\n'],
    ['only weight-0 real servers', 'TCP  10.96.0.50:80 rr\n  -> 10.244.1.2:80 Masq 0 3 0\n'],
  ])('%s: the packet reaches the node itself on kube-ipvs0 and is refused', (_name, text) => {
    const r = simulateIpvs({ ipvs: parseIpvsadm(text) }, pkt({ protocol: 'tcp', dst: '10.96.0.50', dport: 80 }), { localIPs: [] });
    expect(r.verdict).toBe('reject');
    expect(r.outcomes.map((o) => [o.verdict, o.dnat])).toEqual([['reject', null]]);
  });

  it.each([
    ['a pod in the cluster CIDR: not masqueraded', '10.244.16.5', false],
    ['an off-cluster client: KUBE-MARK-MASQ through -m set KUBE-CLUSTER-IP dst,dst', '192.168.0.5', true],
  ])('with iptables and ipsets, %s', (_name, src, isMasq) => {
    const r = simulateIpvs({ ipvs: listing, iptables, ipsets }, pkt({ src }), { localIPs: ['192.168.0.2'] });
    expect(r.outcomes.map((o) => [o.probability, o.verdict, o.dnat, o.masquerade])).toEqual([[1, 'accept', '172.17.0.2:53', isMasq]]);
    expect(r.outcomes[0]!.path.some((p) => p.table === 'nat' && p.chain === 'KUBE-SERVICES')).toBe(true);
    expect(r.assumptions).toContain('virtual server addresses are bound to kube-ipvs0, so they are local to the node');
  });

  it('without ipset data, the -m set rules are not silently taken as matching', () => {
    const r = simulateIpvs({ ipvs: listing, iptables }, pkt({ src: '192.168.0.5' }), { localIPs: ['192.168.0.2'] });
    expect(r.outcomes.some((o) => o.verdict === 'unknown' || o.notModelled !== undefined)).toBe(true);
  });
});
