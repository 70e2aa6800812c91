// The node-rules hop against the Linux kernel: kube-proxy's rules for a small cluster are loaded with
// iptables-restore into a "node" namespace between a client "pod" and backend "pods"; the node's state is
// captured from that namespace as a snapshot holds it (iptables-save, ip route, ip addr), `knet trace`
// judges the connection from it, and real TCP connections from the client must agree: every backend that
// answered is a branch the trace delivers to with a share above 0, a refusal is a trace rejected, a
// timeout a trace whose branch is dropped.
//
//   client pod (10.0.0.2)──c0┐                    ┌──p0── pods (10.180.0.1-3, one server per address)
//                            node (10.0.0.1, 10.180.0.254, 192.168.0.2)
//                  upstream (192.168.0.1)──up0 (the node's default route)
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKubeProxyIptables } from '../../bench/generate-iptables.mjs';
import type { Cluster } from '../../src/model/cluster.js';
import type { Service } from '../../src/model/k8s.js';
import type { TraceNodeState } from '../../src/trace/node-state.js';
import { traceConnection } from '../../src/trace/trace.js';
import type { TraceReport } from '../../src/trace/types.js';
import { NetnsLab, type ProbeResult } from '../support/netns.js';
import { describeNeeding, NETNS_COMMANDS } from '../support/needs.js';
import { aCluster, aNode, aPod, aService, aSlice } from '../support/builders.js';
import { captureTraceNodeState } from '../support/trace-state.js';

const NODE_IP = '192.168.0.2';
const TIMEOUT_MS = 400;

function svc(name: string, clusterIP: string): Service {
  const s = aService(name, { selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] });
  s.spec = { ...s.spec, clusterIP, clusterIPs: [clusterIP] };
  return s;
}

/** What the API says: web has two ready pods; empty has none; moved has one (kube-proxy still has its old one too). */
const cluster: Cluster = aCluster({
  nodes: [aNode('n1', { ip: NODE_IP, podCIDR: '10.180.0.0/24' })],
  pods: [
    aPod('client', { labels: { app: 'client' }, ip: '10.0.0.2', node: 'n1' }),
    aPod('w1', { labels: { app: 'web' }, ip: '10.180.0.1', node: 'n1', ports: [{ name: 'http', containerPort: 8080 }] }),
    aPod('w2', { labels: { app: 'web' }, ip: '10.180.0.2', node: 'n1', ports: [{ name: 'http', containerPort: 8080 }] }),
    aPod('m1', { labels: { app: 'moved' }, ip: '10.180.0.3', node: 'n1', ports: [{ name: 'http', containerPort: 8080 }] }),
  ],
  services: [svc('web', '172.30.1.10'), svc('empty', '172.30.1.11'), svc('moved', '172.30.1.12')],
  endpointSlices: [
    aSlice('web', [{ ip: '10.180.0.1', pod: 'w1' }, { ip: '10.180.0.2', pod: 'w2' }]),
    aSlice('empty', []),
    aSlice('moved', [{ ip: '10.180.0.3', pod: 'm1' }]),
  ],
});

/** What kube-proxy programmed: web and empty as the API says; moved still with its old endpoint 10.180.0.9 (no pod there any more). */
const rules = generateKubeProxyIptables({
  services: [
    { namespace: 'default', name: 'web', clusterIP: '172.30.1.10', ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: [{ ip: '10.180.0.1', isLocal: true }, { ip: '10.180.0.2', isLocal: true }] },
    { namespace: 'default', name: 'empty', clusterIP: '172.30.1.11', ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: [] },
    { namespace: 'default', name: 'moved', clusterIP: '172.30.1.12', ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: [{ ip: '10.180.0.3', isLocal: true }, { ip: '10.180.0.9', isLocal: true }] },
  ],
  podCIDR: '10.0.0.0/8',
});

