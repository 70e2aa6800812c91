// A NodePort of another node, against the Linux kernel: a client "pod" on n1 connects to n2's address
// and NodePort. n1's kube-proxy rules do not translate it (their NodePort rules match n1's own addresses
// only), so n1 forwards it; n2's translate it on arrival and masquerade it to a pod behind n2. Each node
// is a network namespace loaded with kube-proxy's rules for it; the trace judges the connection from the
// state captured from both (iptables-save, ip route, ip addr), and real TCP connections must agree. Also:
// externalTrafficPolicy Local on a node without endpoints does not stop a pod's connection (kube-proxy's
// "pod traffic for … external destinations" rule sends it to every endpoint).
//
//   client (10.0.0.2)──c0┐                        ┌──p0── pod web (10.181.0.1:8080)
//                       n1 (10.0.0.1, 192.168.7.2)──link──n2 (192.168.7.3, 10.181.0.254)
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKubeProxyIptables } from '../../bench/generate-iptables.mjs';
import type { Cluster } from '../../src/model/cluster.js';
import type { Service } from '../../src/model/k8s.js';
import type { TraceNodeState } from '../../src/trace/node-state.js';
import { traceConnection } from '../../src/trace/trace.js';
import type { TraceReport } from '../../src/trace/types.js';
import { NetnsLab } from '../support/netns.js';
import { describeNeeding, NETNS_COMMANDS } from '../support/needs.js';
import { aCluster, aNode, aPod, aService, aSlice } from '../support/builders.js';
import { captureTraceNodeState } from '../support/trace-state.js';

const N1 = '192.168.7.2';
const N2 = '192.168.7.3';
const TIMEOUT_MS = 400;

function nodePortService(name: string, clusterIP: string, nodePort: number, externalTrafficPolicy: 'Cluster' | 'Local' = 'Cluster'): Service {
  const s = aService(name, { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort }] });
  s.spec = { ...s.spec, type: 'NodePort', clusterIP, clusterIPs: [clusterIP], externalTrafficPolicy };
  return s;
}

/**
 * web: NodePort 30080, programmed on both nodes; lagging: NodePort 30081, which n2's kube-proxy has not
 * programmed yet; local: NodePort 30082 with externalTrafficPolicy Local.
 */
const cluster: Cluster = aCluster({
  nodes: [aNode('n1', { ip: N1, podCIDR: '10.0.0.0/24' }), aNode('n2', { ip: N2, podCIDR: '10.181.0.0/24' })],
  pods: [
    aPod('client', { labels: { app: 'client' }, ip: '10.0.0.2', node: 'n1' }),
    aPod('w1', { labels: { app: 'web' }, ip: '10.181.0.1', node: 'n2', ports: [{ name: 'http', containerPort: 8080 }] }),
  ],
  services: [nodePortService('web', '172.30.2.10', 30080), nodePortService('lagging', '172.30.2.11', 30081), nodePortService('local', '172.30.2.12', 30082, 'Local')],
  endpointSlices: [aSlice('web', [{ ip: '10.181.0.1', pod: 'w1' }]), aSlice('lagging', [{ ip: '10.181.0.1', pod: 'w1' }]), aSlice('local', [{ ip: '10.181.0.1', pod: 'w1' }])],
});

const web = { namespace: 'default', name: 'web', clusterIP: '172.30.2.10', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }] };
const lagging = { namespace: 'default', name: 'lagging', clusterIP: '172.30.2.11', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30081 }] };
/** local: NodePort 30082 with externalTrafficPolicy Local, its only endpoint behind n2. */
const local = { namespace: 'default', name: 'local', clusterIP: '172.30.2.12', externalTrafficPolicy: 'Local' as const, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30082 }] };
const n1Rules = generateKubeProxyIptables({ services: [{ ...web, endpoints: [{ ip: '10.181.0.1' }] }, { ...lagging, endpoints: [{ ip: '10.181.0.1' }] }, { ...local, endpoints: [{ ip: '10.181.0.1' }] }], podCIDR: '10.0.0.0/8' });
const n2Rules = generateKubeProxyIptables({ services: [{ ...web, endpoints: [{ ip: '10.181.0.1', isLocal: true }] }], podCIDR: '10.0.0.0/8' });

