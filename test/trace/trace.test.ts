// Every fault kind the engines find, traced to the first hop that stops the packet. The clusters are
// built with the test builders; node state is kube-proxy's iptables rules generated for them (the same
// generator the kernel tests load into a real netfilter), parsed as a snapshot's file would be.
import { describe, expect, it } from 'vitest';
import { generateKubeProxyIptables, type GeneratedService } from '../../bench/generate-iptables.mjs';
import type { Cluster } from '../../src/model/cluster.js';
import { parseConntrackLine } from '../../src/netfilter/conntrack/parse.js';
import type { Service } from '../../src/model/k8s.js';
import { parseTraceNodeState, type NodeStateTexts, type TraceNodeState } from '../../src/trace/node-state.js';
import { traceConnection, type NameResolution, type TraceDestination } from '../../src/trace/trace.js';
import { applyProbe, parseProbeOutput, probeTargets, type ProbeAttempt, type ProbeRun, type ProbeTarget } from '../../src/trace/probe.js';
import type { Hop, TraceReport } from '../../src/trace/types.js';
import { createStyle } from '../../src/render/style.js';
import { renderTraceText } from '../../src/render/trace.js';
import { aCluster, aNetworkPolicy, aNode, aPod, aService, aSlice } from '../support/builders.js';

const web = { app: 'web' };
const port8080 = [{ name: 'http', containerPort: 8080 }];

function service(o: Partial<NonNullable<Service['spec']>> = {}): Service {
  const svc = aService('web', { selector: web, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] });
  svc.spec = { ...svc.spec, ...o };
  return svc;
}

function cluster(parts: Partial<Cluster> = {}): Cluster {
  return aCluster({
    nodes: [aNode('n1', { ip: '172.18.0.3', podCIDR: '10.244.1.0/24' }), aNode('n2', { ip: '172.18.0.4', podCIDR: '10.244.2.0/24' })],
    pods: [
      aPod('client', { labels: { app: 'client' }, ip: '10.244.1.10', node: 'n1' }),
      aPod('w1', { labels: web, ip: '10.244.1.5', node: 'n1', ports: port8080 }),
      aPod('w2', { labels: web, ip: '10.244.2.6', node: 'n2', ports: port8080 }),
    ],
    services: [service()],
    endpointSlices: [aSlice('web', [{ ip: '10.244.1.5', pod: 'w1' }, { ip: '10.244.2.6', pod: 'w2' }])],
    ...parts,
  });
}

/** kube-proxy's rules for the web Service on n1, with the endpoints given (what kube-proxy last synced). */
function rulesFor(endpoints: { ip: string; isLocal?: boolean }[], extra: Partial<GeneratedService> = {}): string {
  return generateKubeProxyIptables({
    services: [{ namespace: 'default', name: 'web', clusterIP: '10.96.0.100', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }], endpoints, ...extra }],
    podCIDR: '10.244.0.0/16',
  });
}

function nodeState(c: Cluster, texts: Omit<Partial<NodeStateTexts>, 'iptables'> & { iptables?: string } = {}): TraceNodeState {
  const node = texts.node ?? 'n1';
  const { iptables, ...rest } = texts;
  return parseTraceNodeState(c, { ...rest, node, hint: (kind) => `capture ${kind} on ${node}`, iptables: iptables === undefined ? null : { text: iptables, source: 'test' } });
}

const client = (c: Cluster) => ({ kind: 'pod' as const, pod: c.pods.find((p) => p.metadata.name === 'client')! });
const toWeb = (c: Cluster): TraceDestination => ({ kind: 'service', service: c.services[0]! });
const stages = (r: TraceReport): string[] => r.hops.map((h) => `${h.stage}:${h.status}`);
const firstFail = (hops: Hop[]): Hop | undefined => hops.find((h) => h.status === 'fail');

