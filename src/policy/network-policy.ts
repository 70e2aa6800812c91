// networking.k8s.io/v1 NetworkPolicy, exactly as docs/network-policy.md states it.
import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Protocol } from '../model/k8s.js';
import { formatSelector, matchesSelector } from '../model/labels.js';
import { endpointName } from './endpoint.js';
import { bestOf, phraseDifferences, ipBlockDifferences, notAPod, portDifferences, selectorDifferences } from './matchers.js';
import type { Difference, Direction, PolicyEndpoint, PolicyExplanation, RuleExplanation } from './types.js';

export type PodEndpoint = Extract<PolicyEndpoint, { kind: 'pod' }>;

/** A ports item with its protocol defaulted to TCP (SetDefaults_NetworkPolicyPort). */
export interface NormalizedPort {
  protocol: Protocol;
  port?: number | string;
  endPort?: number;
}

export interface NormalizedRule {
  /** Empty means "all peers" (absent and [] are the same). */
  peers: NetworkPolicyPeer[];
  /** Empty means "all ports". */
  ports: NormalizedPort[];
}

/** A NetworkPolicy read once: defaults applied, ready to match. */
export interface NormalizedPolicy {
  namespace: string;
  name: string;
  key: string;
  podSelector: LabelSelector;
  types: Set<Direction>;
  ingress: NormalizedRule[];
  egress: NormalizedRule[];
  source: NetworkPolicy;
}

/**
 * policyTypes defaulting (reference §3): as written when given, else Ingress plus Egress iff there
 * are egress rules. A policy without spec reads as Kubernetes would store it: podSelector {} and
 * policyTypes [Ingress], that is, it denies all ingress to its namespace (a finding says so).
 */
export function normalizePolicy(policy: NetworkPolicy): NormalizedPolicy {
  const spec = policy.spec ?? {};
  const namespace = policy.metadata.namespace ?? 'default';
  const types = new Set<Direction>();
  if (spec.policyTypes && spec.policyTypes.length > 0) {
    for (const t of spec.policyTypes) types.add(t === 'Egress' ? 'egress' : 'ingress');
  } else {
    types.add('ingress');
    if ((spec.egress ?? []).length > 0) types.add('egress');
  }
  const normPorts = (ports: NetworkPolicyPort[] | null | undefined): NormalizedPort[] =>
    (ports ?? []).map((p) => ({
      protocol: p.protocol ?? 'TCP',
      ...(p.port !== undefined && p.port !== null ? { port: p.port } : {}),
      ...(p.endPort !== undefined && p.endPort !== null ? { endPort: p.endPort } : {}),
    }));
  return {
    namespace,
    name: policy.metadata.name,
    key: `${namespace}/${policy.metadata.name}`,
    podSelector: spec.podSelector ?? {},
    types,
    ingress: (spec.ingress ?? []).map((r) => ({ peers: r?.from ?? [], ports: normPorts(r?.ports) })),
    egress: (spec.egress ?? []).map((r) => ({ peers: r?.to ?? [], ports: normPorts(r?.ports) })),
    source: policy,
  };
}

/** Whether the policy applies to the pod for the direction (reference §2). */
export function appliesTo(policy: NormalizedPolicy, pod: PodEndpoint, dir: Direction): boolean {
  return policy.types.has(dir) && policy.namespace === pod.namespace && matchesSelector(policy.podSelector, pod.labels);
}

export function isEmptyPeer(peer: NetworkPolicyPeer): boolean {
  return !peer.podSelector && !peer.namespaceSelector && !peer.ipBlock;
}

/**
 * Why a peer item does not match the endpoint (reference §5): podSelector alone means the policy's
 * namespace; namespaceSelector alone means all pods of matching namespaces; both in one item are ANDed;
 * ipBlock matches pod IPs as well as other IPs (this implementation's choice, as the upstream e2e tests assert).
 */