describeNeeding({ root: true, commands: [...NETNS_COMMANDS, 'iptables-restore', 'iptables-save'] }, 'the node-rules hop of knet trace agrees with the kernel', () => {
  const lab = new NetnsLab('trace');
  let client = '';
  let node = '';
  let pods = '';
  let state: TraceNodeState;

  beforeAll(async () => {
    client = await lab.addNamespace('client');
    node = await lab.addNamespace('node');
    pods = await lab.addNamespace('pods');
    const upstream = await lab.addNamespace('up');
    await lab.addVeth({ ns: client, ifname: 'eth0', address: '10.0.0.2/24' }, { ns: node, ifname: 'c0', address: '10.0.0.1/24' });
    await lab.addVeth({ ns: pods, ifname: 'eth0', address: ['10.180.0.1/24', '10.180.0.2/24', '10.180.0.3/24'] }, { ns: node, ifname: 'p0', address: '10.180.0.254/24' });
    await lab.addVeth({ ns: upstream, ifname: 'eth0', address: '192.168.0.1/24' }, { ns: node, ifname: 'up0', address: `${NODE_IP}/24` });
    await lab.addRoute(client, 'default', { gateway: '10.0.0.1' });
    await lab.addRoute(pods, 'default', { gateway: '10.180.0.254' });
    await lab.addRoute(node, 'default', { gateway: '192.168.0.1' });
    await lab.makeRouter(node);
    for (const ip of ['10.180.0.1', '10.180.0.2', '10.180.0.3']) await lab.startServer(pods, ip, [8080], [ip]);
    // A node-local service on the loopback address (as kubelet's healthz on 127.0.0.1:10248).
    await lab.startServer(node, 'node-loopback', [10248], ['127.0.0.1']);
    await lab.must(node, ['iptables-restore'], rules);
    // The node's state as a snapshot holds it, captured from the node itself.
    state = await captureTraceNodeState(lab, node, cluster, 'n1');
  }, 30_000);

  afterAll(() => lab.cleanup());

  function trace(service: string): TraceReport {
    return traceConnection({ cluster, source: { kind: 'pod', pod: cluster.pods[0]! }, destination: { kind: 'service', service: cluster.services.find((s) => s.metadata.name === service)! }, port: 80, nodeState: state });
  }

  async function connect(ip: string, count: number): Promise<ProbeResult[]> {
    const [seen] = await lab.probe(client, [{ ip, port: 80, protocol: 'tcp', count }], TIMEOUT_MS);
    return seen!;
  }

  function expectAgreement(r: TraceReport, seen: ProbeResult[]): void {
    const reachable = new Map(r.branches.filter((b) => b.verdict === 'delivered' && (b.probability ?? 0) > 0).map((b) => [b.endpoint.slice(0, b.endpoint.lastIndexOf(':')), b]));
    for (const s of seen) {
      if (s.kind === 'reply') expect(reachable.has(s.identity), `kernel reached ${s.identity}; trace delivers to ${[...reachable.keys()].join(', ')}`).toBe(true);
      else if (s.kind === 'refused') expect(r.verdict).toBe('rejected');
      else if (s.kind === 'timeout') expect(r.branches.some((b) => b.verdict === 'dropped' && (b.probability ?? 0) > 0)).toBe(true);
      else throw new Error(`probe error: ${s.message}`);
    }
  }

  it('two endpoints: the kernel reaches only the endpoints the trace delivers to, at 50% each', async () => {
    const r = trace('web');
    expect(r.verdict).toBe('delivered');
    expect(r.hops.find((h) => h.stage === 'node-rules')!.status).toBe('ok');
    expect(r.branches.map((b) => [b.endpoint, b.probability])).toEqual([['10.180.0.1:8080', 0.5], ['10.180.0.2:8080', 0.5]]);
    const seen = await connect('172.30.1.10', 16);
    expect(seen.every((s) => s.kind === 'reply')).toBe(true);
    expectAgreement(r, seen);
  });

  it('no endpoints: kube-proxy\'s REJECT refuses the connection, as the trace says', async () => {
    const r = trace('empty');
    expect(r.verdict).toBe('rejected');
    expect(r.hops.find((h) => h.stage === 'node-rules')).toMatchObject({ status: 'fail', fate: 'rejected' });
    const seen = await connect('172.30.1.11', 4);
    expect(seen.every((s) => s.kind === 'refused')).toBe(true);
    expectAgreement(r, seen);
  });

  it('stale rules: the connections DNATed to the old endpoint time out, the others reach the pod', async () => {
    const r = trace('moved');
    expect(r.verdict).toBe('dropped');
    expect(r.firstFailure).toMatchObject({ stage: 'node-rules', endpoint: '10.180.0.9:8080' });
    expect(r.branches.map((b) => [b.endpoint, b.probability, b.verdict])).toEqual([['10.180.0.3:8080', 0.5, 'delivered'], ['10.180.0.9:8080', 0.5, 'dropped']]);
    const seen = await connect('172.30.1.12', 16);
    expect(seen.some((s) => s.kind === 'reply')).toBe(true);
    expect(seen.some((s) => s.kind === 'timeout')).toBe(true);
    expectAgreement(r, seen);
  });

  it('the node to its own 127.0.0.1: sent from 127.0.0.1, so KUBE-FIREWALL lets it through, and the kernel connects', async () => {
    const r = traceConnection({ cluster, source: { kind: 'node', node: cluster.nodes[0]! }, destination: { kind: 'ip', ip: '127.0.0.1' }, port: 10248, nodeState: state });
    expect(r.verdict).toBe('delivered');
    expect(r.hops.find((h) => h.stage === 'node-rules')!.status).toBe('ok');
    const [seen] = await lab.probe(node, [{ ip: '127.0.0.1', port: 10248, protocol: 'tcp', count: 2 }], TIMEOUT_MS);
    expect(seen!.map((x) => x.kind === 'reply' && x.identity)).toEqual(['node-loopback', 'node-loopback']);
  });
});