describe('traceConnection', () => {
  it('delivers to every ready endpoint, with kube-proxy\'s probabilities from the node\'s rules', () => {
    const c = cluster();
    const state = nodeState(c, { iptables: rulesFor([{ ip: '10.244.1.5', isLocal: true }, { ip: '10.244.2.6' }]), ipRoute: '10.244.2.0/24 via 172.18.0.4 dev eth0\n10.244.1.5 dev veth1 scope host\ndefault via 172.18.0.1 dev eth0\n', conntrack: [] });
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80, nodeState: state });
    expect(r.verdict).toBe('delivered');
    expect(stages(r)).toEqual(['resolve:ok', 'service:ok', 'endpoints:ok', 'policy-egress:ok', 'node-rules:ok', 'route:ok', 'policy-ingress:ok', 'conntrack:ok']);
    expect(r.branches.map((b) => [b.endpoint, b.pod, b.probability, b.verdict])).toEqual([
      ['10.244.1.5:8080', 'default/w1', 0.5, 'delivered'],
      ['10.244.2.6:8080', 'default/w2', 0.5, 'delivered'],
    ]);
    expect(r.reachable).toEqual({ endpoints: 2, of: 2, probability: 1 });
    expect(r.branches[1]!.hops.find((h) => h.stage === 'route')!.evidence).toContain('n1: 10.244.2.0/24 via 172.18.0.4 dev eth0');
    expect(r.firstFailure).toBeNull();
    expect(r.notJudged).toEqual([]);
  });

  it('skips the hops whose node state is missing and says what would fill them', () => {
    const c = cluster();
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80 });
    expect(r.verdict).toBe('delivered');
    const rules = r.hops.find((h) => h.stage === 'node-rules')!;
    expect(rules.status).toBe('skip');
    expect(r.hops.find((h) => h.stage === 'conntrack')!.status).toBe('skip');
    expect(r.notJudged).toEqual(['node-rules', 'conntrack']);
    // Without the rules, kube-proxy's even split.
    expect(r.branches.map((b) => b.probability)).toEqual([0.5, 0.5]);
    const withState = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80, nodeState: nodeState(c, {}) });
    expect(withState.hops.find((h) => h.stage === 'node-rules')!.remedy).toBe('capture iptables-save on n1');
  });

  it('no endpoints: stops at endpoints, and the node\'s rules REJECT as kube-proxy does', () => {
    const c = cluster({ endpointSlices: [aSlice('web', [])] });
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80, nodeState: nodeState(c, { iptables: rulesFor([]) }) });
    expect(r.verdict).toBe('rejected');
    expect(r.firstFailure?.stage).toBe('endpoints');
    expect(stages(r)).toEqual(['resolve:ok', 'service:ok', 'endpoints:fail', 'node-rules:fail']);
    expect(r.hops.find((h) => h.stage === 'node-rules')!.summary).toMatch(/REJECT/);
    expect(r.findings[0]).toMatchObject({ code: 'trace-rejected', severity: 'error', stage: 'endpoints' });
  });

  it('a headless Service: a port it does not list still reaches its endpoints, said as a warning', () => {
    const c = cluster({ services: [service({ clusterIP: 'None', clusterIPs: ['None'] })] });
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 9999 });
    expect(r.verdict).toBe('delivered');
    const svc = r.hops.find((h) => h.stage === 'service')!;
    expect(svc.status).toBe('warn');
    expect(svc.summary).toMatch(/headless \(no ClusterIP\) and lists no port 9999\/TCP \(its ports: 80\/TCP \(http\)\): a client that resolves the name connects to the endpoints' own addresses on 9999/);
    expect(r.branches.map((b) => b.endpoint)).toEqual(['10.244.1.5:9999', '10.244.2.6:9999']);
    // A ClusterIP Service is another matter: kube-proxy has no rule for a port it does not list.
    const plain = traceConnection({ cluster: cluster(), source: client(c), destination: toWeb(cluster()), port: 9999 });
    expect(plain.verdict).toBe('dropped');
    expect(plain.firstFailure?.stage).toBe('service');
  });

  it('a headless Service without ready endpoints: its name resolves to nothing, no kube-proxy REJECT', () => {
    const c = cluster({ services: [service({ clusterIP: 'None', clusterIPs: ['None'] })], endpointSlices: [aSlice('web', [])] });
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80 });
    expect(r.verdict).toBe('dropped');
    expect(stages(r)).toEqual(['resolve:ok', 'service:ok', 'endpoints:fail']);
    expect(r.firstFailure?.summary).toMatch(/is headless and has no ready endpoint for port 80\/TCP: its name resolves to no address/);
    expect(r.firstFailure?.summary).not.toMatch(/kube-proxy/);
  });

  it('no endpoints, and rules behind the API: the verdict is what the node\'s rules do, not the REJECT kube-proxy would write', () => {
    const c = cluster({ endpointSlices: [aSlice('web', [])] });
    // The node's rules know another Service only: the packet to web's ClusterIP leaves untranslated.
    const other = generateKubeProxyIptables({ services: [{ namespace: 'default', name: 'other', clusterIP: '10.96.0.200', ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: [{ ip: '10.244.2.6' }] }], podCIDR: '10.244.0.0/16' });
    const lost = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80, nodeState: nodeState(c, { iptables: other }) });
    expect(lost.verdict).toBe('dropped');
    expect(stages(lost)).toEqual(['resolve:ok', 'service:ok', 'endpoints:fail', 'node-rules:fail']);
    expect(lost.firstFailure?.summary).toMatch(/has no ready endpoint for port 80\/TCP: kube-proxy would reject the connection, but its rules on n1 do not \(see node-rules\)$/);
    // Rules still sending web to an endpoint gone since: where the packet ends, knet cannot tell.
    const stale = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80, nodeState: nodeState(c, { iptables: rulesFor([{ ip: '10.244.2.6' }]) }) });
    expect(stale.verdict).toBe('unknown');
    expect(stale.hops.find((h) => h.stage === 'node-rules')?.summary).toMatch(/10\.244\.2\.6:8080/);
  });

  it('a dual-stack Service: each ClusterIP goes to the endpoints of its own family; a single-stack source cannot reach the other', () => {
    const dual = service({ clusterIP: '10.96.0.100', clusterIPs: ['10.96.0.100', 'fd00:96::100'], ipFamilies: ['IPv4', 'IPv6'] });
    const slices = [
      aSlice('web', [{ ip: '10.244.1.5', pod: 'w1' }, { ip: '10.244.2.6', pod: 'w2' }]),
      aSlice('web', [{ ip: 'fd00:244:1::5', pod: 'w1' }], { name: 'web-v6', addressType: 'IPv6' }),
    ];
    const c = cluster({ services: [dual], endpointSlices: slices });
    const v4 = traceConnection({ cluster: c, source: client(c), destination: { kind: 'ip', ip: '10.96.0.100' }, port: 80 });
    expect(v4.branches.map((b) => b.endpoint)).toEqual(['10.244.1.5:8080', '10.244.2.6:8080']);
    // The client has an IPv4 address only: the IPv6 ClusterIP is unreachable from it, whatever the Service.
    const v6 = traceConnection({ cluster: c, source: client(c), destination: { kind: 'ip', ip: 'fd00:96::100' }, port: 80 });
    expect(v6.verdict).toBe('rejected');
    expect(v6.firstFailure).toMatchObject({ stage: 'resolve', summary: 'default/client has no IPv6 address (only 10.244.1.10): a connection to fd00:96::100 fails at once, the network being unreachable from it' });
    expect(v6.firstFailure?.remedy).toMatch(/^Connect to an IPv4 address of svc\/default\/web/);
    // Its header writes the address with its port as [ADDRESS]:PORT.
    expect(renderTraceText(v6, createStyle(false), false).split('\n')[0]).toBe('default/client → [fd00:96::100]:80/TCP');
    // A dual-stack client reaches the IPv6 endpoints.
    const both = cluster({ services: [dual], endpointSlices: slices });
    const pod = both.pods.find((p) => p.metadata.name === 'client')!;
    pod.status = { ...pod.status, podIPs: [{ ip: '10.244.1.10' }, { ip: 'fd00:244:1::10' }] };
    const six = traceConnection({ cluster: both, source: client(both), destination: { kind: 'ip', ip: 'fd00:96::100' }, port: 80 });
    expect(six.branches.map((b) => b.endpoint)).toEqual(['[fd00:244:1::5]:8080']);
  });

  it('a selector that matches nothing: stops at endpoints with the endpoints engine\'s finding and remedy', () => {
    const c = cluster({ services: [service({ selector: { app: 'wbe' } })], endpointSlices: [aSlice('web', [])] });
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80 });
    expect(r.verdict).toBe('rejected');
    expect(r.firstFailure?.stage).toBe('endpoints');
    const hop = r.hops.find((h) => h.stage === 'endpoints')!;
    expect(hop.evidence.some((e) => e.includes('selector-matches-nothing'))).toBe(true);
    expect(r.findings.map((f) => f.code)).toContain('selector-matches-nothing');
    expect(r.firstFailure?.remedy).toBeTruthy();
  });

  it('a policy that denies the source\'s egress: stops at policy-egress, dropped', () => {
    const deny = aNetworkPolicy('client-egress-dns-only', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] });
    const c = cluster({ networkPolicies: [deny] });
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80 });
    expect(r.verdict).toBe('dropped');
    expect(r.firstFailure?.stage).toBe('policy-egress');
    expect(r.hops.find((h) => h.stage === 'policy-egress')!.status).toBe('fail');
    expect(r.reachable).toEqual({ endpoints: 0, of: 2, probability: 0 });
    expect(r.firstFailure?.summary).toMatch(/client-egress-dns-only|denied|not allowed/);
  });

  it('a policy that denies ingress on one endpoint: 1 of 2 reachable, stops at policy-ingress of that endpoint', () => {
    const deny = aNetworkPolicy('w2-closed', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }] }] });
    const c = cluster({ networkPolicies: [deny] });
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80 });
    expect(r.verdict).toBe('dropped');
    expect(r.firstFailure?.stage).toBe('policy-ingress');
    expect(r.hops.find((h) => h.stage === 'policy-ingress')!.status).toBe('fail');
    // The policy is evaluated at the pods' target port (8080), not the Service port.
    expect(r.branches[0]!.hops.find((h) => h.stage === 'policy-ingress')!.summary).toMatch(/8080/);
    expect(r.firstFailure?.remedy).toMatch(/app=frontend|app=client|nearest/i);
  });

  it('a stale rule set that still sends to a removed endpoint: that branch stops at node-rules', () => {
    const c = cluster();
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80, nodeState: nodeState(c, { iptables: rulesFor([{ ip: '10.244.1.5', isLocal: true }, { ip: '10.244.2.6' }, { ip: '10.244.2.99' }]) }) });
    expect(r.verdict).toBe('dropped');
    expect(r.firstFailure?.stage).toBe('node-rules');
    expect(r.firstFailure?.endpoint).toBe('10.244.2.99:8080');
    const stale = r.branches.find((b) => b.endpoint === '10.244.2.99:8080')!;
    expect(stale.probability).toBeCloseTo(1 / 3);
    expect(stale.hops[0]!.summary).toMatch(/stale/);
    expect(r.reachable.endpoints).toBe(2);
    expect(r.reachable.of).toBe(3);
    expect(r.reachable.probability).toBeCloseTo(2 / 3);
  });

  it('a stale rule set that still rejects a Service that now has endpoints: stops at node-rules', () => {
    const c = cluster();
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80, nodeState: nodeState(c, { iptables: rulesFor([]) }) });
    expect(r.verdict).toBe('rejected');
    expect(r.firstFailure?.stage).toBe('node-rules');
    expect(firstFail(r.branches[0]!.hops)?.summary).toMatch(/reject/);
  });

  it('externalTrafficPolicy: Local on a node without endpoints: stops at endpoints, and the node\'s rules DROP', () => {
    const svc = service({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }] });
    const c = cluster({ services: [svc], endpointSlices: [aSlice('web', [{ ip: '10.244.2.6', pod: 'w2' }])] });
    const state = nodeState(c, { iptables: rulesFor([{ ip: '10.244.2.6', isLocal: false }], { externalTrafficPolicy: 'Local' }) });
    const r = traceConnection({ cluster: c, source: { kind: 'ip', ip: '203.0.113.9' }, destination: { kind: 'node', node: c.nodes[0]! }, port: 30080, nodeState: state });
    expect(r.verdict).toBe('dropped');
    expect(r.firstFailure?.stage).toBe('endpoints');
    expect(r.firstFailure?.summary).toMatch(/externalTrafficPolicy: Local/);
    expect(r.firstFailure?.remedy).toMatch(/n2/);
    const rules = r.hops.find((h) => h.stage === 'node-rules')!;
    expect(rules).toMatchObject({ status: 'fail', fate: 'dropped' });
    // The same NodePort on the node that runs the endpoint is delivered.
    const ok = traceConnection({ cluster: c, source: { kind: 'ip', ip: '203.0.113.9' }, destination: { kind: 'node', node: c.nodes[1]! }, port: 30080 });
    expect(ok.verdict).toBe('delivered');
  });

  it('externalTrafficPolicy: Local does not hold back a pod\'s traffic: kube-proxy sends it to every endpoint, as its rules show', () => {
    const svc = service({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }] });
    const c = cluster({ services: [svc], endpointSlices: [aSlice('web', [{ ip: '10.244.2.6', pod: 'w2' }])] });
    const state = nodeState(c, { iptables: rulesFor([{ ip: '10.244.2.6', isLocal: false }], { externalTrafficPolicy: 'Local' }), conntrack: [] });
    // The client pod on n1, to n1's own NodePort: n1 has no endpoint, and the connection still goes through.
    const r = traceConnection({ cluster: c, source: client(c), destination: { kind: 'node', node: c.nodes[0]! }, port: 30080, nodeState: state });
    expect(r.verdict).toBe('delivered');
    expect(r.hops.find((h) => h.stage === 'endpoints')!.summary).toBe('1 ready endpoint for port 80/TCP; externalTrafficPolicy: Local does not apply to traffic from a pod: kube-proxy sends it to every endpoint');
    expect(r.hops.find((h) => h.stage === 'node-rules')).toMatchObject({ status: 'ok', summary: 'iptables on n1: DNAT to 10.244.2.6:8080 (100%)' });
    // And from the node itself.
    expect(traceConnection({ cluster: c, source: { kind: 'node', node: c.nodes[0]! }, destination: { kind: 'node', node: c.nodes[0]! }, port: 30080, nodeState: state }).verdict).toBe('delivered');
  });

  it('a name that does not resolve: stops at resolve', () => {
    const c = cluster();
    const nx: NameResolution = { name: 'wbe', fqdn: null, rcode: 'NXDOMAIN', addresses: [], isFromServer: false, servers: [], apiImplies: '', disagreements: [], evidence: ['wbe.default.svc.cluster.local: no Service wbe in default'], findings: [{ code: 'dns-nxdomain', severity: 'error', message: 'wbe does not exist', hint: 'Did you mean web?' }] };
    const r = traceConnection({ cluster: c, source: client(c), destination: { kind: 'dns', name: 'wbe', resolution: nx }, port: 80 });
    expect(r.verdict).toBe('rejected');
    expect(stages(r)).toEqual(['resolve:fail']);
    expect(r.firstFailure).toMatchObject({ stage: 'resolve', remedy: 'Did you mean web?' });
    const yes: NameResolution = { name: 'web', fqdn: 'web.default.svc.cluster.local', rcode: 'NOERROR', addresses: ['10.96.0.100'], isFromServer: false, servers: [], apiImplies: '', disagreements: [], evidence: [], findings: [] };
    const ok = traceConnection({ cluster: c, source: client(c), destination: { kind: 'dns', name: 'web', resolution: yes }, port: 80 });
    expect(ok.verdict).toBe('delivered');
    expect(ok.hops.find((h) => h.stage === 'service')?.summary).toMatch(/svc\/default\/web/);
  });

  it('a stale UDP conntrack entry from the source: stops at conntrack', () => {
    const svc = service({ ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }] });
    const c = cluster({ services: [svc], endpointSlices: [aSlice('web', [{ ip: '10.244.2.6', pod: 'w2' }], { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] })] });
    const line = 'udp      17 29 src=10.244.1.10 dst=10.96.0.100 sport=40000 dport=53 src=10.244.2.77 dst=10.244.1.10 sport=53 dport=40000 mark=0 use=1';
    const parsed = parseConntrackLine(line, 1);
    if (!parsed || !('entry' in parsed)) throw new Error('fixture line does not parse');
    const state = nodeState(c, { conntrack: [parsed.entry] });
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 53, protocol: 'UDP', nodeState: state });
    expect(r.verdict).toBe('dropped');
    expect(r.firstFailure?.stage).toBe('conntrack');
    expect(r.firstFailure?.remedy).toMatch(/conntrack -D -p udp/);
  });

  it('a port the Service does not have: stops at service', () => {
    const c = cluster();
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 8080 });
    expect(r.firstFailure?.stage).toBe('service');
    expect(r.verdict).toBe('dropped');
  });
});

