// Turning cluster objects into the endpoints policy reasons about, and the cluster-wide facts
// (namespace labels, node addresses) that every evaluation needs, computed once.
import type { Cluster } from '../model/cluster.js';
import type { Node, Pod } from '../model/k8s.js';
import type { Labels } from '../model/labels.js';
import { canonicalIP, parseIP } from '../model/ip.js';
import { podIPs } from '../model/pod.js';
import type { EndpointSummary, PolicyEndpoint } from './types.js';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** What evaluation needs from a Cluster, indexed once. */
export interface PolicyContext {
  cluster: Cluster;
  namespaceLabels(namespace: string): Labels;
  /** The node's addresses (InternalIP, ExternalIP), canonical. */
  nodeIPs(node: string): string[];
  /** The node whose address this is, if any. */
  nodeOfIP(ip: string): string | undefined;
  podOfIP(ip: string): Pod | undefined;
  nodeLabels(node: string): Labels;
}

export function buildPolicyContext(cluster: Cluster): PolicyContext {
  const nsLabels = new Map<string, Labels>();
  for (const ns of cluster.namespaces) {
    // The API server sets kubernetes.io/metadata.name on every namespace (since 1.21); a dump may predate it.
    nsLabels.set(ns.metadata.name, { [NAMESPACE_NAME_LABEL]: ns.metadata.name, ...(ns.metadata.labels ?? {}) });
  }
  const nodeAddrs = new Map<string, string[]>();
  const ipToNode = new Map<string, string>();
  const addNodeIP = (node: string, ip: string): void => {
    const c = canonicalIP(ip);
    const list = nodeAddrs.get(node) ?? [];
    if (!list.includes(c)) list.push(c);
    nodeAddrs.set(node, list);
    if (!ipToNode.has(c)) ipToNode.set(c, node);
  };
  for (const node of cluster.nodes) {
    for (const a of nodeAddresses(node)) addNodeIP(node.metadata.name, a);
  }
  const nodeLabels = new Map<string, Labels>(cluster.nodes.map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
  const ipToPod = new Map<string, Pod>();
  for (const pod of cluster.pods) {
    if (pod.spec?.nodeName && pod.status?.hostIP) addNodeIP(pod.spec.nodeName, pod.status.hostIP);
    if (pod.spec?.hostNetwork) continue;
    for (const ip of podIPs(pod)) if (!ipToPod.has(canonicalIP(ip))) ipToPod.set(canonicalIP(ip), pod);
  }
  return {
    cluster,
    namespaceLabels: (namespace) => nsLabels.get(namespace) ?? { [NAMESPACE_NAME_LABEL]: namespace },
    nodeIPs: (node) => nodeAddrs.get(node) ?? [],
    nodeOfIP: (ip) => ipToNode.get(canonicalIP(ip)),
    podOfIP: (ip) => ipToPod.get(canonicalIP(ip)),
    nodeLabels: (node) => nodeLabels.get(node) ?? {},
  };
}

function nodeAddresses(node: Node): string[] {
  return (node.status?.addresses ?? [])
    .filter((a) => (a.type === 'InternalIP' || a.type === 'ExternalIP') && parseIP(a.address))
    .map((a) => a.address);
}

/** A pod as policy sees it: a hostNetwork pod becomes its node (reference §8). */
export function podEndpoint(ctx: PolicyContext, pod: Pod): PolicyEndpoint {
  const namespace = pod.metadata.namespace ?? 'default';
  if (pod.spec?.hostNetwork) {
    const node = pod.spec.nodeName ?? '';
    const ips = node ? ctx.nodeIPs(node) : [];
    return {
      kind: 'node',
      name: node,
      ips: ips.length ? ips : podIPs(pod).map(canonicalIP),
      hostNetworkPod: `${namespace}/${pod.metadata.name}`,
    };
  }
  return {
    kind: 'pod',
    namespace,
    name: pod.metadata.name,
    labels: pod.metadata.labels ?? {},
    namespaceLabels: ctx.namespaceLabels(namespace),
    ips: podIPs(pod).map(canonicalIP),
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    pod,
  };
}

export function nodeEndpoint(ctx: PolicyContext, name: string): PolicyEndpoint {
  return { kind: 'node', name, ips: ctx.nodeIPs(name) };
}

/** An IP as policy sees it: the pod that has it, else the node, else an external address. */
export function ipEndpoint(ctx: PolicyContext, ip: string): PolicyEndpoint {
  const pod = ctx.podOfIP(ip);
  if (pod) return podEndpoint(ctx, pod);
  const node = ctx.nodeOfIP(ip);
  if (node) return { kind: 'node', name: node, ips: [canonicalIP(ip)] };
  return { kind: 'external', ip: canonicalIP(ip) };
}

export function endpointName(e: PolicyEndpoint): string {
  switch (e.kind) {
    case 'pod':
      return `${e.namespace}/${e.name}`;
    case 'node':
      return e.hostNetworkPod ? `${e.hostNetworkPod} (hostNetwork on node/${e.name})` : `node/${e.name}`;
    case 'external':
      return e.ip;
  }
}

export function endpointIPs(e: PolicyEndpoint): string[] {
  return e.kind === 'external' ? [e.ip] : e.ips;
}

export function summarizeEndpoint(e: PolicyEndpoint): EndpointSummary {
  return { kind: e.kind, name: endpointName(e), ips: endpointIPs(e) };
}
