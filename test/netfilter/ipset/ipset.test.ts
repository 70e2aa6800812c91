// ipset parsing on real `ipset list` / `ipset save` output, and lookups checked against the kernel's
// own `ipset test` on the same sets.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpsetParseError, ipsetLookup, parseIpset, type Ipset } from '../../../src/netfilter/ipset/index.js';
import type { Packet } from '../../../src/netfilter/types.js';
import { NetnsLab } from '../../support/netns.js';
import { NETNS_COMMANDS, describeNeeding } from '../../support/needs.js';

const here = new URL('./fixtures/', import.meta.url);
const listText = readFileSync(new URL('ipset-list.txt', here), 'utf8');
const saveText = readFileSync(new URL('ipset-save.txt', here), 'utf8');

/** The commands that made the captures (run in a fresh namespace). */
const SETUP = [
  'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536',
  'add KUBE-CLUSTER-IP 10.96.0.10,udp:53',
  'add KUBE-CLUSTER-IP 10.96.0.10,tcp:53',
  'add KUBE-CLUSTER-IP 10.96.0.1,tcp:443',
  'create KUBE-LOOP-BACK hash:ip,port,ip family inet',
  'add KUBE-LOOP-BACK 10.244.0.2,udp:53,10.244.0.2',
  'create KUBE-NODE-PORT-TCP bitmap:port range 0-65535',
  'add KUBE-NODE-PORT-TCP 31401',
  'create KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net family inet',
  'add KUBE-LOAD-BALANCER-SOURCE-CIDR 1.2.3.4,tcp:80,203.0.113.0/25',
  'create KUBE-IPVS-IPS hash:ip family inet',
  'add KUBE-IPVS-IPS 10.96.0.10',
  'add KUBE-IPVS-IPS 10.96.0.1',
  'create KUBE-CLUSTER-IP6 hash:ip,port family inet6',
  'add KUBE-CLUSTER-IP6 fd00:10:96::a,udp:53',
  'create TEST-NETS hash:net family inet',
  'add TEST-NETS 10.0.0.0/8',
  'add TEST-NETS 10.1.0.0/16 nomatch',
];

function pkt(p: Partial<Packet>): Packet {
  return { src: '10.244.1.5', dst: '10.96.0.10', protocol: 'tcp', sport: 40000, dport: 53, hook: 'prerouting', ...p };
}