describeNeeding({ root: true, commands: [...NETNS_COMMANDS, 'iptables-restore', 'iptables-save'] }, "another node's NodePort: the trace follows the packet to that node's rules, as the kernel does", () => {
  const lab = new NetnsLab('nodeport');
  let client = '';
  const states: Record<string, TraceNodeState> = {};

  beforeAll(async () => {
    client = await lab.addNamespace('client');
    const n1 = await lab.addNamespace('n1');
    const n2 = await lab.addNamespace('n2');
    const pods = await lab.addNamespace('pods');
    await lab.addVeth({ ns: client, ifname: 'eth0', address: '10.0.0.2/24' }, { ns: n1, ifname: 'c0', address: '10.0.0.1/24' });
    await lab.addVeth({ ns: n1, ifname: 'eth0', address: `${N1}/24` }, { ns: n2, ifname: 'eth0', address: `${N2}/24` });
    await lab.addVeth({ ns: pods, ifname: 'eth0', address: '10.181.0.1/24' }, { ns: n2, ifname: 'p0', address: '10.181.0.254/24' });
    await lab.addRoute(client, 'default', { gateway: '10.0.0.1' });
    await lab.addRoute(pods, 'default', { gateway: '10.181.0.254' });
    await lab.addRoute(n1, '10.181.0.0/24', { gateway: N2 });
    await lab.addRoute(n2, '10.0.0.0/24', { gateway: N1 });
    for (const ns of [n1, n2]) await lab.makeRouter(ns);
    await lab.startServer(pods, 'w1', [8080], ['10.181.0.1']);
    await lab.must(n1, ['iptables-restore'], n1Rules);
    await lab.must(n2, ['iptables-restore'], n2Rules);
    for (const [name, ns] of [['n1', n1], ['n2', n2]] as const) states[name] = await captureTraceNodeState(lab, ns, cluster, name);
  }, 30_000);

  afterAll(() => lab.cleanup());

  function trace(port: number): TraceReport {
    return traceConnection({ cluster, source: { kind: 'pod', pod: cluster.pods[0]! }, destination: { kind: 'node', node: cluster.nodes[1]! }, port, nodeState: states.n1!, nodePortNodeState: states.n2! });
  }

  it('n2 translates its NodePort for a client on n1: delivered to the pod behind n2, which the kernel reaches', async () => {
    const r = trace(30080);
    expect(r.verdict).toBe('delivered');
    const rules = r.hops.find((h) => h.stage === 'node-rules')!;
    expect(rules).toMatchObject({ status: 'ok', summary: 'iptables on n2: DNAT to 10.181.0.1:8080 (100%)' });
    expect(rules.evidence[0]).toMatch(/^n1 forwards 192\.168\.7\.3:30080 untranslated/);
    const [seen] = await lab.probe(client, [{ ip: N2, port: 30080, protocol: 'tcp', count: 4 }], TIMEOUT_MS);
    expect(seen!.map((s) => (s.kind === 'reply' ? s.identity : s.kind))).toEqual(['w1', 'w1', 'w1', 'w1']);
  });

  it('a NodePort n2 has not programmed: n2 takes the packet itself, nothing listens there, and the kernel refuses it', async () => {
    const r = trace(30081);
    expect(r.verdict).toBe('rejected');
    expect(r.firstFailure).toMatchObject({ stage: 'node-rules' });
    expect(r.firstFailure!.summary).toMatch(/n2 do not translate 192\.168\.7\.3:30081/);
    const [seen] = await lab.probe(client, [{ ip: N2, port: 30081, protocol: 'tcp', count: 2 }], TIMEOUT_MS);
    expect(seen!.map((s) => s.kind)).toEqual(['refused', 'refused']);
  });

  it("externalTrafficPolicy Local on n1, which has no endpoint: a pod's connection still reaches the one behind n2, as the kernel shows", async () => {
    const r = traceConnection({ cluster, source: { kind: 'pod', pod: cluster.pods[0]! }, destination: { kind: 'node', node: cluster.nodes[0]! }, port: 30082, nodeState: states.n1! });
    expect(r.verdict).toBe('delivered');
    expect(r.hops.find((h) => h.stage === 'node-rules')).toMatchObject({ status: 'ok', summary: 'iptables on n1: DNAT to 10.181.0.1:8080 (100%)' });
    const [seen] = await lab.probe(client, [{ ip: N1, port: 30082, protocol: 'tcp', count: 2 }], TIMEOUT_MS);
    expect(seen!.map((x) => (x.kind === 'reply' ? x.identity : x.kind))).toEqual(['w1', 'w1']);
  });
});
