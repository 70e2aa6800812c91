// The Linux kernel as the oracle: rules loaded with iptables-restore into a "node" namespace between a
// client "pod" and backend "pods"; real TCP and UDP connections; every backend the kernel reached must be
// a DNAT outcome of the simulator, a REJECT must be refused and a DROP must time out.
//
//   client (10.0.0.2)──c0┐                          ┌──eth0 pods (10.180.0.1-5, one server per address)
//                        node (10.0.0.1, 10.180.0.254, 192.168.0.2 = node IP)
//   upstream (192.168.0.1, external client 203.0.113.2)──up0 (node's default route)
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKubeProxyIptables } from '../../../bench/generate-iptables.mjs';
import { parseIptablesSave, type IptablesDump } from '../../../src/netfilter/iptables/parse.js';
import { simulateIptables } from '../../../src/netfilter/iptables/simulate.js';
import { parseIpAddr, parseIpRoute, type NodeRouting } from '../../../src/netfilter/routes/index.js';
import type { TraceResult } from '../../../src/netfilter/types.js';
import { NetnsLab } from '../../support/netns.js';
import { NETNS_COMMANDS, describeNeeding } from '../../support/needs.js';
import { fixturesDir } from './fixtures.js';
import { expectKernelAgrees } from '../../support/oracle.js';

const NODE_IP = '192.168.0.2';
const NODE_POD_SIDE = '10.180.0.254';
const BACKENDS = ['10.180.0.1', '10.180.0.2', '10.180.0.3', '10.180.0.4', '10.180.0.5'];
const TIMEOUT_MS = 400;
const NODE_POD_SIDE6 = 'fd00:180::fe';
const BACKENDS6 = ['fd00:180::1', 'fd00:180::2'];

/** TestTracePacket's dump as iptables-restore takes it: upstream wrote some multi-word comments unquoted. */
function adaptFixture(text: string): string {
  return text.replace(/--comment (kubernetes [a-z -]+[a-z]) (-[jm] )/g, '--comment "$1" $2');
}

/** Services of the generated kube-proxy rule set (backends as in the fixture: 10.180.0.x). */
const generated = generateKubeProxyIptables({
  services: [
    { namespace: 'web', name: 'three', clusterIP: '172.30.1.10', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }], endpoints: [{ ip: '10.180.0.1' }, { ip: '10.180.0.2' }, { ip: '10.180.0.3' }] },
    { namespace: 'kube-system', name: 'dns', clusterIP: '172.30.1.11', ports: [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'udp' }, { name: 'dns-tcp', port: 53, targetPort: 5353, protocol: 'tcp' }], endpoints: [{ ip: '10.180.0.4' }, { ip: '10.180.0.5' }] },
    { namespace: 'web', name: 'empty', clusterIP: '172.30.1.12', ports: [{ name: 'http', port: 80, nodePort: 30081 }, { name: 'dns', port: 53, protocol: 'udp' }], endpoints: [] },
    { namespace: 'web', name: 'local-only', clusterIP: '172.30.1.13', internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: [{ ip: '10.180.0.1', isLocal: false }] },
    { namespace: 'web', name: 'sticky', clusterIP: '172.30.1.14', affinitySeconds: 10800, ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: [{ ip: '10.180.0.2' }, { ip: '10.180.0.3' }] },
    { namespace: 'web', name: 'ext-local', clusterIP: '172.30.1.15', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30082 }], endpoints: [{ ip: '10.180.0.4', isLocal: false }] },
  ],
});