describe('loopback and a pod\'s own address', () => {
  const denyAllIngress = (c: Cluster): Cluster => ({ ...c, networkPolicies: [aNetworkPolicy('deny-web', { podSelector: { matchLabels: web }, policyTypes: ['Ingress'] })] });
  const state = (c: Cluster): TraceNodeState => nodeState(c, { iptables: rulesFor([{ ip: '10.244.1.5', isLocal: true }, { ip: '10.244.2.6' }]), conntrack: [] });

  it('a pod to 127.0.0.1 stays inside the pod: delivered, with no policy, node rule or conntrack of the node', () => {
    const c = cluster();
    const r = traceConnection({ cluster: c, source: client(c), destination: { kind: 'ip', ip: '127.0.0.1' }, port: 8080, nodeState: state(c) });
    // The node's KUBE-FIREWALL drops 127.0.0.0/8 from other sources: it never sees this packet.
    expect(r.verdict).toBe('delivered');
    expect(stages(r)).toEqual(['resolve:ok', 'route:ok']);
    expect(r.hops[1]!.summary).toMatch(/127\.0\.0\.1 is default\/client's own loopback address: the connection stays inside the pod's network namespace/);
    expect(r.branches).toEqual([expect.objectContaining({ endpoint: '127.0.0.1:8080', pod: 'default/client', verdict: 'delivered' })]);
    expect(traceConnection({ cluster: c, source: client(c), destination: { kind: 'ip', ip: '::1' }, port: 8080 }).verdict).toBe('delivered');
  });

  it('a pod to its own address is delivered inside it, whatever policy selects it for ingress', () => {
    const c = denyAllIngress(cluster());
    const w1 = { kind: 'pod' as const, pod: c.pods.find((p) => p.metadata.name === 'w1')! };
    const self = traceConnection({ cluster: c, source: w1, destination: { kind: 'pod', pod: w1.pod }, port: 8080, nodeState: state(c) });
    expect(self.verdict).toBe('delivered');
    expect(stages(self)).toEqual(['resolve:ok', 'route:ok']);
    expect(self.hops[1]!.summary).toMatch(/10\.244\.1\.5 is default\/w1's own address/);
    // Another pod is still judged by the policy.
    const other = traceConnection({ cluster: c, source: client(c), destination: { kind: 'pod', pod: w1.pod }, port: 8080, nodeState: state(c) });
    expect(other.verdict).toBe('dropped');
    expect(other.firstFailure?.stage).toBe('policy-ingress');
  });

  it('a node to 127.0.0.1 is sent from 127.0.0.1, so KUBE-FIREWALL lets it through, over lo', () => {
    const c = cluster();
    const r = traceConnection({ cluster: c, source: { kind: 'node', node: c.nodes[0]! }, destination: { kind: 'ip', ip: '127.0.0.1' }, port: 10248, nodeState: state(c) });
    expect(r.verdict).toBe('delivered');
    expect(r.hops.find((h) => h.stage === 'node-rules')).toMatchObject({ status: 'ok' });
    expect(r.hops.find((h) => h.stage === 'route')!.summary).toMatch(/127\.0\.0\.1 is a loopback address: node n1 delivers the connection to itself over lo/);
  });

  it('a node to 127.0.0.1:NODEPORT reaches the Service through kube-proxy\'s localhost NodePort rules', () => {
    const c = cluster({ services: [service({ type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }] })] });
    const r = traceConnection({ cluster: c, source: { kind: 'node', node: c.nodes[0]! }, destination: { kind: 'ip', ip: '127.0.0.1' }, port: 30080, nodeState: state(c) });
    expect(r.hops[0]!.summary).toMatch(/NodePort 30080 of svc\/default\/web on node n1 \(127\.0\.0\.1\)/);
    expect(r.verdict).toBe('delivered');
    expect(r.branches.map((b) => [b.endpoint, b.probability, b.verdict])).toEqual([
      ['10.244.1.5:8080', 0.5, 'delivered'],
      ['10.244.2.6:8080', 0.5, 'delivered'],
    ]);
  });
});

