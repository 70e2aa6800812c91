// iptables-nft keeps kube-proxy's iptables rules as nftables objects, and `nft list ruleset` prints
// them translated (`-m statistic` becomes `meta random & 2147483647 < N`, addrtype becomes fib …).
// Loaded into a namespace with iptables-restore (the nft backend), the kernel's own listing must give
// the nftables simulator the same outcomes the iptables simulator finds in the iptables-save dump.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseIptablesSave } from '../../../src/netfilter/iptables/parse.js';
import { simulateIptables } from '../../../src/netfilter/iptables/simulate.js';
import { parseNftRuleset, simulateNft, type NftRuleset } from '../../../src/netfilter/nft/index.js';
import type { L4Protocol, Packet, TraceResult } from '../../../src/netfilter/types.js';
import { examplesDir } from '../../support/cli.js';
import { NetnsLab } from '../../support/netns.js';
import { NETNS_COMMANDS, describeNeeding } from '../../support/needs.js';

const dumpText = readFileSync(join(examplesDir, 'demo/nodes/kind-worker/iptables-save.txt'), 'utf8');
const LOCAL = ['172.18.0.3'];

/** Every ClusterIP:port kube-proxy programmed (or rejects) in the demo dump, as a pod would call it. */
const packets: [string, Packet][] = [...dumpText.matchAll(/^-A KUBE-SERVICES .*?-p (tcp|udp) -d ([\d.]+) --dport (\d+)/gm)].map((m) => [
  `${m[1]} ${m[2]}:${m[3]}`,
  { src: '10.244.1.5', dst: m[2]!, dport: Number(m[3]), protocol: m[1] as L4Protocol, hook: 'prerouting' },
]);
packets.push(
  ['NodePort from outside', { src: '172.18.0.1', dst: '172.18.0.3', dport: 31401, protocol: 'tcp', hook: 'prerouting' }],
  ['the node itself to a ClusterIP (output hook)', { src: '172.18.0.3', dst: '10.96.0.1', dport: 443, protocol: 'tcp', hook: 'output' }],
  ['not a Service', { src: '10.244.1.5', dst: '10.244.2.6', dport: 8080, protocol: 'tcp', hook: 'prerouting' }],
);

const shape = (r: TraceResult): unknown =>
  r.outcomes.map((o) => [o.verdict, o.dnat, o.masquerade, Number(o.probability.toFixed(9))]).sort((a, b) => String(a[1]).localeCompare(String(b[1])));

describeNeeding({ root: true, commands: [...NETNS_COMMANDS, 'iptables-restore', 'nft'] }, 'iptables-nft rules read back with nft agree with the iptables simulator', () => {
  const lab = new NetnsLab('xtnft');
  const forms: Record<string, NftRuleset> = {};
  beforeAll(async () => {
    const ns = await lab.addNamespace('node');
    await lab.must(ns, ['iptables-restore'], dumpText);
    forms['nft list ruleset'] = parseNftRuleset(await lab.must(ns, ['nft', 'list', 'ruleset']), { mode: 'strict' });
    forms['nft -j list ruleset'] = parseNftRuleset(await lab.must(ns, ['nft', '-j', 'list', 'ruleset']), { mode: 'strict' });
  });
  afterAll(() => lab.cleanup());

  it('finds the demo Services in the dump', () => {
    expect(packets.length).toBeGreaterThanOrEqual(12);
  });

  it.each(packets)('%s', (_name, packet) => {
    const expected = simulateIptables(parseIptablesSave(dumpText, { mode: 'strict' }), packet, { localIPs: LOCAL });
    expect(shape(simulateNft(forms['nft list ruleset']!, packet, { localIPs: LOCAL }))).toEqual(shape(expected));
  });

  it('nft -j names iptables-nft matches without their options: the simulator stops there and says why', () => {
    const r = simulateNft(forms['nft -j list ruleset']!, packets[0]![1], { localIPs: LOCAL });
    expect(r.verdict).toBe('unknown');
    expect(r.outcomes[0]!.notModelled?.reason).toMatch(/^`xt match [a-z]+` \(an iptables-nft extension\) is not modelled: nft -j output does not carry its options/);
  });
});