describeNeeding({ root: true, commands: [...NETNS_COMMANDS, 'iptables', 'iptables-save', 'iptables-restore', 'ip6tables-save', 'ip6tables-restore'] }, 'the kernel agrees with the iptables simulator', () => {
  const lab = new NetnsLab('ipt');
  let client = '';
  let node = '';
  let upstream = '';
  let pods = '';

  beforeAll(async () => {
    client = await lab.addNamespace('client');
    node = await lab.addNamespace('node');
    pods = await lab.addNamespace('pods');
    upstream = await lab.addNamespace('up');
    await lab.addVeth({ ns: client, ifname: 'eth0', address: ['10.0.0.2/24', 'fd00:10::2/64'] }, { ns: node, ifname: 'c0', address: ['10.0.0.1/24', 'fd00:10::1/64'] });
    await lab.addVeth(
      { ns: pods, ifname: 'eth0', address: [...BACKENDS.map((ip) => `${ip}/24`), ...BACKENDS6.map((ip) => `${ip}/64`)] },
      { ns: node, ifname: 'p0', address: [`${NODE_POD_SIDE}/24`, `${NODE_POD_SIDE6}/64`] },
    );
    await lab.addVeth({ ns: upstream, ifname: 'eth0', address: ['192.168.0.1/24', 'fd00:168::1/64'] }, { ns: node, ifname: 'up0', address: [`${NODE_IP}/24`, 'fd00:168::2/64'] });
    await lab.must(upstream, ['ip', 'addr', 'add', '203.0.113.2/32', 'dev', 'lo']);
    await lab.addRoute(client, 'default', { gateway: '10.0.0.1' });
    await lab.addRoute(pods, 'default', { gateway: NODE_POD_SIDE });
    // Without a default route, a packet to an un-DNATed ClusterIP fails routing before the filter REJECT runs.
    await lab.addRoute(node, 'default', { gateway: '192.168.0.1' });
    await lab.addRoute(node, '203.0.113.0/24', { gateway: '192.168.0.1' });
    await lab.must(client, ['ip', '-6', 'route', 'add', 'default', 'via', 'fd00:10::1']);
    await lab.must(pods, ['ip', '-6', 'route', 'add', 'default', 'via', NODE_POD_SIDE6]);
    await lab.must(node, ['ip', '-6', 'route', 'add', 'default', 'via', 'fd00:168::1']);
    for (const net of ['192.168.99.0/24', '1.2.3.4/32', '5.6.7.8/32']) await lab.addRoute(upstream, net, { gateway: NODE_IP });
    await lab.makeRouter(node);
    for (const ip of [...BACKENDS, ...BACKENDS6]) await lab.startServer(pods, ip, [80, 8080, 5353], [ip]);
  }, 30_000);

  afterAll(() => lab.cleanup());

  async function load(rules: string): Promise<IptablesDump> {
    await lab.must(node, ['iptables-restore'], rules);
    // Round trip: the kernel's own iptables-save output must parse strictly and carry the same rules.
    const saved = await lab.must(node, ['iptables-save']);
    const dump = parseIptablesSave(saved, { mode: 'strict' });
    expect(dump.ruleCount).toBe(parseIptablesSave(rules, { mode: 'strict' }).ruleCount);
    return dump;
  }

  function simulate(dump: IptablesDump, src: string, dst: string, dport: number, protocol: 'tcp' | 'udp'): TraceResult {
    return simulateIptables(dump, { src, dst, dport, protocol, hook: 'prerouting' }, { localIPs: [NODE_IP, '10.0.0.1', NODE_POD_SIDE, 'fd00:10::1', NODE_POD_SIDE6, 'fd00:168::2'] });
  }

  /** What the kernel did, checked against the simulator's outcomes. */
  describe("kube-proxy's TestTracePacket dump", () => {
    let dump: IptablesDump;
    beforeAll(async () => {
      dump = await load(adaptFixture(readFileSync(`${fixturesDir}/iptables-TestTracePacket/rules.txt`, 'utf8')));
    });

    it.each([
      ['single endpoint', '172.30.0.41', 80, ['10.180.0.1']],
      ['two endpoints, 50% each', '172.30.0.44', 80, ['10.180.0.4', '10.180.0.5']],
      ['no endpoints: REJECT', '172.30.0.46', 80, []],
    ] as const)('pod → ClusterIP, %s', async (_name, dst, dport, expected) => {
      const result = simulate(dump, '10.0.0.2', dst, dport, 'tcp');
      const [seen] = await lab.probe(client, [{ ip: dst, port: dport, protocol: 'tcp', count: 16 }], TIMEOUT_MS);
      expectKernelAgrees(result, seen!, [NODE_POD_SIDE, NODE_POD_SIDE6]);
      const reached = new Set(seen!.filter((r) => r.kind === 'reply').map((r) => (r.kind === 'reply' ? r.identity : '')));
      expect([...reached].every((ip) => (expected as readonly string[]).includes(ip))).toBe(true);
      if (expected.length === 0) expect(seen!.every((r) => r.kind === 'refused')).toBe(true);
    });

    it('external client → NodePort of an externalTrafficPolicy=Cluster Service: DNAT and masquerade', async () => {
      const result = simulate(dump, '203.0.113.2', NODE_IP, 3003, 'tcp');
      const [seen] = await lab.probe(upstream, [{ ip: NODE_IP, port: 3003, protocol: 'tcp', count: 4, source: '203.0.113.2' }], TIMEOUT_MS);
      expect(seen!.every((r) => r.kind === 'reply')).toBe(true);
      expectKernelAgrees(result, seen!, [NODE_POD_SIDE, NODE_POD_SIDE6]);
      expect(result.outcomes).toHaveLength(1);
      expect(result.outcomes[0]).toMatchObject({ dnat: '10.180.0.3:80', masquerade: true });
    });

    it('external client → external IP with no local endpoints: DROP (timeout)', async () => {
      const result = simulate(dump, '203.0.113.2', '192.168.99.22', 80, 'tcp');
      expect(result.verdict).toBe('drop');
      const [seen] = await lab.probe(upstream, [{ ip: '192.168.99.22', port: 80, protocol: 'tcp', count: 2, source: '203.0.113.2' }], TIMEOUT_MS);
      expect(seen!.every((r) => r.kind === 'timeout')).toBe(true);
      expectKernelAgrees(result, seen!, [NODE_POD_SIDE, NODE_POD_SIDE6]);
    });

    it('load-balancer IP with loadBalancerSourceRanges, from an allowed source: DNAT', async () => {
      const result = simulate(dump, '203.0.113.2', '5.6.7.8', 80, 'tcp');
      expect(result.verdict).toBe('accept');
      const [seen] = await lab.probe(upstream, [{ ip: '5.6.7.8', port: 80, protocol: 'tcp', count: 2, source: '203.0.113.2' }], TIMEOUT_MS);
      expect(seen!.every((r) => r.kind === 'reply')).toBe(true);
      expectKernelAgrees(result, seen!, [NODE_POD_SIDE, NODE_POD_SIDE6]);
    });

    it('load-balancer IP from a pod outside the source ranges: not DNATed, forwarded un-translated', async () => {
      // This dump's filter INPUT/FORWARD never jump to KUBE-PROXY-FIREWALL (kube-proxy's flow test runs that
      // chain directly), so the kernel forwards the packet toward the node's default route instead of dropping it.
      const result = simulate(dump, '10.0.0.2', '5.6.7.8', 80, 'tcp');
      expect(result.outcomes).toHaveLength(1);
      expect(result.outcomes[0]).toMatchObject({ verdict: 'accept', dnat: null });
      const [seen] = await lab.probe(client, [{ ip: '5.6.7.8', port: 80, protocol: 'tcp', count: 2 }], TIMEOUT_MS);
      expect(seen!.some((r) => r.kind === 'reply')).toBe(false);
    });
  });

  describe('a generated kube-proxy rule set (UDP, NodePorts, affinity, traffic policies)', () => {
    let dump: IptablesDump;
    beforeAll(async () => {
      await lab.must(node, ['iptables', '-t', 'nat', '-F']);
      dump = await load(generated);
    });

    it.each([
      ['TCP ClusterIP, three endpoints', '172.30.1.10', 80, 'tcp', 24],
      ['UDP ClusterIP, two endpoints', '172.30.1.11', 53, 'udp', 16],
      ['TCP on the same Service, two endpoints', '172.30.1.11', 53, 'tcp', 16],
      ['TCP no endpoints: REJECT', '172.30.1.12', 80, 'tcp', 2],
      ['UDP no endpoints: REJECT (ICMP port unreachable)', '172.30.1.12', 53, 'udp', 2],
      ['internalTrafficPolicy=Local without local endpoints: DROP', '172.30.1.13', 80, 'tcp', 2],
      ['ClientIP affinity', '172.30.1.14', 80, 'tcp', 8],
      ['pod → NodePort on the node IP', NODE_IP, 30080, 'tcp', 12],
      ['pod → NodePort of a Service without endpoints: REJECT', NODE_IP, 30081, 'tcp', 2],
    ] as const)('%s', async (_name, dst, dport, protocol, count) => {
      const result = simulate(dump, '10.0.0.2', dst, dport, protocol);
      const [seen] = await lab.probe(client, [{ ip: dst, port: dport, protocol, count }], TIMEOUT_MS);
      expectKernelAgrees(result, seen!, [NODE_POD_SIDE, NODE_POD_SIDE6]);
      expect(result.outcomes.reduce((s, o) => s + o.probability, 0)).toBeCloseTo(1, 12);
    });

    it('ClientIP affinity: the kernel keeps a client on one endpoint, which is one of the outcomes', async () => {
      const result = simulate(dump, '10.0.0.2', '172.30.1.14', 80, 'tcp');
      const [seen] = await lab.probe(client, [{ ip: '172.30.1.14', port: 80, protocol: 'tcp', count: 6 }], TIMEOUT_MS);
      const reached = new Set(seen!.map((r) => (r.kind === 'reply' ? r.identity : r.kind)));
      expect(reached.size).toBe(1);
      expectKernelAgrees(result, seen!, [NODE_POD_SIDE, NODE_POD_SIDE6]);
      expect(result.assumptions.some((a) => a.includes('session affinity'))).toBe(true);
      // Told of the affinity the kernel now holds, the simulator gives that one endpoint only.
      const endpoint = `${[...reached][0]!}:8080`;
      const sticky = simulateIptables(dump, { src: '10.0.0.2', dst: '172.30.1.14', dport: 80, protocol: 'tcp', hook: 'prerouting' }, { localIPs: [NODE_IP], affinity: [endpoint] });
      expect(sticky.outcomes.map((o) => [o.probability, o.dnat])).toEqual([[1, endpoint]]);
    });

    it('the node itself → ClusterIP (OUTPUT path): DNAT in nat OUTPUT, masqueraded as it leaves toward the pod', async () => {
      const result = simulateIptables(dump, { src: NODE_IP, dst: '172.30.1.10', dport: 80, protocol: 'tcp', hook: 'output' }, { localIPs: [NODE_IP, '10.0.0.1', NODE_POD_SIDE] });
      expect(result.outcomes.every((o) => o.path[0]!.table === 'nat' && o.path[0]!.chain === 'OUTPUT')).toBe(true);
      const [seen] = await lab.probe(node, [{ ip: '172.30.1.10', port: 80, protocol: 'tcp', count: 12 }], TIMEOUT_MS);
      expect(seen!.every((r) => r.kind === 'reply')).toBe(true);
      expectKernelAgrees(result, seen!, [NODE_POD_SIDE, NODE_POD_SIDE6]);
    });

    it('external client → NodePort with externalTrafficPolicy=Local and no local endpoint: DROP (timeout)', async () => {
      const result = simulate(dump, '203.0.113.2', NODE_IP, 30082, 'tcp');
      expect(result.verdict).toBe('drop');
      const [seen] = await lab.probe(upstream, [{ ip: NODE_IP, port: 30082, protocol: 'tcp', count: 2, source: '203.0.113.2' }], TIMEOUT_MS);
      expectKernelAgrees(result, seen!, [NODE_POD_SIDE, NODE_POD_SIDE6]);
    });
  });
  // A CNI's masquerade of traffic leaving by the uplink (`-o up0`): the interface comes from the node's
  // own routes (ip route, ip addr), looked up on the destination after DNAT as the kernel does.
  describe('an -o masquerade with the interface from the node\'s routes', () => {
    let dump: IptablesDump;
    let routing: NodeRouting;
    beforeAll(async () => {
      await lab.must(node, ['iptables-restore'], generated);
      await lab.must(node, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'up0', '-j', 'MASQUERADE']);
      dump = parseIptablesSave(await lab.must(node, ['iptables-save']), { mode: 'strict' });
      routing = { routes: parseIpRoute(await lab.must(node, ['ip', 'route'])).routes, interfaces: parseIpAddr(await lab.must(node, ['ip', 'addr'])).interfaces };
      await lab.startServer(upstream, 'upstream', [9000], ['203.0.113.2']);
    });

    function trace(dst: string, dport: number): TraceResult {
      return simulateIptables(dump, { src: '10.0.0.2', dst, dport, protocol: 'tcp', hook: 'prerouting' }, { localIPs: [NODE_IP, '10.0.0.1', NODE_POD_SIDE], routing });
    }

    it('pod → the outside by the uplink: masqueraded (the outside has no route back to the pod)', async () => {
      const result = trace('203.0.113.2', 9000);
      expect(result.outcomes.map((o) => [o.verdict, o.dnat, o.masquerade])).toEqual([['accept', null, true]]);
      expect(result.assumptions).toContain('output interface up0: the node\'s route to 203.0.113.2: 203.0.113.0/24 via 192.168.0.1 dev up0');
      expect(result.assumptions).toContain('input interface c0: the node\'s route back to the source 10.0.0.2: 10.0.0.0/24 dev c0 proto kernel scope link src 10.0.0.1');
      const [seen] = await lab.probe(client, [{ ip: '203.0.113.2', port: 9000, protocol: 'tcp', count: 2 }], TIMEOUT_MS);
      expect(seen).toEqual([{ kind: 'reply', identity: 'upstream', peer: NODE_IP }, { kind: 'reply', identity: 'upstream', peer: NODE_IP }]);
    });

    it('pod → ClusterIP: routed to the pods after DNAT, so not masqueraded (before DNAT the default route is the uplink)', async () => {
      const result = trace('172.30.1.10', 80);
      expect(result.outcomes.map((o) => o.masquerade)).toEqual([false, false, false]);
      expect([...new Set(result.assumptions.filter((a) => a.startsWith('output interface')).map((a) => a.split(':')[0]))]).toEqual(['output interface p0']);
      const [seen] = await lab.probe(client, [{ ip: '172.30.1.10', port: 80, protocol: 'tcp', count: 12 }], TIMEOUT_MS);
      expectKernelAgrees(result, seen!, [NODE_POD_SIDE, NODE_IP]);
    });

    it('without the routes the interface is unknown: the -o rule does not match, and the trace says so', () => {
      const result = simulateIptables(dump, { src: '10.0.0.2', dst: '203.0.113.2', dport: 9000, protocol: 'tcp', hook: 'prerouting' }, { localIPs: [NODE_IP] });
      expect(result.outcomes.map((o) => o.masquerade)).toEqual([false]);
      expect(result.assumptions.some((a) => a.startsWith("the packet's output interface is unknown"))).toBe(true);
    });
  });

  describe('IPv6: a generated kube-proxy rule set loaded with ip6tables-restore', () => {
    let dump: IptablesDump;
    beforeAll(async () => {
      const rules = generateKubeProxyIptables({
        podCIDR: 'fd00::/8',
        services: [
          { namespace: 'web', name: 'six', clusterIP: 'fd00:30::10', ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'dns', port: 53, targetPort: 5353, protocol: 'udp' }], endpoints: BACKENDS6.map((ip) => ({ ip })) },
          { namespace: 'web', name: 'six-empty', clusterIP: 'fd00:30::12', ports: [{ name: 'http', port: 80 }], endpoints: [] },
        ],
      });
      await lab.must(node, ['ip6tables-restore'], rules);
      const saved = await lab.must(node, ['ip6tables-save']);
      dump = parseIptablesSave(saved, { mode: 'strict' });
      expect(dump.family).toBe(6);
      expect(dump.ruleCount).toBe(parseIptablesSave(rules, { mode: 'strict' }).ruleCount);
    });

    it.each([
      ['TCP ClusterIP, two endpoints', 'fd00:30::10', 80, 'tcp', 12],
      ['UDP ClusterIP, two endpoints', 'fd00:30::10', 53, 'udp', 12],
      ['no endpoints: REJECT', 'fd00:30::12', 80, 'tcp', 2],
    ] as const)('%s', async (_name, dst, dport, protocol, count) => {
      const result = simulate(dump, 'fd00:10::2', dst, dport, protocol);
      // The node's first ICMPv6 error for a new client is lost here (seen with SYN counters: the refusal
      // arrives for the retransmitted SYN, 1 s later), so a REJECT is given time for one retransmit.
      const timeout = result.verdict === 'reject' ? 1800 : TIMEOUT_MS;
      const [seen] = await lab.probe(client, [{ ip: dst, port: dport, protocol, count }], timeout);
      expectKernelAgrees(result, seen!, [NODE_POD_SIDE, NODE_POD_SIDE6]);
      if (result.verdict === 'accept') expect(result.outcomes.map((o) => o.dnat)).toEqual(BACKENDS6.map((ip) => `[${ip}]:${protocol === 'udp' ? 5353 : 8080}`));
    });
  });
});