describe('a client outside the cluster', () => {
  it('to a ClusterIP: unknown at service, as only the cluster translates that address; to a NodePort: traced', () => {
    const c = cluster({ services: [service({ type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }] })] });
    const outside = { kind: 'ip' as const, ip: '203.0.113.9' };
    const r = traceConnection({ cluster: c, source: outside, destination: toWeb(c), port: 80 });
    expect(r.verdict).toBe('unknown');
    expect(stages(r)).toEqual(['resolve:ok', 'service:warn']);
    expect(r.firstFailure).toMatchObject({ stage: 'service', summary: expect.stringMatching(/ClusterIP 10\.96\.0\.100, a virtual address that only the cluster's nodes and pods translate: 203\.0\.113\.9 is outside the cluster/) });
    // A pod's address as the source is inside the cluster: traced as before.
    expect(traceConnection({ cluster: c, source: { kind: 'ip', ip: '10.244.1.10' }, destination: toWeb(c), port: 80 }).hops.find((h) => h.stage === 'service')!.status).toBe('ok');
    const state = nodeState(c, { iptables: rulesFor([{ ip: '10.244.1.5', isLocal: true }, { ip: '10.244.2.6' }]), conntrack: [] });
    expect(traceConnection({ cluster: c, source: outside, destination: { kind: 'node', node: c.nodes[0]! }, port: 30080, nodeState: state }).verdict).toBe('delivered');
  });
});

describe('a NodePort of another node', () => {
  const nodePortCluster = (): Cluster => cluster({ services: [service({ type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }] })] });
  const toN2 = (c: Cluster): TraceDestination => ({ kind: 'node', node: c.nodes[1]! });

  it('is translated by that node\'s kube-proxy as the packet arrives; the first node only forwards it', () => {
    const c = nodePortCluster();
    const n1 = nodeState(c, { iptables: rulesFor([{ ip: '10.244.1.5' }, { ip: '10.244.2.6', isLocal: false }]), conntrack: [] });
    const n2 = nodeState(c, { node: 'n2', iptables: rulesFor([{ ip: '10.244.1.5' }, { ip: '10.244.2.6', isLocal: true }]), ipRoute: '10.244.1.0/24 via 172.18.0.3 dev eth0\n10.244.2.6 dev veth2 scope host\n' });
    const r = traceConnection({ cluster: c, source: client(c), destination: toN2(c), port: 30080, nodeState: n1, nodePortNodeState: n2 });
    expect(r.verdict).toBe('delivered');
    const rules = r.hops.find((h) => h.stage === 'node-rules')!;
    expect(rules).toMatchObject({ status: 'ok', summary: 'iptables on n2: DNAT to 10.244.1.5:8080 (50%), 10.244.2.6:8080 (50%)' });
    expect(rules.evidence[0]).toBe("n1 forwards 172.18.0.4:30080 untranslated: it is node n2's address, and kube-proxy's NodePort rules match a node's own addresses only");
    expect(rules.evidence).toContain('packet 10.244.1.10 → 172.18.0.4:30080/tcp (prerouting)');
    // Routed from n2, where the packet was translated.
    expect(r.branches[0]!.hops.find((h) => h.stage === 'route')!.evidence).toContain('n2: 10.244.1.0/24 via 172.18.0.3 dev eth0');
  });

  it('without that node\'s state, its rules are not judged and the trace says which node to capture', () => {
    const c = nodePortCluster();
    const n1 = nodeState(c, { iptables: rulesFor([{ ip: '10.244.1.5' }, { ip: '10.244.2.6' }]), conntrack: [] });
    const r = traceConnection({ cluster: c, source: client(c), destination: toN2(c), port: 30080, nodeState: n1 });
    expect(r.hops.find((h) => h.stage === 'node-rules')).toMatchObject({ status: 'skip', summary: 'no kube-proxy rules of node n2 were read' });
    expect(r.notJudged).toContain('node-rules');
    expect(r.verdict).toBe('delivered');
  });
});