/** Lookups as `-m set --match-set SET FLAGS` asks them, with the `ipset test` entry that means the same. */
const LOOKUPS: { name: string; set: string; flags: string[]; packet: Packet; entry: string; expected: boolean }[] = [
  { name: 'ClusterIP udp:53 in KUBE-CLUSTER-IP', set: 'KUBE-CLUSTER-IP', flags: ['dst', 'dst'], packet: pkt({ protocol: 'udp' }), entry: '10.96.0.10,udp:53', expected: true },
  { name: 'ClusterIP tcp:53', set: 'KUBE-CLUSTER-IP', flags: ['dst', 'dst'], packet: pkt({}), entry: '10.96.0.10,tcp:53', expected: true },
  { name: 'ClusterIP sctp:53 (not a member)', set: 'KUBE-CLUSTER-IP', flags: ['dst', 'dst'], packet: pkt({ protocol: 'sctp' }), entry: '10.96.0.10,sctp:53', expected: false },
  { name: 'wrong port', set: 'KUBE-CLUSTER-IP', flags: ['dst', 'dst'], packet: pkt({ dport: 54 }), entry: '10.96.0.10,tcp:54', expected: false },
  { name: 'src,dst reads the source address', set: 'KUBE-CLUSTER-IP', flags: ['src', 'dst'], packet: pkt({ src: '10.96.0.1', dst: '1.1.1.1', dport: 443 }), entry: '10.96.0.1,tcp:443', expected: true },
  { name: 'hairpin in KUBE-LOOP-BACK (dst,dst,src)', set: 'KUBE-LOOP-BACK', flags: ['dst', 'dst', 'src'], packet: pkt({ src: '10.244.0.2', dst: '10.244.0.2', protocol: 'udp' }), entry: '10.244.0.2,udp:53,10.244.0.2', expected: true },
  { name: 'not hairpin', set: 'KUBE-LOOP-BACK', flags: ['dst', 'dst', 'src'], packet: pkt({ src: '10.244.1.5', dst: '10.244.0.2', protocol: 'udp' }), entry: '10.244.0.2,udp:53,10.244.1.5', expected: false },
  { name: 'NodePort in bitmap:port', set: 'KUBE-NODE-PORT-TCP', flags: ['dst'], packet: pkt({ dport: 31401 }), entry: '31401', expected: true },
  { name: 'other port in bitmap:port', set: 'KUBE-NODE-PORT-TCP', flags: ['dst'], packet: pkt({ dport: 31402 }), entry: '31402', expected: false },
  { name: 'LB source inside the range', set: 'KUBE-LOAD-BALANCER-SOURCE-CIDR', flags: ['dst', 'dst', 'src'], packet: pkt({ src: '203.0.113.2', dst: '1.2.3.4', dport: 80 }), entry: '1.2.3.4,tcp:80,203.0.113.2', expected: true },
  { name: 'LB source outside the range', set: 'KUBE-LOAD-BALANCER-SOURCE-CIDR', flags: ['dst', 'dst', 'src'], packet: pkt({ src: '203.0.113.130', dst: '1.2.3.4', dport: 80 }), entry: '1.2.3.4,tcp:80,203.0.113.130', expected: false },
  { name: 'VIP in KUBE-IPVS-IPS', set: 'KUBE-IPVS-IPS', flags: ['dst'], packet: pkt({ dst: '10.96.0.1' }), entry: '10.96.0.1', expected: true },
  { name: 'other IP not in KUBE-IPVS-IPS', set: 'KUBE-IPVS-IPS', flags: ['dst'], packet: pkt({ dst: '10.96.0.2' }), entry: '10.96.0.2', expected: false },
  { name: 'IPv6 hash:ip,port', set: 'KUBE-CLUSTER-IP6', flags: ['dst', 'dst'], packet: pkt({ src: 'fd00:10:244::5', dst: 'fd00:10:96:0::a', protocol: 'udp' }), entry: 'fd00:10:96::a,udp:53', expected: true },
  { name: 'hash:net member', set: 'TEST-NETS', flags: ['dst'], packet: pkt({ dst: '10.2.3.4' }), entry: '10.2.3.4', expected: true },
  { name: 'hash:net nomatch exception wins', set: 'TEST-NETS', flags: ['dst'], packet: pkt({ dst: '10.1.3.4' }), entry: '10.1.3.4', expected: false },
  { name: 'hash:net outside', set: 'TEST-NETS', flags: ['dst'], packet: pkt({ dst: '11.0.0.1' }), entry: '11.0.0.1', expected: false },
];

const summary = (sets: Ipset[]): unknown => sets.map((s) => [s.name, s.type, s.family, s.members.map((m) => `${m.raw}${m.isNomatch ? ' nomatch' : ''}`)]);

describe('parseIpset on real output', () => {
  it.each([
    ['ipset list', listText],
    ['ipset save', saveText],
  ])('%s gives every set, its type, family and members', (_form, text) => {
    const { sets, findings } = parseIpset(text, { mode: 'strict' });
    expect(findings).toEqual([]);
    expect(summary(sets)).toEqual([
      ['KUBE-CLUSTER-IP', 'hash:ip,port', 'inet', ['10.96.0.10,tcp:53', '10.96.0.1,tcp:443', '10.96.0.10,udp:53']],
      ['KUBE-LOOP-BACK', 'hash:ip,port,ip', 'inet', ['10.244.0.2,udp:53,10.244.0.2']],
      ['KUBE-NODE-PORT-TCP', 'bitmap:port', 'inet', ['31401']],
      ['KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net', 'inet', ['1.2.3.4,tcp:80,203.0.113.0/25']],
      ['KUBE-IPVS-IPS', 'hash:ip', 'inet', ['10.96.0.10', '10.96.0.1']],
      ['KUBE-CLUSTER-IP6', 'hash:ip,port', 'inet6', ['fd00:10:96::a,udp:53']],
      ['TEST-NETS', 'hash:net', 'inet', ['10.1.0.0/16 nomatch', '10.0.0.0/8']],
    ]);
  });

  it('keeps the line of every member', () => {
    const { sets } = parseIpset(listText);
    expect(sets[0]!.members[0]).toEqual({ raw: '10.96.0.10,tcp:53', line: 9, isNomatch: false });
  });
});

