// policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy and BaselineAdminNetworkPolicy.
// Precedence (network-policy-api): ANPs by priority, lower number first, rules in order, the first
// matching rule decides (Allow or Deny) or passes to NetworkPolicy (Pass); NetworkPolicy decides for
// isolated pods; otherwise the BaselineAdminNetworkPolicy (Allow or Deny); otherwise allowed.
import type { AdminNetworkPolicy, LabelSelector, Protocol } from '../model/k8s.js';
import type { Labels } from '../model/labels.js';
import { matchesSelector } from '../model/labels.js';
import { cidrContainsIP, parseCIDR, parseIP } from '../model/ip.js';
import { podPorts } from '../model/pod.js';
import { endpointIPs, endpointName } from './endpoint.js';
import { bestOf, phraseDifferences, notAPod, selectorDifferences } from './matchers.js';
import type { Difference, Direction, PolicyEndpoint, PolicyExplanation, PolicyKind, RuleExplanation } from './types.js';
import type { PodEndpoint } from './network-policy.js';

export type AdminAction = 'Allow' | 'Deny' | 'Pass';

export interface AdminPodsSelector {
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
}

export interface AdminSubject {
  namespaces?: LabelSelector;
  pods?: AdminPodsSelector;
}

export interface AdminPeer {
  namespaces?: LabelSelector;
  pods?: AdminPodsSelector;
  /** Egress only. */
  nodes?: LabelSelector;
  /** Egress only: CIDRs. */
  networks?: string[];
}

export interface AdminPort {
  portNumber?: { protocol?: Protocol; port: number };
  namedPort?: string;
  portRange?: { protocol?: Protocol; start: number; end: number };
}

export interface AdminRule {
  name?: string;
  action: AdminAction;
  from?: AdminPeer[];
  to?: AdminPeer[];
  ports?: AdminPort[];
}

export interface AdminSpec {
  priority?: number;
  subject?: AdminSubject;
  ingress?: AdminRule[];
  egress?: AdminRule[];
}

export interface NormalizedAdminPolicy {
  kind: Extract<PolicyKind, 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy'>;
  name: string;
  priority: number;
  subject: AdminSubject;
  ingress: AdminRule[];
  egress: AdminRule[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * v1alpha1 before v0.1.5 wrapped namespace selectors (`namespaces: {namespaceSelector}`,
 * `pods: {namespaces: {namespaceSelector}, podSelector}`); later versions use the selector itself.
 * Read both into the later form.
 */
function normalizePeer<T extends AdminPeer | AdminSubject>(peer: T): T {
  if (!isRecord(peer)) return peer;
  const out: Record<string, unknown> = { ...peer };
  const ns = peer.namespaces;
  if (isRecord(ns) && isRecord(ns.namespaceSelector)) out.namespaces = ns.namespaceSelector;
  const pods = peer.pods;
  if (isRecord(pods) && !pods.namespaceSelector && isRecord(pods.namespaces)) {
    const inner = pods.namespaces;
    out.pods = { namespaceSelector: isRecord(inner.namespaceSelector) ? inner.namespaceSelector : {}, podSelector: pods.podSelector };
  }
  return out as T;
}

/** Read the loosely typed object; problems (no spec, unknown action) are for findings, not exceptions. */
export function normalizeAdminPolicy(obj: AdminNetworkPolicy): NormalizedAdminPolicy | null {
  if (!isRecord(obj.spec)) return null;
  // The API schema (CRD validation) holds the fields to these shapes; a snapshot is what the API accepted.
  const spec = obj.spec as AdminSpec;
  const rules = (v: unknown): AdminRule[] =>
    Array.isArray(v)
      ? (v as AdminRule[]).filter((r) => isRecord(r)).map((r) => ({
          ...r,
          ...(Array.isArray(r.from) ? { from: r.from.map(normalizePeer) } : {}),
          ...(Array.isArray(r.to) ? { to: r.to.map(normalizePeer) } : {}),
        }))
      : [];
  return {
    kind: obj.kind === 'BaselineAdminNetworkPolicy' ? 'BaselineAdminNetworkPolicy' : 'AdminNetworkPolicy',
    name: obj.metadata.name,
    priority: typeof spec.priority === 'number' ? spec.priority : 0,
    subject: isRecord(spec.subject) ? normalizePeer(spec.subject) : {},
    ingress: rules(spec.ingress),
    egress: rules(spec.egress),
  };
}

/** Lower priority number first; equal priorities are undefined upstream, so order by name to stay stable. */
export function sortAdminPolicies(list: NormalizedAdminPolicy[]): NormalizedAdminPolicy[] {
  return [...list].sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name));
}

export function subjectMatches(subject: AdminSubject, pod: PodEndpoint): boolean {
  if (subject.namespaces) return matchesSelector(subject.namespaces, pod.namespaceLabels);
  if (subject.pods) {
    return matchesSelector(subject.pods.namespaceSelector ?? {}, pod.namespaceLabels) && matchesSelector(subject.pods.podSelector ?? {}, pod.labels);
  }
  return false;
}

export interface AdminPeerFacts {
  nodeLabels(node: string): Labels;
}

