// A lab "node" namespace's state as a snapshot holds it (iptables-save, ip route, ip addr), captured from
// the namespace itself and read as the trace reads a node's state.
import type { Cluster } from '../../src/model/cluster.js';
import { parseTraceNodeState, type TraceNodeState } from '../../src/trace/node-state.js';
import type { NetnsLab } from './netns.js';

export async function captureTraceNodeState(lab: NetnsLab, ns: string, cluster: Cluster, node: string): Promise<TraceNodeState> {
  return parseTraceNodeState(cluster, {
    node,
    iptables: { text: await lab.must(ns, ['iptables-save']), source: `iptables-save in ${node}'s namespace` },
    ipRoute: await lab.must(ns, ['ip', 'route', 'show']),
    ipAddr: await lab.must(ns, ['ip', 'addr']),
    hint: (kind) => `capture ${kind}`,
  });
}
