// diffRules on kube-proxy's own dumps and the API objects its tests built them from
// (test/fixtures/rules-diff/<case>/api.yaml, each with a note of where it came from): in sync, the
// engine says nothing; each planted drift is named by its code, Service port and endpoint.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyCluster, type Cluster } from '../../../src/model/cluster.js';
import { parseIptablesSave } from '../../../src/netfilter/iptables/parse.js';
import { parseIpvsadm } from '../../../src/netfilter/ipvs/parse.js';
import { parseNftRuleset } from '../../../src/netfilter/nft/index.js';
import { hasErrors } from '../../../src/model/finding.js';
import { diffRules, type KubeProxyState } from '../../../src/netfilter/rules-diff/index.js';
import { expectServicePorts, expectServicePortsLazily, indexSlicesByService } from '../../../src/netfilter/rules-diff/expected.js';
import { loadSnapshot } from '../../../src/sources/snapshot.js';
import { fixturesDir } from '../../support/cli.js';

const kubeProxy = join(fixturesDir, 'kube-proxy');
const overallIptables = readFileSync(join(kubeProxy, '_derived/iptables-TestOverallIPTablesRules/rules.txt'), 'utf8');
const overallNft = readFileSync(join(kubeProxy, '_derived/nftables-TestOverallNFTablesRules/rules.nft'), 'utf8');

async function apiOf(name: string): Promise<Cluster> {
  return (await loadSnapshot(join(fixturesDir, 'rules-diff', name, 'api.yaml'))).cluster;
}

function iptables(text: string): KubeProxyState {
  return { mode: 'iptables', dumps: [{ family: 4, dump: parseIptablesSave(text, { mode: 'strict' }) }] };
}

function nft(text: string): KubeProxyState {
  return { mode: 'nftables', ruleset: parseNftRuleset(text, { mode: 'strict' }) };
}

/** Each finding as [code, servicePort, endpoint or destination]: what a reader needs to act. */
function named(cluster: Cluster, state: KubeProxyState, node = 'test-node'): [string, string, string][] {
  const r = diffRules({ cluster, node, state });
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : undefined);
  return r.findings.map((f) => [f.code, text(f.servicePort) ?? text(f.service) ?? '?', text(f.endpoint) ?? text(f.destination) ?? text(f.destinations) ?? '']);
}

function withoutLine(text: string, pattern: RegExp): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => pattern.test(l));
  if (i < 0) throw new Error(`no line matches ${pattern}`);
  lines.splice(i, 1);
  return lines.join('\n');
}

function withoutService(cluster: Cluster, ns: string, name: string): Cluster {
  return { ...cluster, services: cluster.services.filter((s) => !(s.metadata.namespace === ns && s.metadata.name === name)) };
}

function withEndpoint(cluster: Cluster, ip: string, conditions: { ready?: boolean; serving?: boolean; terminating?: boolean }): Cluster {
  const slices = cluster.endpointSlices.map((s) => ({ ...s, endpoints: (s.endpoints ?? []).map((e) => (e.addresses[0] === ip ? { ...e, conditions } : e)) }));
  return { ...cluster, endpointSlices: slices };
}

describe('rules diff: kube-proxy fixtures in sync with their API objects report nothing', () => {
  it.each([
    ['iptables (TestOverallIPTablesRules)', () => iptables(overallIptables)],
    ['nftables (TestOverallNFTablesRules)', () => nft(overallNft)],
  ])('%s', async (_name, state) => {
    const r = diffRules({ cluster: await apiOf('overall'), node: 'test-node', state: state() });
    expect(r.findings).toEqual([]);
    expect(r.summary).toMatchObject({ servicePorts: 6, inSync: 6, drifted: 0, stale: 0, isInSync: true });
    expect(r.services.map((s) => `${s.namespace}/${s.name}:${s.portName} ${s.endpoints.programmed}/${s.endpoints.expected}`)).toEqual([
      'ns1/svc1:p80 1/1',
      'ns2/svc2:p80 1/1',
      'ns3/svc3:p80 1/1',
      'ns4/svc4:p80 2/2',
      'ns5/svc5:p80 1/1',
      'ns6/svc6:p80 0/0',
    ]);
  });
});