export function peerDifferences(peer: NetworkPolicyPeer, policyNamespace: string, other: PolicyEndpoint, who: string): Difference[] {
  if (isEmptyPeer(peer)) return [{ kind: 'invalid', wish: 'the peer named something', actual: 'it is empty, which the API rejects' }];
  if (peer.ipBlock) {
    if (peer.podSelector || peer.namespaceSelector) {
      return [{ kind: 'invalid', wish: 'the peer were valid', actual: 'it combines ipBlock with a selector, which the API rejects' }];
    }
    return ipBlockDifferences(peer.ipBlock, other, who);
  }
  if (other.kind !== 'pod') return [notAPod(other, who)];
  const out: Difference[] = [];
  if (peer.namespaceSelector) {
    out.push(...selectorDifferences(peer.namespaceSelector, other.namespaceLabels, `${who}'s namespace \`${other.namespace}\``, 'namespace-label'));
  } else if (other.namespace !== policyNamespace) {
    out.push({
      kind: 'namespace',
      wish: `${who} were in namespace \`${policyNamespace}\``,
      actual: `it is in \`${other.namespace}\` (a podSelector without namespaceSelector means the policy's own namespace)`,
    });
  }
  if (peer.podSelector) out.push(...selectorDifferences(peer.podSelector, other.labels, who, 'pod-label'));
  return out;
}

function matchedAll(...lists: Difference[][]): boolean {
  return lists.every((l) => l.length === 0);
}

export function describePeer(peer: NetworkPolicyPeer, policyNamespace: string): string {
  if (peer.ipBlock) {
    const except = peer.ipBlock.except?.length ? ` except ${peer.ipBlock.except.join(', ')}` : '';
    return `ipBlock ${peer.ipBlock.cidr}${except}`;
  }
  const pods = peer.podSelector ? `pods with ${formatSelector(peer.podSelector)}` : 'all pods';
  const ns = peer.namespaceSelector ? `namespaces with ${formatSelector(peer.namespaceSelector)}` : `namespace ${policyNamespace}`;
  return `${pods} in ${ns}`;
}

export function describePort(p: NormalizedPort): string {
  if (p.port === undefined) return `every ${p.protocol} port`;
  if (p.endPort !== undefined) return `${p.protocol} ports ${p.port}-${p.endPort}`;
  return typeof p.port === 'number' ? `${p.protocol} port ${p.port}` : `${p.protocol} port \`${p.port}\``;
}

/** Each rule of the policy for the direction against one peer, port and protocol. */
export function explainNetworkPolicy(
  policy: NormalizedPolicy,
  dir: Direction,
  subject: PodEndpoint,
  other: PolicyEndpoint,
  port: number,
  protocol: Protocol,
): PolicyExplanation {
  const who = dir === 'ingress' ? 'the source' : 'the destination';
  const destination = dir === 'ingress' ? subject : other;
  const rules: RuleExplanation[] = policy[dir].map((rule, index) => {
    const peer = bestOf(rule.peers, (p) => peerDifferences(p, policy.namespace, other, who));
    const portMatch = bestOf(rule.ports, (p) => portDifferences(p, port, protocol, destination));
    const differences = [...peer.differences, ...portMatch.differences];
    const matched = differences.length === 0;
    const peerText = peer.index === null ? (dir === 'ingress' ? 'from anywhere' : 'to anywhere') : `${dir === 'ingress' ? 'from' : 'to'} ${describePeer(rule.peers[peer.index]!, policy.namespace)}`;
    const portItem = portMatch.index === null ? undefined : rule.ports[portMatch.index]!;
    // A named port that matched resolved to the probed port on the destination: say so.
    const resolved = portItem && typeof portItem.port === 'string' && matchedAll(peer.differences, portMatch.differences) ? ` (${port} on ${endpointName(destination)})` : '';
    const portText = portItem === undefined ? 'on every port' : `on ${describePort(portItem)}${resolved}`;
    const summary = matched
      ? `rule ${index} allows ${dir} ${peerText} ${portText}`
      : `rule ${index} would match if ${phraseDifferences(differences).wish}; ${phraseDifferences(differences).actual}`;
    return { index, action: 'Allow', matched, peer: peer.index, port: portMatch.index, differences: matched ? [] : differences, summary };
  });
  const first = rules.find((r) => r.matched);
  return { kind: 'NetworkPolicy', namespace: policy.namespace, name: policy.name, rule: first ? first.index : null, rules };
}
