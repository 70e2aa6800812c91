// The Linux kernel as the oracle for the nftables simulator: kube-proxy's nftables rules loaded with
// `nft -f` into a "node" namespace between a client "pod" and backend "pods"; real TCP and UDP from the
// client; every backend the kernel reached must be a DNAT outcome of the simulator (masqueraded exactly
// when the simulator says so), a REJECT must be refused and a DROP must time out. The simulator runs on
// the rules as written AND on what the kernel printed back (`nft list ruleset`, `nft -j list ruleset`).
// The same namespaces give real `conntrack -L` output to parse.
//
//   client (10.0.0.2)──c0┐                          ┌──eth0 pods (10.180.0.1-5, one server per address)
//                        node (10.0.0.1, 10.180.0.254, 192.168.0.2 = node IP)
//   upstream (192.168.0.1, external client 203.0.113.2)──up0 (node's default route)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConntrackLine, scanConntrack } from '../../../src/netfilter/conntrack/index.js';
import { parseNftRuleset, simulateNft, type NftRuleset } from '../../../src/netfilter/nft/index.js';
import { parseIpAddr, parseIpRoute, type NodeRouting } from '../../../src/netfilter/routes/index.js';
import type { L4Protocol, TraceResult } from '../../../src/netfilter/types.js';
import { fixturesDir } from '../../support/cli.js';
import { NetnsLab, type ProbeResult } from '../../support/netns.js';
import { NETNS_COMMANDS, describeNeeding } from '../../support/needs.js';
import { generateKubeProxyNft, orderForNft } from './generate.js';
import { expectKernelAgrees } from '../../support/oracle.js';

const NODE_IP = '192.168.0.2';
const NODE_POD_SIDE = '10.180.0.254';
const BACKENDS = ['10.180.0.1', '10.180.0.2', '10.180.0.3', '10.180.0.4', '10.180.0.5'];
const LOCAL_IPS = [NODE_IP, '10.0.0.1', NODE_POD_SIDE];
const TIMEOUT_MS = 400;

const fixture = readFileSync(join(fixturesDir, 'kube-proxy/_derived/nftables-TestOverallNFTablesRules/rules.nft'), 'utf8');

const generated = generateKubeProxyNft({
  podCIDR: '10.0.0.0/8',
  serviceCIDR: '172.30.0.0/16',
  nodeIPs: [NODE_IP],
  services: [
    { namespace: 'web', name: 'three', clusterIP: '172.30.1.10', port: 80, portName: 'http', targetPort: 8080, nodePort: 30080, endpoints: [{ ip: '10.180.0.1' }, { ip: '10.180.0.2' }, { ip: '10.180.0.3' }] },
    { namespace: 'kube-system', name: 'dns', clusterIP: '172.30.1.11', protocol: 'udp', port: 53, portName: 'dns', targetPort: 5353, endpoints: [{ ip: '10.180.0.4' }, { ip: '10.180.0.5' }] },
    { namespace: 'kube-system', name: 'dns', clusterIP: '172.30.1.11', protocol: 'tcp', port: 53, portName: 'dns-tcp', targetPort: 5353, endpoints: [{ ip: '10.180.0.4' }, { ip: '10.180.0.5' }] },
    { namespace: 'web', name: 'empty', clusterIP: '172.30.1.12', port: 80, portName: 'http', targetPort: 80, nodePort: 30081, endpoints: [] },
    { namespace: 'web', name: 'empty-udp', clusterIP: '172.30.1.16', protocol: 'udp', port: 53, portName: 'dns', targetPort: 53, endpoints: [] },
    { namespace: 'web', name: 'sticky', clusterIP: '172.30.1.14', port: 80, portName: 'http', targetPort: 8080, affinity: true, endpoints: [{ ip: '10.180.0.2' }, { ip: '10.180.0.3' }] },
    { namespace: 'web', name: 'ext-local', clusterIP: '172.30.1.15', port: 80, portName: 'http', targetPort: 8080, nodePort: 30082, externalTrafficPolicy: 'Local', endpoints: [{ ip: '10.180.0.4', isLocal: false }] },
  ],
});