export function adminPeerDifferences(peer: AdminPeer, other: PolicyEndpoint, who: string, facts: AdminPeerFacts): Difference[] {
  if (peer.networks) {
    const ips = endpointIPs(other).map(parseIP);
    const hit = peer.networks.some((n) => {
      const c = parseCIDR(n);
      return c !== null && ips.some((ip) => ip !== null && cidrContainsIP(c, ip));
    });
    return hit ? [] : [{ kind: 'ip', wish: `${who}'s IP were in ${peer.networks.join(', ')}`, actual: `${endpointIPs(other).join(', ') || 'it has no IP'} is not` }];
  }
  if (peer.nodes) {
    if (other.kind !== 'node') return [{ kind: 'not-a-pod', wish: `${who} were a node`, actual: `${endpointName(other)} is not a node` }];
    return selectorDifferences(peer.nodes, facts.nodeLabels(other.name), `node ${other.name}`, 'pod-label');
  }
  if (other.kind !== 'pod') return [notAPod(other, who)];
  if (peer.namespaces) {
    return selectorDifferences(peer.namespaces, other.namespaceLabels, `${who}'s namespace \`${other.namespace}\``, 'namespace-label');
  }
  if (peer.pods) {
    return [
      ...selectorDifferences(peer.pods.namespaceSelector ?? {}, other.namespaceLabels, `${who}'s namespace \`${other.namespace}\``, 'namespace-label'),
      ...selectorDifferences(peer.pods.podSelector ?? {}, other.labels, who, 'pod-label'),
    ];
  }
  return [{ kind: 'invalid', wish: 'the peer named something', actual: 'it is empty' }];
}

/** portNumber, namedPort (resolved on the destination pod for the connection's protocol) or portRange; protocol defaults to TCP. */
export function adminPortDifferences(p: AdminPort, port: number, protocol: Protocol, destination: PolicyEndpoint): Difference[] {
  if (p.portNumber) {
    const proto = p.portNumber.protocol ?? 'TCP';
    const out: Difference[] = [];
    if (proto !== protocol) out.push({ kind: 'protocol', wish: `the connection were ${proto}`, actual: `it is ${protocol}` });
    if (p.portNumber.port !== port) out.push({ kind: 'port', wish: `the port were ${p.portNumber.port}`, actual: `it is ${port}` });
    return out;
  }
  if (p.portRange) {
    const proto = p.portRange.protocol ?? 'TCP';
    const out: Difference[] = [];
    if (proto !== protocol) out.push({ kind: 'protocol', wish: `the connection were ${proto}`, actual: `it is ${protocol}` });
    if (port < p.portRange.start || port > p.portRange.end) {
      out.push({ kind: 'port', wish: `the port were in ${p.portRange.start}-${p.portRange.end}`, actual: `it is ${port}` });
    }
    return out;
  }
  if (p.namedPort !== undefined) {
    if (destination.kind !== 'pod') {
      return [{ kind: 'named-port', wish: `the destination were a pod declaring \`${p.namedPort}\``, actual: `${endpointName(destination)} is not a pod` }];
    }
    const declared = podPorts(destination.pod).find((c) => c.name === p.namedPort && c.protocol === protocol);
    if (!declared) {
      return [{ kind: 'named-port', wish: `${endpointName(destination)} declared a ${protocol} port named \`${p.namedPort}\``, actual: 'it declares none' }];
    }
    return declared.containerPort === port ? [] : [{ kind: 'port', wish: `the port were ${declared.containerPort} (\`${p.namedPort}\`)`, actual: `it is ${port}` }];
  }
  return [{ kind: 'invalid', wish: 'the ports item named a port', actual: 'it is empty' }];
}

export function validActions(kind: NormalizedAdminPolicy['kind']): string[] {
  return kind === 'AdminNetworkPolicy' ? ['Allow', 'Deny', 'Pass'] : ['Allow', 'Deny'];
}

/** The rules of one admin policy for the direction; the first match decides. */
export function explainAdminPolicy(
  policy: NormalizedAdminPolicy,
  dir: Direction,
  subject: PodEndpoint,
  other: PolicyEndpoint,
  port: number,
  protocol: Protocol,
  facts: AdminPeerFacts,
): PolicyExplanation {
  const who = dir === 'ingress' ? 'the source' : 'the destination';
  const destination = dir === 'ingress' ? subject : other;
  const rules: RuleExplanation[] = [];
  let decided: number | null = null;
  policy[dir].forEach((rule, index) => {
    const peers = (dir === 'ingress' ? rule.from : rule.to) ?? [];
    // An admin rule must name peers (minItems 1): an empty list matches nothing.
    const peer = peers.length ? bestOf(peers, (p) => adminPeerDifferences(p, other, who, facts)) : { index: null, differences: [{ kind: 'invalid' as const, wish: 'the rule named peers', actual: 'it names none' }] };
    const portMatch = bestOf(rule.ports, (p) => adminPortDifferences(p, port, protocol, destination));
    const differences = [...peer.differences, ...portMatch.differences];
    if (!validActions(policy.kind).includes(rule.action)) {
      differences.unshift({ kind: 'invalid', wish: 'the rule had a valid action', actual: `"${String(rule.action)}" is not one, so the rule matches nothing` });
    }
    const matched = differences.length === 0 && decided === null;
    if (differences.length === 0 && decided === null) decided = index;
    const label = rule.name ? `rule ${index} (${rule.name})` : `rule ${index}`;
    const summary =
      differences.length === 0
        ? decided === index
          ? `${label} matches: ${rule.action}`
          : `${label} also matches, but an earlier rule decided`
        : `${label} (${rule.action}) would match if ${phraseDifferences(differences).wish}; ${phraseDifferences(differences).actual}`;
    rules.push({
      index,
      ...(rule.name ? { name: rule.name } : {}),
      action: rule.action,
      matched,
      peer: peer.index,
      port: portMatch.index,
      differences,
      summary,
    });
  });
  return { kind: policy.kind, namespace: null, name: policy.name, rule: decided, ...(policy.kind === 'AdminNetworkPolicy' ? { priority: policy.priority } : {}), rules };
}
