// One connection, both directions, with reasons: the verdict is allowed iff the source's egress and
// the destination's ingress both allow it (reference §1). Each direction is a chain of named effects:
// AdminNetworkPolicy → NetworkPolicy (or the pod's own node) → BaselineAdminNetworkPolicy → default.
import type { Cluster } from '../model/cluster.js';
import type { Pod, Protocol, Service } from '../model/k8s.js';
import { matchesMap } from '../model/labels.js';
import { resolveNamedPort } from '../model/pod.js';
import { canonicalIP } from '../model/ip.js';
import { missDistance, phraseDifferences } from './matchers.js';
import { explainAdminPolicy, normalizeAdminPolicy, sortAdminPolicies, subjectMatches, type NormalizedAdminPolicy } from './admin-policy.js';
import { buildPolicyContext, endpointName, ipEndpoint, nodeEndpoint, podEndpoint, summarizeEndpoint, type PolicyContext } from './endpoint.js';
import { appliesTo, explainNetworkPolicy, normalizePolicy, type NormalizedPolicy, type PodEndpoint } from './network-policy.js';
import type {
  ConnectionExplanation,
  Direction,
  DirectionExplanation,
  NearMiss,
  PolicyEndpoint,
  PolicyExplanation,
  ServiceEndpointExplanation,
  ServiceExplanation,
  Step,
} from './types.js';

/** A side of the connection, already resolved to an object by the caller. */
export type ConnectionEnd =
  | { kind: 'pod'; pod: Pod }
  | { kind: 'node'; name: string }
  | { kind: 'ip'; ip: string }
  | { kind: 'service'; service: Service };

export interface ConnectionQuery {
  source: ConnectionEnd;
  destination: ConnectionEnd;
  port: number;
  protocol?: Protocol;
}

/** Everything evaluation needs, read once from the cluster; reuse it for many connections. */
export interface PolicyEngine {
  ctx: PolicyContext;
  policiesByNamespace: Map<string, NormalizedPolicy[]>;
  admin: NormalizedAdminPolicy[];
  baseline: NormalizedAdminPolicy[];
}

export function buildPolicyEngine(cluster: Cluster): PolicyEngine {
  const policiesByNamespace = new Map<string, NormalizedPolicy[]>();
  for (const np of cluster.networkPolicies) {
    const n = normalizePolicy(np);
    const list = policiesByNamespace.get(n.namespace) ?? [];
    list.push(n);
    policiesByNamespace.set(n.namespace, list);
  }
  for (const list of policiesByNamespace.values()) list.sort((a, b) => a.name.localeCompare(b.name));
  const admin = sortAdminPolicies(cluster.adminNetworkPolicies.map(normalizeAdminPolicy).filter((p) => p !== null));
  // Only the BaselineAdminNetworkPolicy named "default" takes effect (the API allows no other name).
  const baseline = cluster.baselineAdminNetworkPolicies
    .filter((b) => b.metadata.name === 'default')
    .map(normalizeAdminPolicy)
    .filter((p) => p !== null);
  return { ctx: buildPolicyContext(cluster), policiesByNamespace, admin, baseline };
}