describe('rules diff: terminating endpoints as kube-proxy uses them (TestEndpointSliceWithTerminatingEndpointsTrafficPolicyCluster)', () => {
  it.each([
    ['terminating-cluster-ready-exist', 'gate-on-ready-exist', ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.5:80']],
    ['terminating-cluster-only-terminating', 'gate-on-only-terminating', ['10.0.1.2:80', '10.0.1.3:80', '10.0.1.5:80']],
    ['terminating-cluster-remote-node', 'gate-on-terminating-on-remote-node', ['10.0.1.5:80']],
  ])('%s: in sync', async (name, sub, endpoints) => {
    const text = readFileSync(join(kubeProxy, `iptables-1.26-TestEndpointSliceWithTerminatingEndpointsTrafficPolicyCluster-${sub}/rules.txt`), 'utf8');
    const r = diffRules({ cluster: await apiOf(name), node: 'test-node', state: iptables(text) });
    expect(r.findings).toEqual([]);
    expect(r.services.map((s) => [s.name, s.portName, s.endpoints.programmed])).toEqual([['svc1', '', endpoints.length]]);
  });

  it('the same dump against the objects of another sub-test names each difference', async () => {
    // "only terminating" rules while the API already has ready endpoints again.
    const text = readFileSync(join(kubeProxy, 'iptables-1.26-TestEndpointSliceWithTerminatingEndpointsTrafficPolicyCluster-gate-on-only-terminating/rules.txt'), 'utf8');
    expect(named(await apiOf('terminating-cluster-ready-exist'), iptables(text))).toEqual([
      ['endpoint-not-programmed', 'ns1/svc1', '10.0.1.1:80'],
      ['stale-endpoint-rules', 'ns1/svc1', '10.0.1.3:80'],
    ]);
  });
});

describe('rules diff: planted drifts are named (iptables)', () => {
  it('a Service removed from the API: its rules are stale', async () => {
    const api = withoutService(await apiOf('overall'), 'ns3', 'svc3');
    expect(named(api, iptables(overallIptables))).toEqual([['stale-service-rules', 'ns3/svc3:p80', '']]);
  });

  it('an endpoint gone not ready: the rules still send it traffic', async () => {
    const api = withEndpoint(await apiOf('overall'), '10.180.0.4', { ready: false, serving: false });
    const r = diffRules({ cluster: api, node: 'test-node', state: iptables(overallIptables) });
    expect(r.findings.map((f) => [f.code, f.severity, f.servicePort, f.endpoint])).toEqual([['stale-endpoint-rules', 'error', 'ns4/svc4:p80', '10.180.0.4:80']]);
    expect(r.findings[0]!.message).toContain('not ready');
    expect(r.findings[0]!.message).toContain('50%');
  });

  it('a terminating endpoint while another is ready: stale', async () => {
    const api = withEndpoint(await apiOf('overall'), '10.180.0.5', { ready: false, serving: true, terminating: true });
    const r = diffRules({ cluster: api, node: 'test-node', state: iptables(overallIptables) });
    expect(r.findings.map((f) => [f.code, f.endpoint])).toEqual([['stale-endpoint-rules', '10.180.0.5:80']]);
    expect(r.findings[0]!.message).toContain('terminating, while other endpoints are ready');
  });

  it('an endpoint rule missing: the endpoint is not programmed and the branches no longer split evenly', async () => {
    const text = withoutLine(overallIptables, /^-A KUBE-SVC-4SW47YFZTEDKD3PK .*-> 10\.180\.0\.5:80/);
    expect(named(await apiOf('overall'), iptables(text))).toEqual([
      ['endpoint-not-programmed', 'ns4/svc4:p80', '10.180.0.5:80'],
      ['uneven-probabilities', 'ns4/svc4:p80', ''],
    ]);
  });

  it('a ClusterIP rule missing: the Service port is not programmed', async () => {
    const text = withoutLine(overallIptables, /^-A KUBE-SERVICES .*"ns1\/svc1:p80 cluster IP"/);
    expect(named(await apiOf('overall'), iptables(text))).toEqual([['service-not-programmed', 'ns1/svc1:p80', 'ClusterIP 172.30.0.41:80']]);
  });

  it('a NodePort rule missing', async () => {
    const text = withoutLine(overallIptables, /^-A KUBE-NODEPORTS -m comment --comment ns3\/svc3:p80 -m tcp -p tcp --dport 3003/);
    expect(named(await apiOf('overall'), iptables(text))).toEqual([['service-not-programmed', 'ns3/svc3:p80', 'NodePort 3003']]);
  });

  it('a new endpoint in the API that the rules do not have', async () => {
    const api = await apiOf('overall');
    const slices = api.endpointSlices.map((s) => (s.metadata.name === 'svc1-1' ? { ...s, endpoints: [...(s.endpoints ?? []), { addresses: ['10.180.0.9'] }] } : s));
    expect(named({ ...api, endpointSlices: slices }, iptables(overallIptables))).toEqual([['endpoint-not-programmed', 'ns1/svc1:p80', '10.180.0.9:80']]);
  });

  it('a REJECT left for a Service port that now has endpoints', async () => {
    const api = await apiOf('overall');
    const slices = [...api.endpointSlices, { kind: 'EndpointSlice' as const, metadata: { namespace: 'ns6', name: 'svc6-1', labels: { 'kubernetes.io/service-name': 'svc6' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.180.0.6'] }], ports: [{ name: 'p80', port: 80, protocol: 'TCP' as const }] }];
    expect(named({ ...api, endpointSlices: slices }, iptables(overallIptables))).toEqual([
      ['reject-with-endpoints', 'ns6/svc6:p80', '172.30.0.46:80'],
      ['endpoint-not-programmed', 'ns6/svc6:p80', '10.180.0.6:80'],
    ]);
  });

  it('a ClusterIP changed in the API: the old one is stale and the new one not programmed', async () => {
    const api = await apiOf('overall');
    const services = api.services.map((s) => (s.metadata.name === 'svc1' ? { ...s, spec: { ...s.spec, clusterIP: '172.30.0.141' } } : s));
    expect(named({ ...api, services }, iptables(overallIptables))).toEqual([
      ['service-not-programmed', 'ns1/svc1:p80', 'ClusterIP 172.30.0.141:80'],
      ['stale-service-rules', 'ns1/svc1:p80', '172.30.0.41:80'],
    ]);
  });

  it('hand-edited probabilities', async () => {
    const text = overallIptables.replace('-> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000', '-> 10.180.0.4:80" -m statistic --mode random --probability 0.9000000000');
    const r = diffRules({ cluster: await apiOf('overall'), node: 'test-node', state: iptables(text) });
    expect(r.findings.map((f) => [f.code, f.severity])).toEqual([['uneven-probabilities', 'warning']]);
    expect(r.findings[0]!.message).toContain('10.180.0.4:80 90%, 10.180.0.5:80 10% instead of 50% each');
  });

  it('filters by Service', async () => {
    const api = withoutService(await apiOf('overall'), 'ns3', 'svc3');
    const r = diffRules({ cluster: api, node: 'test-node', state: iptables(overallIptables), service: { namespace: 'ns1', name: 'svc1' } });
    expect(r.services.map((s) => s.name)).toEqual(['svc1']);
    expect(r.findings).toEqual([]);
  });

  it('headless and ExternalName Services need no rules', async () => {
    const api = await apiOf('overall');
    const services = [
      ...api.services,
      { kind: 'Service' as const, metadata: { namespace: 'ns7', name: 'headless' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
      { kind: 'Service' as const, metadata: { namespace: 'ns7', name: 'alias' }, spec: { type: 'ExternalName' as const, externalName: 'db.example.com' } },
    ];
    expect(diffRules({ cluster: { ...api, services }, node: 'test-node', state: iptables(overallIptables) }).findings).toEqual([]);
  });
});

describe('rules diff: planted drifts are named (nftables)', () => {
  it('a Service removed from the API', async () => {
    const api = withoutService(await apiOf('overall'), 'ns1', 'svc1');
    expect(named(api, nft(overallNft))).toEqual([['stale-service-rules', 'ns1/svc1:p80', '']]);
  });

  it('an endpoint gone not ready', async () => {
    const api = withEndpoint(await apiOf('overall'), '10.180.0.5', { ready: false });
    expect(named(api, nft(overallNft))).toEqual([['stale-endpoint-rules', 'ns4/svc4:p80', '10.180.0.5:80']]);
  });

  it('an endpoint missing from the numgen map', async () => {
    const text = overallNft.replace('numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }', 'numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 }');
    expect(named(await apiOf('overall'), nft(text))).toEqual([
      ['endpoint-not-programmed', 'ns4/svc4:p80', '10.180.0.5:80'],
      ['uneven-probabilities', 'ns4/svc4:p80', ''],
    ]);
  });

  it('a service-ips element missing', async () => {
    const text = withoutLine(overallNft, /^add element ip kube-proxy service-ips \{ 172\.30\.0\.43 /);
    expect(named(await apiOf('overall'), nft(text))).toEqual([['service-not-programmed', 'ns3/svc3:p80', 'ClusterIP 172.30.0.43:80']]);
  });

  it('a no-endpoint element left for a Service port that has endpoints', async () => {
    const text = `${overallNft}\nadd element ip kube-proxy no-endpoint-services { 172.30.0.41 . tcp . 80 comment "ns1/svc1:p80" : goto reject-chain }\n`;
    expect(named(await apiOf('overall'), nft(text))).toEqual([['reject-with-endpoints', 'ns1/svc1:p80', '172.30.0.41:80']]);
  });
});

describe('rules diff: IPVS', () => {
  // kube-proxy's IPVS mode for the same API objects, as `ipvsadm -Ln` prints it (written by hand:
  // IPVS is not in this test kernel). NodePorts are served on the node IP 192.168.0.2.
  const ipvsInSync = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  172.30.0.41:80 rr
  -> 10.180.0.1:80                Masq    1      0          0
TCP  172.30.0.42:80 rr
  -> 10.180.0.2:80                Masq    1      0          0
TCP  192.168.99.22:80 rr
TCP  1.2.3.4:80 rr
TCP  192.168.0.2:3001 rr
TCP  172.30.0.43:80 rr
  -> 10.180.0.3:80                Masq    1      0          0
TCP  192.168.0.2:3003 rr
  -> 10.180.0.3:80                Masq    1      0          0
TCP  172.30.0.44:80 rr
  -> 10.180.0.4:80                Masq    1      0          0
  -> 10.180.0.5:80                Masq    1      0          0
TCP  192.168.99.33:80 rr
  -> 10.180.0.4:80                Masq    1      0          0
  -> 10.180.0.5:80                Masq    1      0          0
TCP  172.30.0.45:80 rr persistent 10800
  -> 10.180.0.3:80                Masq    1      0          0
TCP  5.6.7.8:80 rr persistent 10800
  -> 10.180.0.3:80                Masq    1      0          0
TCP  192.168.0.2:3002 rr persistent 10800
  -> 10.180.0.3:80                Masq    1      0          0
TCP  172.30.0.46:80 rr
`;
  const ipvs = (text: string): KubeProxyState => ({ mode: 'ipvs', ipvs: parseIpvsadm(text, { mode: 'strict' }) });

  it('in sync: nothing', async () => {
    expect(named(await apiOf('overall'), ipvs(ipvsInSync))).toEqual([]);
  });

  it('a real server of a not-ready endpoint, a missing one, a virtual server of a deleted Service, and uneven weights', async () => {
    const api = withEndpoint(await apiOf('overall'), '10.180.0.4', { ready: false });
    const text = ipvsInSync
      .replace('TCP  172.30.0.41:80 rr\n  -> 10.180.0.1:80                Masq    1      0          0\n', 'TCP  172.30.0.41:80 rr\n')
      .replace('TCP  172.30.0.46:80 rr\n', 'TCP  172.30.0.46:80 rr\nTCP  172.30.0.47:80 rr\n  -> 10.180.0.7:80                Masq    1      0          0\n')
      .replace('TCP  172.30.0.43:80 rr\n  -> 10.180.0.3:80                Masq    1      0          0\n', 'TCP  172.30.0.43:80 rr\n  -> 10.180.0.3:80                Masq    3      0          0\n  -> 10.180.0.8:80                Masq    1      0          0\n');
    expect(named(api, ipvs(text))).toEqual([
      ['stale-service-rules', '?', ''],
      ['endpoint-not-programmed', 'ns1/svc1:p80', '10.180.0.1:80'],
      ['stale-endpoint-rules', 'ns3/svc3:p80', '10.180.0.8:80'],
      ['uneven-probabilities', 'ns3/svc3:p80', ''],
      ['stale-endpoint-rules', 'ns4/svc4:p80', '10.180.0.4:80'],
    ]);
  });
});

describe('rules diff: findings per endpoint fold past a bound for each Service port', () => {
  it('5,000 ready endpoints missing from the rules of one Service port are one finding with the count', async () => {
    const n = 5000;
    const api = await apiOf('overall');
    const slice = api.endpointSlices.find((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'svc4')!;
    const extra = { ...slice, metadata: { ...slice.metadata, name: 'svc4-extra' }, endpoints: Array.from({ length: n }, (_, i) => ({ addresses: [`10.181.${i >> 8}.${i & 255}`], conditions: { ready: true } })) };
    const r = diffRules({ cluster: { ...api, endpointSlices: [...api.endpointSlices, extra] }, node: 'test-node', state: iptables(overallIptables) });
    expect(r.findings.map((f) => [f.code, f.servicePort, f.count ?? null])).toEqual([['endpoint-not-programmed', 'ns4/svc4:p80', n]]);
    expect((r.findings[0]!.examples as { endpoint: string }[]).map((e) => e.endpoint)).toEqual(['10.181.0.0:80', '10.181.0.1:80', '10.181.0.2:80', '10.181.0.3:80', '10.181.0.4:80']);
    // The summary counts every endpoint; `hasErrors`, and so the exit code, is unchanged.
    expect(r.summary).toMatchObject({ errors: n, drifted: 1, isInSync: false });
    expect(hasErrors(r.findings)).toBe(true);
  });
});

/** The overall fixture's ns5/svc5 (ClientIP affinity 10800s, loadBalancerSourceRanges 203.0.113.0/25) with its spec changed. */
async function withSvc5(change: (spec: Record<string, unknown>) => void): Promise<Cluster> {
  const api = await apiOf('overall');
  const services = api.services.map((s) => {
    if (s.metadata.name !== 'svc5') return s;
    const spec = structuredClone(s.spec ?? {}) as Record<string, unknown>;
    change(spec);
    return { ...s, spec };
  });
  return { ...api, services };
}

describe('rules diff: session affinity and load-balancer source ranges', () => {
  const ipvsSvc5 = (persistent: string): KubeProxyState => ({
    mode: 'ipvs',
    ipvs: parseIpvsadm(
      ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn']
        .concat(['172.30.0.45:80', '5.6.7.8:80', '192.168.0.2:3002'].flatMap((vs) => [`TCP  ${vs} rr${persistent}`, '  -> 10.180.0.3:80                Masq    1      0          0']))
        .join('\n') + '\n',
      { mode: 'strict' },
    ),
  });

  it.each([
    ['iptables: the recent --rcheck rule missing', () => iptables(withoutLine(overallIptables, /KUBE-SVC-NUKIZ6OKUXPJNT4C .*--rcheck/))],
    ['nftables: the affinity set check missing', () => nft(withoutLine(overallNft, /service-HVFWP5L3-ns5\/svc5\/tcp\/p80 ip saddr @affinity-/))],
    ['IPVS: the virtual server not persistent', () => ipvsSvc5('')],
  ])('%s: affinity-not-programmed (error)', async (_name, state) => {
    const api = await apiOf('overall');
    const r = diffRules({ cluster: ipvsOnly(api, state()), node: 'test-node', state: state() });
    expect(r.findings.map((f) => [f.code, f.severity, f.servicePort])).toEqual([['affinity-not-programmed', 'error', 'ns5/svc5:p80']]);
    expect(r.findings[0]!.message).toContain('sessionAffinity ClientIP (10800s)');
  });

  it.each([
    ['iptables', () => iptables(overallIptables)],
    ['nftables', () => nft(overallNft)],
    ['IPVS', () => ipvsSvc5(' persistent 10800')],
  ])('%s: affinity left after the Service dropped it is stale; another timeout too', async (_name, state) => {
    const none = await withSvc5((spec) => {
      delete spec.sessionAffinity;
      delete spec.sessionAffinityConfig;
    });
    expect(named(ipvsOnly(none, state()), state())).toEqual([['stale-affinity-rules', 'ns5/svc5:p80', '']]);
    const shorter = await withSvc5((spec) => {
      spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 600 } };
    });
    const r = diffRules({ cluster: ipvsOnly(shorter, state()), node: 'test-node', state: state() });
    expect(r.findings.map((f) => [f.code, f.severity, f.expectedSeconds, f.programmedSeconds])).toEqual([['stale-affinity-rules', 'warning', 600, 10800]]);
  });

  it.each([
    ['iptables: the KUBE-FW rule of the range missing', () => iptables(withoutLine(overallIptables, /^-A KUBE-FW-NUKIZ6OKUXPJNT4C .* -s 203\.0\.113\.0\/25/))],
    ['nftables: the firewall chain admitting no range', () => nft(overallNft.replace('ip saddr != { 203.0.113.0/25 } drop', 'drop'))],
  ])('%s: source-ranges-not-programmed', async (_name, state) => {
    expect(named(await apiOf('overall'), state())).toEqual([['source-ranges-not-programmed', 'ns5/svc5:p80', '']]);
  });

  it.each([
    ['iptables: no KUBE-FW jump for the load-balancer IP', () => iptables(overallIptables.replace('-d 5.6.7.8 --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C', '-d 5.6.7.8 --dport 80 -j KUBE-EXT-NUKIZ6OKUXPJNT4C'))],
    ['nftables: no firewall-ips element', () => nft(withoutLine(overallNft, /^add element ip kube-proxy firewall-ips /))],
  ])('%s: no firewall at all, every source admitted', async (_name, state) => {
    const r = diffRules({ cluster: await apiOf('overall'), node: 'test-node', state: state() });
    expect(r.findings.map((f) => [f.code, f.severity, f.servicePort, f.sourceRanges])).toEqual([['source-ranges-not-programmed', 'error', 'ns5/svc5:p80', ['203.0.113.0/25']]]);
    expect(r.findings[0]!.message).toContain('every source reaches it');
  });

  it.each([
    ['iptables', () => iptables(overallIptables)],
    ['nftables', () => nft(overallNft)],
  ])('%s: ranges changed in the API, or removed: the old range is stale, the new one not programmed', async (_name, state) => {
    const changed = await withSvc5((spec) => {
      spec.loadBalancerSourceRanges = ['198.51.100.7/24'];
    });
    const r = diffRules({ cluster: changed, node: 'test-node', state: state() });
    expect(r.findings.map((f) => [f.code, f.severity, f.sourceRanges])).toEqual([
      ['source-ranges-not-programmed', 'error', ['198.51.100.0/24']],
      ['stale-source-ranges', 'error', ['203.0.113.0/25']],
    ]);
    const removed = await withSvc5((spec) => {
      delete spec.loadBalancerSourceRanges;
    });
    expect(named(removed, state())).toEqual([['stale-source-ranges', 'ns5/svc5:p80', '']]);
  });
});

/** For the IPVS state of svc5 alone, the API of svc5 alone (the other Services have no virtual servers there). */
function ipvsOnly(api: Cluster, state: KubeProxyState): Cluster {
  if (state.mode !== 'ipvs') return api;
  return { ...api, services: api.services.filter((s) => s.metadata.name === 'svc5'), endpointSlices: api.endpointSlices.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'svc5') };
}

describe('rules diff: Service ports in the default locale order of namespace, name, port, protocol', () => {
  // The report is sorted by comparing code units when every name is a Kubernetes name, which is
  // localeCompare's order only if the collation orders those characters as their code units.
  const alphabet = '-.0123456789abcdefghijklmnopqrstuvwxyz';
  const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
  const byCodeUnits = (a: string, b: string): number => (a === b ? 0 : a < b ? -1 : 1);

  it.each(['en', 'en-US', 'und'])('%s orders Kubernetes names as their code units do', (locale) => {
    const compare = new Intl.Collator(locale).compare;
    // Every pair of characters, each with itself as a prefix, then random names with shared prefixes.
    const words: string[] = [''];
    for (const a of alphabet) for (const b of alphabet) words.push(a, a + b);
    let seed = 1;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    for (let i = 0; i < 4000; i++) {
      const stem = ['svc', 'ns-1', 'a.b', ''][random(4)]!;
      let w = stem;
      for (let n = random(8); n > 0; n--) w += alphabet[random(alphabet.length)];
      words.push(w);
    }
    const wrong = [];
    for (let i = 0; i < words.length; i++) {
      const a = words[i]!;
      const b = words[(i * 7919 + 13) % words.length]!;
      const c = words[i + 1] ?? '';
      if (sign(compare(a, b)) !== byCodeUnits(a, b)) wrong.push([a, b]);
      if (sign(compare(a, c)) !== byCodeUnits(a, c)) wrong.push([a, c]);
    }
    expect(wrong).toEqual([]);
  });

  it('names outside that alphabet are ordered by localeCompare', async () => {
    const api = await apiOf('overall');
    const names = ['b-svc', 'Zeta', 'a.svc', 'alpha', 'Alpha', 'a-svc', 'a0', 'é'];
    const services = [...api.services, ...names.map((name) => ({ kind: 'Service' as const, metadata: { namespace: 'ns9', name }, spec: { clusterIP: '172.30.9.9', ports: [{ port: 80 }] } }))];
    const r = diffRules({ cluster: { ...api, services }, node: 'test-node', state: iptables(overallIptables) });
    const listed = r.services.filter((s) => s.namespace === 'ns9').map((s) => s.name);
    expect(listed).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    // Code units would put the capitals first: the order above is not theirs.
    expect(listed).not.toEqual([...names].sort(byCodeUnits));
  });

  it('Kubernetes names, across namespaces, ports and protocols', async () => {
    const api = await apiOf('overall');
    const extra = ['db', 'db-0', 'db.0', 'db0', 'd', 'web'].flatMap((name, i) => [
      { kind: 'Service' as const, metadata: { namespace: i % 2 ? 'ns-a' : 'ns.a', name }, spec: { clusterIP: `172.30.9.${i + 1}`, ports: [{ port: 443 }, { port: 80, protocol: 'UDP' as const }, { port: 80 }] } },
    ]);
    const r = diffRules({ cluster: { ...api, services: [...api.services, ...extra] }, node: 'test-node', state: iptables(overallIptables) });
    const keys = r.services.map((s) => [s.namespace, s.name, s.port ?? 0, s.protocol] as const);
    const expected = [...keys].sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]) || a[2] - b[2] || a[3].localeCompare(b[3]));
    expect(keys).toEqual(expected);
    expect(keys.filter((k) => k[0] === 'ns-a').map((k) => `${k[1]}:${k[2]}/${k[3]}`)).toEqual(['db-0:80/tcp', 'db-0:80/udp', 'db-0:443/tcp', 'db0:80/tcp', 'db0:80/udp', 'db0:443/tcp', 'web:80/tcp', 'web:80/udp', 'web:443/tcp']);
  });
});

describe('rules diff: Service ports whose endpoints are read when asked for', () => {
  it('give what expectServicePorts gives, through their fields and withEndpoints', async () => {
    const api = withEndpoint(await apiOf('overall'), '10.180.0.5', { ready: false, serving: true, terminating: true });
    const slices = indexSlicesByService(api);
    const eager = expectServicePorts(api, 'test-node', 4, slices);
    const lazy = expectServicePortsLazily(api, 'test-node', 4, slices);
    expect(eager.length).toBeGreaterThan(5);
    expect(lazy.map((p) => p.withEndpoints())).toEqual(eager);
    const fields = ['endpoints', 'clusterEndpoints', 'localEndpoints', 'hasEndpoints', 'hasInternalEndpoints', 'hasExternalEndpoints', 'key', 'clusterIPs', 'nodePort'] as const;
    expect(lazy.map((p) => fields.map((f) => p[f]))).toEqual(eager.map((p) => fields.map((f) => p[f])));
    // Read through a field, the endpoints are kept: the same lists each time, and withEndpoints gives them too.
    expect(lazy[0]!.endpoints).toBe(lazy[0]!.endpoints);
    expect(lazy[0]!.withEndpoints().endpoints).toBe(lazy[0]!.endpoints);
    // Not read through a field, they are read anew for each withEndpoints and kept by nothing.
    const fresh = expectServicePortsLazily(api, 'test-node', 4, slices)[1]!;
    expect(fresh.withEndpoints().endpoints).not.toBe(fresh.withEndpoints().endpoints);
    expect(fresh.withEndpoints()).toEqual(eager[1]);
  });
});

describe('rules diff: an endpoint listed by two slices counts once, the first one read', () => {
  const slice = (name: string, addressType: 'IPv4' | 'IPv6', port: number, endpoints: [string, boolean][]) => ({
    kind: 'EndpointSlice' as const,
    metadata: { namespace: 'ns', name, labels: { 'kubernetes.io/service-name': 'svc' } },
    addressType,
    ports: [{ port }],
    endpoints: endpoints.map(([ip, ready]) => ({ addresses: [ip], conditions: { ready } })),
  });
  const cluster = (clusterIP: string, slices: ReturnType<typeof slice>[]): Cluster => ({
    ...emptyCluster(),
    services: [{ kind: 'Service', metadata: { namespace: 'ns', name: 'svc' }, spec: { clusterIP, clusterIPs: [clusterIP], ports: [{ port: 80 }] } }],
    endpointSlices: slices,
  });
  const seen = (c: Cluster, family: 4 | 6): string[] => expectServicePorts(c, 'n', family)[0]!.endpoints.map((e) => `${e.slice} ${e.address} ${e.isReady ? 'ready' : 'not-ready'}`);

  it('by its address: the same IP on another target port is another endpoint', () => {
    const c = cluster('172.30.0.1', [slice('a', 'IPv4', 8080, [['10.0.0.1', true], ['10.0.0.2', true]]), slice('b', 'IPv4', 8080, [['10.0.0.1', false], ['10.0.0.3', true]]), slice('c', 'IPv4', 9090, [['10.0.0.1', true]])]);
    expect(seen(c, 4)).toEqual(['a 10.0.0.1:8080 ready', 'a 10.0.0.2:8080 ready', 'b 10.0.0.3:8080 ready', 'c 10.0.0.1:9090 ready']);
  });

  it('in canonical form: two spellings of one IPv6 address are one endpoint', () => {
    const c = cluster('fd00::1', [slice('a', 'IPv6', 80, [['FD00:0:0::5', true]]), slice('b', 'IPv6', 80, [['fd00::5', false], ['fd00::6', true]])]);
    expect(seen(c, 6)).toEqual(['a [fd00::5]:80 ready', 'b [fd00::6]:80 ready']);
  });

  it('past 16 endpoints as below', () => {
    const ips = Array.from({ length: 20 }, (_, i) => `10.0.1.${i + 1}`);
    const c = cluster('172.30.0.1', [slice('a', 'IPv4', 80, ips.map((ip) => [ip, true])), slice('b', 'IPv4', 80, [['10.0.1.3', false], ['10.0.1.19', false], ['10.0.1.21', true], ['10.0.1.21', false]])]);
    expect(seen(c, 4)).toEqual([...ips.map((ip) => `a ${ip}:80 ready`), 'b 10.0.1.21:80 ready']);
  });
});