describe('the probe stage: real connection attempts judged against the trace', () => {
  const attempt = (t: ProbeTarget, result: ProbeAttempt['result']): ProbeAttempt => ({ ...t, result, detail: result });
  const run = (targets: ProbeTarget[], result: (t: ProbeTarget) => ProbeAttempt['result']): ProbeRun => ({ container: 'knet-probe-abc123', pod: 'default/client', image: 'netshoot', attempts: targets.map((t) => attempt(t, result(t))) });
  const delivered = (): TraceReport => {
    const c = cluster();
    return traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80 });
  };

  it('tries the ClusterIP as the client dials it and each endpoint directly, each with what the trace expects', () => {
    const targets = probeTargets(delivered()) as ProbeTarget[];
    expect(targets.map((t) => [t.role, `${t.ip}:${t.port}`, t.expect])).toEqual([
      ['front', '10.96.0.100:80', 'connected'],
      ['endpoint', '10.244.1.5:8080', 'connected'],
      ['endpoint', '10.244.2.6:8080', 'connected'],
    ]);
  });

  it('attempts that connect where the trace delivers: ok, no finding', () => {
    const r = delivered();
    const probed = applyProbe(r, run(probeTargets(r) as ProbeTarget[], () => 'connected'));
    expect(probed.hops.at(-1)).toMatchObject({ stage: 'probe', status: 'ok' });
    expect(probed.hops.at(-1)!.evidence[0]).toMatch(/^ephemeral container knet-probe-abc123 .*cannot be removed/);
    expect(probed.findings.map((f) => f.code)).not.toContain('trace-probe-disagrees');
    expect(probed.verdict).toBe('delivered');
  });

  it('an endpoint refused where the trace delivers: fail, trace-probe-disagrees (error), the simulation missed something', () => {
    const r = delivered();
    const probed = applyProbe(r, run(probeTargets(r) as ProbeTarget[], (t) => (t.ip === '10.244.2.6' ? 'refused' : 'connected')));
    expect(probed.hops.at(-1)).toMatchObject({ stage: 'probe', status: 'fail', fate: 'rejected' });
    expect(probed.hops.at(-1)!.summary).toBe('a real connection from default/client to 10.244.2.6:8080 was refused, but the trace expects a connection: the simulation missed something');
    expect(probed.findings[0]).toMatchObject({ code: 'trace-probe-disagrees', severity: 'error', target: '10.244.2.6:8080', expected: 'connected', actual: 'refused' });
    expect(probed.firstFailure).toMatchObject({ stage: 'probe' });
    // The verdict stays knet's judgement; the finding (exit 1) says reality differs.
    expect(probed.verdict).toBe('delivered');
  });

  it('a connection where a policy denies it: fail, the policy is not enforced', () => {
    const c = cluster({ networkPolicies: [aNetworkPolicy('closed', { podSelector: {}, policyTypes: ['Ingress'] })] });
    const r = traceConnection({ cluster: c, source: client(c), destination: toWeb(c), port: 80 });
    expect(r.verdict).toBe('dropped');
    const targets = probeTargets(r) as ProbeTarget[];
    expect(targets.map((t) => t.expect)).toEqual(['dropped', 'dropped', 'dropped']);
    const probed = applyProbe(r, run(targets, () => 'connected'));
    expect(probed.hops.at(-1)).toMatchObject({ stage: 'probe', status: 'fail' });
    expect(probed.findings.find((f) => f.code === 'trace-probe-disagrees')?.hint).toMatch(/NetworkPolicy/);
    // And when the attempts time out, as a dropping policy makes them: ok.
    expect(applyProbe(r, run(targets, () => 'timeout')).hops.at(-1)).toMatchObject({ stage: 'probe', status: 'ok' });
    // Refused where a drop was expected: the same answer to "does it connect", said as a warning.
    expect(applyProbe(r, run(targets, () => 'refused')).hops.at(-1)).toMatchObject({ stage: 'probe', status: 'warn' });
  });

  it('reads the probe script\'s lines: exit 0 connected, "Connection refused", timeout(1)\'s 124, a missing line', () => {
    const targets: ProbeTarget[] = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => ({ ip, port: 80, role: 'endpoint', expect: 'connected', because: 'x' }));
    const out = ['knet-probe 10.0.0.1 80 0 ', 'knet-probe 10.0.0.2 80 1 bash: connect: Connection refused bash: line 1: /dev/tcp/10.0.0.2/80: Connection refused ', 'knet-probe 10.0.0.3 80 124 '].join('\n');
    expect(parseProbeOutput(out, targets).map((a) => a.result)).toEqual(['connected', 'refused', 'timeout', 'error']);
  });

  it('skips a UDP trace and a source that is no pod, saying why', () => {
    const c = cluster();
    const udp = { ...delivered(), protocol: 'UDP' as const };
    expect(probeTargets(udp)).toMatchObject({ skipped: expect.stringMatching(/TCP connections only/) as unknown });
    const fromNode = traceConnection({ cluster: c, source: { kind: 'node', node: c.nodes[0]! }, destination: toWeb(c), port: 80 });
    const skipped = applyProbe(fromNode, probeTargets(fromNode) as { skipped: string; remedy: string });
    expect(skipped.hops.at(-1)).toMatchObject({ stage: 'probe', status: 'skip' });
    expect(skipped.notJudged).toContain('probe');
  });
});