export function endpointOf(engine: PolicyEngine, end: Exclude<ConnectionEnd, { kind: 'service' }>): PolicyEndpoint {
  switch (end.kind) {
    case 'pod':
      return podEndpoint(engine.ctx, end.pod);
    case 'node':
      return nodeEndpoint(engine.ctx, end.name);
    case 'ip':
      return ipEndpoint(engine.ctx, end.ip);
  }
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function nearMissMessage(key: string, differences: NearMiss['differences']): string {
  return `\`${key}\` would allow this if ${phraseDifferences(differences).wish}; ${phraseDifferences(differences).actual}`;
}

/** The rule that would have allowed it with the fewest differences (ties: the closest label values, then policy and rule order). */
function findNearestMiss(policies: PolicyExplanation[]): NearMiss | undefined {
  let best: NearMiss | undefined;
  for (const p of policies) {
    for (const r of p.rules) {
      if (r.matched || r.action !== 'Allow' || r.differences.length === 0) continue;
      if (r.differences.some((d) => d.kind === 'invalid')) continue;
      if (!best || missDistance(r.differences) < missDistance(best.differences)) {
        const key = p.namespace ? `${p.namespace}/${p.name}` : p.name;
        best = { kind: p.kind, policy: key, rule: r.index, differences: r.differences, message: nearMissMessage(key, r.differences) };
      }
    }
  }
  return best;
}

function keyOf(p: PolicyExplanation): string {
  return p.namespace ? `${p.namespace}/${p.name}` : p.name;
}

/** One direction: egress of the source (subject) towards the destination, or ingress of the destination from the source. */
export function evaluateDirection(
  engine: PolicyEngine,
  dir: Direction,
  subjectEnd: PolicyEndpoint,
  other: PolicyEndpoint,
  port: number,
  protocol: Protocol,
): DirectionExplanation {
  const subject = endpointName(subjectEnd);
  const dirWord = dir === 'ingress' ? `ingress to ${subject} from ${endpointName(other)}` : `egress from ${subject} to ${endpointName(other)}`;
  const what = `${dirWord} on ${protocol} port ${port}`;
  if (subjectEnd.kind !== 'pod') {
    const message = `${subject} is not a pod: no policy selects it, so nothing restricts its ${dir}.`;
    return { direction: dir, allowed: true, isolated: false, decidedBy: 'not-a-pod', subject, policies: [], reason: message, steps: [{ effect: 'not-a-pod', message }] };
  }
  const pod: PodEndpoint = subjectEnd;
  const steps: Step[] = [];
  const policies: PolicyExplanation[] = [];
  const facts = { nodeLabels: (node: string) => engine.ctx.nodeLabels(node) };

  // 1. AdminNetworkPolicies, lowest priority number first; the first matching rule decides or passes.
  for (const anp of engine.admin) {
    if (!subjectMatches(anp.subject, pod) || anp[dir].length === 0) continue;
    const ex = explainAdminPolicy(anp, dir, pod, other, port, protocol, facts);
    policies.push(ex);
    if (ex.rule === null) continue;
    const rule = anp[dir][ex.rule]!;
    const label = `${anp.name} (priority ${anp.priority}) rule ${ex.rule}${rule.name ? ` "${rule.name}"` : ''}`;
    if (rule.action === 'Pass') {
      steps.push({ effect: 'admin-pass', policy: anp.name, rule: ex.rule, message: `AdminNetworkPolicy ${label} passes ${what} on to NetworkPolicy.` });
      break;
    }
    const allowed = rule.action === 'Allow';
    const message = `AdminNetworkPolicy ${label} ${allowed ? 'allows' : 'denies'} ${what}; NetworkPolicies cannot override it.`;
    steps.push({ effect: allowed ? 'admin-allow' : 'admin-deny', policy: anp.name, rule: ex.rule, message });
    const isolated = (engine.policiesByNamespace.get(pod.namespace) ?? []).some((p) => appliesTo(p, pod, dir));
    return { direction: dir, allowed, isolated, decidedBy: 'admin-network-policy', subject, policies, reason: cap(message), steps };
  }

  // 2. NetworkPolicy: isolated iff some policy applies; then allowed iff some rule of one of them allows.
  const applying = (engine.policiesByNamespace.get(pod.namespace) ?? []).filter((p) => appliesTo(p, pod, dir));
  if (applying.length > 0) {
    const names = applying.map((p) => p.key);
    steps.push({ effect: 'isolated', message: `${subject} is isolated for ${dir}: selected by ${names.join(', ')}.` });
    const npEx = applying.map((p) => explainNetworkPolicy(p, dir, pod, other, port, protocol));
    policies.push(...npEx);
    // Reference §7: traffic between a pod and its own node is always allowed.
    if (other.kind === 'node' && pod.nodeName !== undefined && other.name === pod.nodeName) {
      const message = `${cap(what)} is allowed: traffic between a pod and the node it runs on (${pod.nodeName}) is always allowed.`;
      steps.push({ effect: 'own-node', message });
      return { direction: dir, allowed: true, isolated: true, decidedBy: 'own-node', subject, policies, reason: message, steps };
    }
    const hit = npEx.find((p) => p.rule !== null);
    if (hit) {
      const summary = hit.rules[hit.rule!]!.summary;
      const message = `${cap(what)} is allowed by ${keyOf(hit)}: ${summary}.`;
      steps.push({ effect: 'rule-allows', policy: keyOf(hit), rule: hit.rule!, message });
      return { direction: dir, allowed: true, isolated: true, decidedBy: 'network-policy', subject, policies, reason: message, steps };
    }
    const ruleCount = npEx.reduce((n, p) => n + p.rules.length, 0);
    const message =
      ruleCount === 0
        ? `${cap(what)} is denied: ${names.join(', ')} ${names.length === 1 ? 'selects' : 'select'} ${subject} for ${dir} and ${names.length === 1 ? 'has' : 'have'} no ${dir} rules.`
        : `${cap(what)} is denied: ${names.length === 1 ? `${names[0]} selects` : `${names.length} policies (${names.join(', ')}) select`} ${subject} for ${dir}, and ${ruleCount === 1 ? 'their only rule does not match' : `none of their ${ruleCount} rules matches`}.`;
    steps.push({ effect: 'no-rule-allows', message });
    const nearestMiss = findNearestMiss(npEx);
    return { direction: dir, allowed: false, isolated: true, decidedBy: 'network-policy', subject, policies, reason: message, steps, ...(nearestMiss ? { nearestMiss } : {}) };
  }
  steps.push({ effect: 'not-isolated', message: `No NetworkPolicy selects ${subject} for ${dir}.` });

  // 3. BaselineAdminNetworkPolicy, for pods that NetworkPolicy leaves unisolated.
  for (const banp of engine.baseline) {
    if (!subjectMatches(banp.subject, pod) || banp[dir].length === 0) continue;
    const ex = explainAdminPolicy(banp, dir, pod, other, port, protocol, facts);
    policies.push(ex);
    if (ex.rule === null) continue;
    const rule = banp[dir][ex.rule]!;
    const allowed = rule.action === 'Allow';
    const message = `${cap(what)} is ${allowed ? 'allowed' : 'denied'} by BaselineAdminNetworkPolicy ${banp.name} rule ${ex.rule}${rule.name ? ` "${rule.name}"` : ''}, since no NetworkPolicy selects ${subject} for ${dir}.`;
    steps.push({ effect: allowed ? 'baseline-allow' : 'baseline-deny', policy: banp.name, rule: ex.rule, message });
    const nearestMiss = allowed ? undefined : findNearestMiss(policies);
    return { direction: dir, allowed, isolated: false, decidedBy: 'baseline-admin-network-policy', subject, policies, reason: message, steps, ...(nearestMiss ? { nearestMiss } : {}) };
  }
  const message = `${cap(what)} is allowed: no NetworkPolicy selects ${subject} for ${dir}, so it is not isolated.`;
  steps.push({ effect: 'default-allow', message });
  return { direction: dir, allowed: true, isolated: false, decidedBy: 'not-isolated', subject, policies, reason: message, steps };
}

/** Source egress and destination ingress for one pair of endpoints. */
export function evaluateEndpoints(engine: PolicyEngine, source: PolicyEndpoint, destination: PolicyEndpoint, port: number, protocol: Protocol): ConnectionExplanation {
  const egress = evaluateDirection(engine, 'egress', source, destination, port, protocol);
  const ingress = evaluateDirection(engine, 'ingress', destination, source, port, protocol);
  const allowed = egress.allowed && ingress.allowed;
  const conn = `${endpointName(source)} → ${endpointName(destination)} on ${protocol} port ${port}`;
  let reason: string;
  if (allowed) reason = `${conn} is allowed: both the source's egress and the destination's ingress allow it.`;
  else if (!egress.allowed && !ingress.allowed) reason = `${conn} is denied on both sides: ${egress.reason} ${ingress.reason}`;
  else reason = `${conn} is denied by the ${egress.allowed ? "destination's ingress" : "source's egress"}: ${(egress.allowed ? ingress : egress).reason}`;
  return { allowed, source: summarizeEndpoint(source), destination: summarizeEndpoint(destination), port, protocol, egress, ingress, reason };
}

/** The pods behind a Service: its EndpointSlices' pod targets, else the pods its selector picks. */
function servicePods(cluster: Cluster, service: Service): Pod[] {
  const ns = service.metadata.namespace ?? 'default';
  const byName = new Map(cluster.pods.filter((p) => (p.metadata.namespace ?? 'default') === ns).map((p) => [p.metadata.name, p]));
  const fromSlices: Pod[] = [];
  for (const slice of cluster.endpointSlices) {
    if ((slice.metadata.namespace ?? 'default') !== ns || slice.metadata.labels?.['kubernetes.io/service-name'] !== service.metadata.name) continue;
    for (const ep of slice.endpoints ?? []) {
      const pod = ep.targetRef?.kind === 'Pod' && ep.targetRef.name ? byName.get(ep.targetRef.name) : undefined;
      if (pod && !fromSlices.includes(pod)) fromSlices.push(pod);
    }
  }
  if (fromSlices.length) return fromSlices;
  const selector = service.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  return [...byName.values()].filter((p) => matchesMap(selector, p.metadata.labels));
}

/**
 * A Service destination: the Service port becomes each endpoint pod's target port (a number, or a
 * name resolved on THAT pod for the protocol), and each pod is evaluated on its own. Policy ports
 * are pod ports, never Service ports (reference §9).
 */
export function evaluateServiceConnection(
  engine: PolicyEngine,
  source: PolicyEndpoint,
  service: Service,
  port: number,
  protocol: Protocol,
): ServiceExplanation {
  const ns = service.metadata.namespace ?? 'default';
  const sp = (service.spec?.ports ?? []).find((p) => p.port === port && (p.protocol ?? 'TCP') === protocol);
  const target = sp ? (sp.targetPort ?? sp.port) : port;
  const endpoints: ServiceEndpointExplanation[] = [];
  for (const pod of servicePods(engine.ctx.cluster, service)) {
    let targetPort: number | undefined;
    let targetPortFrom: string;
    if (typeof target === 'number') {
      targetPort = target;
      targetPortFrom = sp ? `Service port ${port} → targetPort ${target}` : `no Service port ${port}/${protocol}; evaluated as pod port ${port}`;
    } else if (/^\d+$/.test(target)) {
      targetPort = Number(target);
      targetPortFrom = `Service port ${port} → targetPort ${target}`;
    } else {
      targetPort = resolveNamedPort(pod, target, protocol);
      targetPortFrom = targetPort === undefined
        ? `Service port ${port} → targetPort "${target}", which ${pod.metadata.name} does not declare for ${protocol}`
        : `Service port ${port} → targetPort "${target}" = ${targetPort} on ${pod.metadata.name}`;
    }
    const dst = podEndpoint(engine.ctx, pod);
    if (targetPort === undefined) {
      // No port to deliver to: the Service does not forward this port to this pod at all.
      const ex = evaluateEndpoints(engine, source, dst, port, protocol);
      endpoints.push({ ...ex, allowed: false, reason: `${targetPortFrom}: kube-proxy has no endpoint port for it, so traffic cannot reach this pod.`, targetPort: 0, targetPortFrom });
      continue;
    }
    endpoints.push({ ...evaluateEndpoints(engine, source, dst, targetPort, protocol), targetPort, targetPortFrom });
  }
  return { namespace: ns, name: service.metadata.name, port, protocol, targetPort: target, endpoints };
}

export interface EvaluateOptions {
  /** A prebuilt engine, to evaluate many connections against one cluster without re-reading it. */
  engine?: PolicyEngine;
}

/** The verdict for one connection, with its reasons; a Service destination is evaluated per endpoint pod. */
export function evaluateConnection(cluster: Cluster, query: ConnectionQuery, options: EvaluateOptions = {}): ConnectionExplanation & { service?: ServiceExplanation } {
  const engine = options.engine ?? buildPolicyEngine(cluster);
  const protocol = query.protocol ?? 'TCP';
  if (query.source.kind === 'service') {
    // Traffic leaves a Service's pods, never a Service: evaluate the source as an IP-less endpoint name.
    throw new TypeError('a Service cannot be a source; pass one of its pods');
  }
  const source = endpointOf(engine, query.source);
  if (query.destination.kind !== 'service') {
    return evaluateEndpoints(engine, source, endpointOf(engine, query.destination), query.port, protocol);
  }
  const service = evaluateServiceConnection(engine, source, query.destination.service, query.port, protocol);
  const svcName = `svc/${service.namespace}/${service.name}`;
  const denied = service.endpoints.filter((e) => !e.allowed);
  const pick = denied[0] ?? service.endpoints[0];
  const destination = { kind: 'service' as const, name: svcName, ips: (query.destination.service.spec?.clusterIPs ?? [query.destination.service.spec?.clusterIP ?? '']).filter(Boolean).map(canonicalIP) };
  if (!pick) {
    const message = `${svcName} has no endpoint pods, so there is nothing to evaluate: traffic to it cannot be delivered.`;
    const none: DirectionExplanation = { direction: 'ingress', allowed: false, isolated: false, decidedBy: 'not-isolated', subject: svcName, policies: [], reason: message, steps: [] };
    const eg = evaluateDirection(engine, 'egress', source, { kind: 'external', ip: destination.ips[0] ?? '0.0.0.0' }, query.port, protocol);
    return { allowed: false, source: summarizeEndpoint(source), destination, port: query.port, protocol, egress: eg, ingress: none, reason: message, service };
  }
  const total = service.endpoints.length;
  const reason =
    denied.length === 0
      ? total === 1
        ? `The only endpoint pod of ${svcName} allows this connection on its target port.`
        : `All ${total} endpoint pods of ${svcName} allow this connection (each evaluated on its own target port).`
      : `${denied.length} of ${total} endpoint pod${total === 1 ? '' : 's'} of ${svcName} deny this connection; for example ${pick.destination.name}: ${pick.reason}`;
  return {
    allowed: denied.length === 0,
    source: summarizeEndpoint(source),
    destination,
    port: query.port,
    protocol,
    egress: pick.egress,
    ingress: pick.ingress,
    reason,
    service,
  };
}