describeNeeding({ root: true, commands: [...NETNS_COMMANDS, 'nft', 'conntrack'] }, 'the kernel agrees with the nftables simulator', () => {
  const lab = new NetnsLab('nft');
  let client = '';
  let node = '';
  let upstream = '';

  beforeAll(async () => {
    client = await lab.addNamespace('client');
    node = await lab.addNamespace('node');
    const pods = await lab.addNamespace('pods');
    upstream = await lab.addNamespace('up');
    await lab.addVeth({ ns: client, ifname: 'eth0', address: '10.0.0.2/24' }, { ns: node, ifname: 'c0', address: '10.0.0.1/24' });
    await lab.addVeth({ ns: pods, ifname: 'eth0', address: BACKENDS.map((ip) => `${ip}/24`) }, { ns: node, ifname: 'p0', address: `${NODE_POD_SIDE}/24` });
    await lab.addVeth({ ns: upstream, ifname: 'eth0', address: '192.168.0.1/24' }, { ns: node, ifname: 'up0', address: `${NODE_IP}/24` });
    await lab.must(upstream, ['ip', 'addr', 'add', '203.0.113.2/32', 'dev', 'lo']);
    await lab.must(upstream, ['ip', 'addr', 'add', '203.0.113.130/32', 'dev', 'lo']);
    await lab.addRoute(client, 'default', { gateway: '10.0.0.1' });
    await lab.addRoute(pods, 'default', { gateway: NODE_POD_SIDE });
    // Without a default route, a packet to an un-DNATed ClusterIP fails routing before the filter REJECT runs.
    await lab.addRoute(node, 'default', { gateway: '192.168.0.1' });
    await lab.addRoute(node, '203.0.113.0/24', { gateway: '192.168.0.1' });
    for (const net of ['192.168.99.0/24', '1.2.3.4/32', '5.6.7.8/32']) await lab.addRoute(upstream, net, { gateway: NODE_IP });
    await lab.makeRouter(node);
    for (const ip of BACKENDS) await lab.startServer(pods, ip, [80, 8080, 5353], [ip]);
  }, 30_000);

  afterAll(() => lab.cleanup());

  /** Loads a script, then reads the kernel's own listing back in both forms. */
  async function load(script: string): Promise<Record<string, NftRuleset>> {
    await lab.must(node, ['nft', 'flush', 'ruleset']);
    await lab.must(node, ['nft', '-f', '-'], orderForNft(script));
    const text = await lab.must(node, ['nft', 'list', 'ruleset']);
    const json = await lab.must(node, ['nft', '-j', 'list', 'ruleset']);
    const forms = {
      script: parseNftRuleset(script, { mode: 'strict' }),
      'nft list ruleset': parseNftRuleset(text, { mode: 'strict' }),
      'nft -j list ruleset': parseNftRuleset(json, { mode: 'strict' }),
      // What `rules trace` reads: chains parsed only when the packet reaches them.
      'nft list ruleset, read lazily': parseNftRuleset(text, { mode: 'strict', isLazy: true }),
      'nft -j list ruleset, read lazily': parseNftRuleset(json, { mode: 'strict', isLazy: true }),
    };
    const count = (r: NftRuleset): number => r.tables.reduce((n, t) => n + [...t.chains.values()].reduce((m, c) => m + c.rules.length, 0), 0);
    expect(count(forms['nft list ruleset'])).toBe(count(forms.script));
    expect(count(forms['nft -j list ruleset'])).toBe(count(forms.script));
    return forms;
  }

  function simulateAll(forms: Record<string, NftRuleset>, src: string, dst: string, dport: number, protocol: L4Protocol): TraceResult {
    const results = Object.values(forms).map((r) => simulateNft(r, { src, dst, dport, protocol, hook: 'prerouting' }, { localIPs: LOCAL_IPS }));
    const shape = (r: TraceResult): unknown => r.outcomes.map((o) => [o.verdict, o.dnat, o.masquerade, o.probability]);
    for (const r of results.slice(1)) expect(shape(r)).toEqual(shape(results[0]!));
    return results[0]!;
  }

  describe("kube-proxy's TestOverallNFTablesRules ruleset", () => {
    let forms: Record<string, NftRuleset>;
    beforeAll(async () => {
      forms = await load(fixture);
    });

    it.each([
      ['pod → ClusterIP, one endpoint', 'client', '10.0.0.2', '172.30.0.41', 80, 6],
      ['pod → ClusterIP, two endpoints (numgen mod 2)', 'client', '10.0.0.2', '172.30.0.44', 80, 16],
      ['pod → ClusterIP without endpoints: REJECT', 'client', '10.0.0.2', '172.30.0.46', 80, 2],
      ['pod → wrong port of a ClusterIP: REJECT', 'client', '10.0.0.2', '172.30.0.41', 443, 2],
      ['pod → unallocated ClusterIP: DROP', 'client', '10.0.0.2', '172.30.0.50', 80, 2],
      ['pod → LB IP of an eTP=Local Service (short-circuit, no masquerade)', 'client', '10.0.0.2', '1.2.3.4', 80, 4],
      ['external → NodePort, eTP=Cluster: DNAT and masquerade', 'upstream', '203.0.113.2', NODE_IP, 3003, 4],
      ['external → NodePort, eTP=Local without local endpoints: DROP', 'upstream', '203.0.113.2', NODE_IP, 3001, 2],
      ['external → external IP, eTP=Local without local endpoints: DROP', 'upstream', '203.0.113.2', '192.168.99.22', 80, 2],
      ['external → external IP, eTP=Cluster, two endpoints, masquerade', 'upstream', '203.0.113.2', '192.168.99.33', 80, 12],
      ['LB IP from inside loadBalancerSourceRanges: DNAT', 'upstream', '203.0.113.2', '5.6.7.8', 80, 4],
      ['LB IP from outside loadBalancerSourceRanges: DROP', 'upstream', '203.0.113.130', '5.6.7.8', 80, 2],
    ] as const)('%s', async (_name, from, src, dst, dport, count) => {
      const result = simulateAll(forms, src, dst, dport, 'tcp');
      const [seen] = await lab.probe(from === 'client' ? client : upstream, [{ ip: dst, port: dport, protocol: 'tcp', count, ...(from === 'upstream' ? { source: src } : {}) }], TIMEOUT_MS);
      expectKernelAgrees(result, seen!, [NODE_POD_SIDE]);
    });
  });

  describe('a generated kube-proxy ruleset (UDP, NodePorts, affinity, no endpoints)', () => {
    let forms: Record<string, NftRuleset>;
    beforeAll(async () => {
      forms = await load(generated);
    });

    it.each([
      ['TCP ClusterIP, three endpoints', '172.30.1.10', 80, 'tcp', 24],
      ['UDP ClusterIP, two endpoints', '172.30.1.11', 53, 'udp', 16],
      ['TCP on the same ClusterIP and port number, two endpoints', '172.30.1.11', 53, 'tcp', 16],
      ['TCP, no endpoints: REJECT', '172.30.1.12', 80, 'tcp', 2],
      ['UDP, no endpoints: REJECT (ICMP port unreachable)', '172.30.1.16', 53, 'udp', 2],
      ['ClientIP affinity', '172.30.1.14', 80, 'tcp', 8],
      ['pod → NodePort on the node IP (masquerade)', NODE_IP, 30080, 'tcp', 12],
      ['pod → NodePort of a Service without endpoints: REJECT', NODE_IP, 30081, 'tcp', 2],
      ['pod → NodePort, eTP=Local: pod traffic short-circuits to all endpoints', NODE_IP, 30082, 'tcp', 2],
    ] as const)('%s', async (_name, dst, dport, protocol, count) => {
      const result = simulateAll(forms, '10.0.0.2', dst, dport, protocol);
      expect(result.outcomes.reduce((s, o) => s + o.probability, 0)).toBeCloseTo(1, 12);
      const [seen] = await lab.probe(client, [{ ip: dst, port: dport, protocol, count }], TIMEOUT_MS);
      expectKernelAgrees(result, seen!, [NODE_POD_SIDE]);
    });

    it('ClientIP affinity: a client that reached an endpoint reaches it again, as knet says with --affinity', async () => {
      const sticky = { ip: '172.30.1.14', port: 80, protocol: 'tcp' as const, count: 1 };
      const [[first]] = (await lab.probe(client, [sticky], TIMEOUT_MS)) as [[ProbeResult]];
      const [[second]] = (await lab.probe(client, [sticky], TIMEOUT_MS)) as [[ProbeResult]];
      expect(first.kind).toBe('reply');
      expect(second.kind).toBe('reply');
      const endpoint = (first as Extract<ProbeResult, { kind: 'reply' }>).identity;
      expect((second as Extract<ProbeResult, { kind: 'reply' }>).identity).toBe(endpoint);
      const packet = { src: '10.0.0.2', dst: sticky.ip, dport: sticky.port, protocol: 'tcp' as const, hook: 'prerouting' as const };
      // A new client: both endpoints, and the trace says it assumed so.
      const fresh = simulateNft(forms.script!, packet, { localIPs: LOCAL_IPS });
      expect(fresh.outcomes.map((o) => [o.dnat, o.probability])).toEqual([['10.180.0.2:8080', 0.5], ['10.180.0.3:8080', 0.5]]);
      expect(fresh.assumptions).toContain("no existing session affinity: lookups in kube-proxy's affinity sets were taken as not matching (a new client)");
      // The client the kernel remembers: only that endpoint, in every form of the rules.
      for (const form of Object.values(forms)) {
        const sticking = simulateNft(form, packet, { localIPs: LOCAL_IPS, affinity: [`${endpoint}:8080`] });
        expect(sticking.outcomes.map((o) => [o.verdict, o.dnat, o.probability])).toEqual([['accept', `${endpoint}:8080`, 1]]);
        expect(sticking.assumptions).toContain(`the client already has session affinity to ${endpoint}:8080`);
        expectKernelAgrees(sticking, [second], [NODE_POD_SIDE]);
      }
      // The kernel's own listing now holds the client in the endpoint's affinity set: read without --affinity, it sticks too.
      const listed = parseNftRuleset(await lab.must(node, ['nft', 'list', 'ruleset']), { mode: 'strict' });
      const remembered = simulateNft(listed, packet, { localIPs: LOCAL_IPS });
      expect(remembered.outcomes.map((o) => [o.dnat, o.probability])).toEqual([[`${endpoint}:8080`, 1]]);
    });

    // A CNI's `oifname "up0" masquerade` in a table of its own: the interface comes from the node's routes
    // (ip route, ip addr), looked up on the destination after DNAT as the kernel does.
    describe('an oifname masquerade with the interface from the node\'s routes', () => {
      let withCni: Record<string, NftRuleset>;
      let routing: NodeRouting;
      beforeAll(async () => {
        await lab.must(node, ['nft', '-f', '-'], 'table ip cni {\n\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat + 10; policy accept;\n\t\toifname "up0" masquerade\n\t}\n}\n');
        withCni = {
          'nft list ruleset': parseNftRuleset(await lab.must(node, ['nft', 'list', 'ruleset']), { mode: 'strict' }),
          'nft -j list ruleset': parseNftRuleset(await lab.must(node, ['nft', '-j', 'list', 'ruleset']), { mode: 'strict' }),
        };
        routing = { routes: parseIpRoute(await lab.must(node, ['ip', 'route'])).routes, interfaces: parseIpAddr(await lab.must(node, ['ip', 'addr'])).interfaces };
        await lab.startServer(upstream, 'upstream', [9000], ['203.0.113.2']);
      });

      function trace(form: NftRuleset, dst: string, dport: number): TraceResult {
        return simulateNft(form, { src: '10.0.0.2', dst, dport, protocol: 'tcp', hook: 'prerouting' }, { localIPs: LOCAL_IPS, routing });
      }

      it('pod → the outside by the uplink: masqueraded (the outside has no route back to the pod)', async () => {
        for (const form of Object.values(withCni)) {
          const result = trace(form, '203.0.113.2', 9000);
          expect(result.outcomes.map((o) => [o.verdict, o.dnat, o.masquerade])).toEqual([['accept', null, true]]);
          expect(result.assumptions).toContain("output interface up0: the node's route to 203.0.113.2: 203.0.113.0/24 via 192.168.0.1 dev up0");
        }
        const [seen] = await lab.probe(client, [{ ip: '203.0.113.2', port: 9000, protocol: 'tcp', count: 2 }], TIMEOUT_MS);
        expect(seen).toEqual([{ kind: 'reply', identity: 'upstream', peer: NODE_IP }, { kind: 'reply', identity: 'upstream', peer: NODE_IP }]);
      });

      it('pod → ClusterIP: routed to the pods after DNAT, so not masqueraded (before DNAT the default route is the uplink)', async () => {
        const [seen] = await lab.probe(client, [{ ip: '172.30.1.10', port: 80, protocol: 'tcp', count: 12 }], TIMEOUT_MS);
        for (const form of Object.values(withCni)) {
          const result = trace(form, '172.30.1.10', 80);
          expect(result.outcomes.map((o) => o.masquerade)).toEqual([false, false, false]);
          expectKernelAgrees(result, seen!, [NODE_POD_SIDE, NODE_IP]);
        }
      });

      it('without the routes the interface name is empty: the oifname rule does not match, and the trace says so', () => {
        const result = simulateNft(withCni['nft list ruleset']!, { src: '10.0.0.2', dst: '203.0.113.2', dport: 9000, protocol: 'tcp', hook: 'prerouting' }, { localIPs: LOCAL_IPS });
        expect(result.outcomes.map((o) => o.masquerade)).toEqual([false]);
        expect(result.assumptions).toContain('interface names were not given: rules matching iifname/oifname see an empty name');
      });
    });

    it('external client → NodePort with eTP=Local and no local endpoint: DROP (timeout)', async () => {
      const result = simulateAll(forms, '203.0.113.2', NODE_IP, 30082, 'tcp');
      expect(result.verdict).toBe('drop');
      const [seen] = await lab.probe(upstream, [{ ip: NODE_IP, port: 30082, protocol: 'tcp', count: 2, source: '203.0.113.2' }], TIMEOUT_MS);
      expect(seen!.every((r) => r.kind === 'timeout')).toBe(true);
    });

    it('real `conntrack -L` after traffic through DNAT parses, and marks the DNATed flows', async () => {
      await lab.must(node, ['conntrack', '-F']).catch(() => '');
      await lab.probe(client, [
        { ip: '172.30.1.11', port: 53, protocol: 'udp', count: 4 },
        { ip: '172.30.1.10', port: 80, protocol: 'tcp', count: 4 },
      ], TIMEOUT_MS);
      const listed = await lab.exec(node, ['conntrack', '-L']);
      expect(listed.code).toBe(0);
      const lines = listed.stdout.split('\n').filter((l) => l.trim());
      expect(lines.length).toBeGreaterThanOrEqual(8);
      for (const [i, line] of lines.entries()) expect(parseConntrackLine(line, i + 1), line).toHaveProperty('entry');
      // conntrack prints its summary on stderr; the parser takes it as a non-entry.
      expect(parseConntrackLine(listed.stderr.trim(), 1)).toBeNull();
      const scan = await scanConntrack(lines, { filter: { ips: ['172.30.1.11'], protocol: 'udp' } });
      expect(scan.matched).toBe(4);
      expect(scan.entries.every((e) => e.isDnat && ['10.180.0.4', '10.180.0.5'].includes(e.reply.src) && e.reply.sport === 5353 && e.original.dport === 53)).toBe(true);
      const tcp = await scanConntrack(lines, { filter: { ips: ['172.30.1.10'], protocol: 'tcp' } });
      expect(tcp.matched).toBe(4);
      expect(tcp.entries.every((e) => e.isDnat && !e.isSnat && e.original.src === '10.0.0.2')).toBe(true);
    });
  });
});