describe('ipsetLookup (expected values as the kernel answered them; checked live below when root)', () => {
  const lookup = ipsetLookup(parseIpset(listText).sets);
  it.each(LOOKUPS)('$name → $expected', ({ set, flags, packet, expected }) => {
    expect(lookup(set, packet, flags)).toBe(expected);
  });
  it('answers undefined for a set it does not know', () => {
    expect(lookup('KUBE-NOPE', pkt({}), ['dst'])).toBeUndefined();
  });
});

describe('bad input', () => {
  it.each([
    ['members without a set', 'Members:\n10.0.0.1\n', 1],
    ['garbled header line', 'Name: A\nType: hash:ip\nBogus line here\n', 3],
    ['add before create', 'add NOPE 10.0.0.1\n', 1],
    ['a set without a type', 'Name: A\nMembers:\n10.0.0.1\n', 1],
  ])('%s: a line-numbered error in strict mode, a finding in lenient mode', (_name, text, line) => {
    expect(() => parseIpset(text, { mode: 'strict' })).toThrow(IpsetParseError);
    try {
      parseIpset(text, { mode: 'strict' });
    } catch (err) {
      expect((err as IpsetParseError).line).toBe(line);
    }
    const lenient = parseIpset(text, { mode: 'lenient' });
    expect(lenient.findings.map((f) => [f.code, f.line])).toContainEqual(['ipset-line-not-understood', line]);
  });

  it('a million-character line is reported, not split', () => {
    const r = parseIpset(`Name: A\nType: hash:ip\nMembers:\n${'9'.repeat(1_000_000)}\n`);
    expect(r.findings.map((f) => f.line)).toEqual([4]);
    expect(r.sets[0]!.members).toEqual([]);
  });

  it('truncated output keeps what it has', () => {
    const r = parseIpset(listText.slice(0, listText.indexOf('10.96.0.10,udp:53')));
    expect(r.sets[0]!.members.map((m) => m.raw)).toEqual(['10.96.0.10,tcp:53', '10.96.0.1,tcp:443']);
  });
});

describeNeeding({ root: true, commands: [...NETNS_COMMANDS, 'ipset'] }, 'ipset lookups agree with the kernel', () => {
  const lab = new NetnsLab('ipset');
  let ns = '';
  beforeAll(async () => {
    ns = await lab.addNamespace('node');
    await lab.must(ns, ['ipset', 'restore'], SETUP.join('\n') + '\n');
  });
  afterAll(() => lab.cleanup());

  it('the kernel lists the same sets as the stored capture', async () => {
    const live = parseIpset(await lab.must(ns, ['ipset', 'list']), { mode: 'strict' });
    const saved = parseIpset(await lab.must(ns, ['ipset', 'save']), { mode: 'strict' });
    // Hash member order depends on the random initval: compare as sets.
    const sorted = (sets: Ipset[]): unknown => sets.map((s) => [s.name, s.type, s.members.map((m) => m.raw).sort()]);
    expect(sorted(live.sets)).toEqual(sorted(parseIpset(listText).sets));
    expect(sorted(saved.sets)).toEqual(sorted(live.sets));
  });

  it.each(LOOKUPS)('ipset test $set $entry agrees: $name', async ({ set, flags, packet, entry }) => {
    const live = ipsetLookup(parseIpset(await lab.must(ns, ['ipset', 'list'])).sets);
    const kernel = await lab.exec(ns, ['ipset', 'test', set, entry]);
    expect(live(set, packet, flags)).toBe(kernel.code === 0);
  });
});
