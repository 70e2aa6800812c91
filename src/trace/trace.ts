// One connection walked the way the packet goes: the name is resolved, the Service picks a port, kube-
// proxy picks an endpoint, the source's egress policy, the node's rules, the route to the endpoint's
// node, the endpoint's ingress policy and the conntrack table each have their say, and the first hop
// that stops the packet is named with its evidence and what to do. A Service with several endpoints
// branches: each endpoint's path is judged on its own and weighted by kube-proxy's probability.
// Pure: the cluster, the node state and the DNS answer are handed in, already read.
import type { Cluster } from '../model/cluster.js';
import type { Finding } from '../model/finding.js';
import { canonicalIP, cidrContains, ipFamily, isLoopbackIP, joinHostPort, sameIP, type IPFamily } from '../model/ip.js';
import type { Node, Pod, Protocol, Service, ServicePort } from '../model/k8s.js';
import { podIPs } from '../model/pod.js';
import { diffEndpoints } from '../endpoints/diff.js';
import { findStaleEntry, buildServiceEndpointIndex } from '../netfilter/conntrack/stale.js';
import { simulateIptables } from '../netfilter/iptables/simulate.js';
import { simulateIpvs } from '../netfilter/ipvs/index.js';
import { simulateNft } from '../netfilter/nft/index.js';
import { lookupRoute } from '../netfilter/routes/index.js';
import type { Outcome, Packet, TraceResult } from '../netfilter/types.js';
import { buildPolicyEngine, evaluateDirection, type PolicyEngine } from '../policy/evaluate.js';
import { endpointName, ipEndpoint, nodeEndpoint, podEndpoint } from '../policy/endpoint.js';
import type { PolicyEndpoint } from '../policy/types.js';
import type { TraceNodeState } from './node-state.js';
import { recordingPolicy, type TraceLookups } from './scope.js';
import { STAGES, type Branch, type Fate, type Hop, type HopStatus, type Stage, type TraceEnd, type TraceReport, type TraceVerdict } from './types.js';

export type TraceSource = { kind: 'pod'; pod: Pod } | { kind: 'node'; node: Node } | { kind: 'ip'; ip: string };

/** The answer to a DNS name, from a server or judged from the records the API implies. */
export interface NameResolution {
  name: string;
  /** The name that answered after search-list expansion, or null. */
  fqdn: string | null;
  rcode: string;
  addresses: string[];
  /** Whether a DNS server answered, or the answer was judged from the API's records alone. */
  isFromServer: boolean;
  /** The servers asked (`HOST:PORT`, or `NS/POD:PORT` through a port-forward); empty when none was. */
  servers: string[];
  /** What the API implies for the name, in words (`NAME A 10.96.0.1`, or that it does not exist). */
  apiImplies: string;
  /** The DNS engine's findings where a server's answer is not what the API implies (empty without a server). */
  disagreements: Finding[];
  evidence: string[];
  findings: Finding[];
  /** The Service the name belongs to (`NAME.NS.svc.DOMAIN`), which the connection then goes through. */
  service?: { namespace: string; name: string };
}

export type TraceDestination =
  | { kind: 'service'; service: Service }
  | { kind: 'pod'; pod: Pod }
  | { kind: 'node'; node: Node }
  | { kind: 'ip'; ip: string }
  | { kind: 'dns'; name: string; resolution: NameResolution | null; unavailable?: string };

export interface TraceInput {
  cluster: Cluster;
  source: TraceSource;
  destination: TraceDestination;
  /** The port asked for: a Service port, a NodePort on a node address, or a pod port. */
  port?: number;
  protocol?: Protocol;
  /** State of the node the packet meets first (see `rulesNodeOf`); undefined when none was read. */
  nodeState?: TraceNodeState | null;
  /**
   * State of the node whose NodePort the packet is sent to, when that is another node (see
   * `nodePortNodeOf`): the first node forwards it untranslated, this one's kube-proxy translates it.
   */
  nodePortNodeState?: TraceNodeState | null;
  /** A prebuilt policy engine, to trace many connections against one cluster. */
  policy?: PolicyEngine;
  /** Where to record the lookups the trace makes cluster-wide (for a partial read: src/trace/scope.ts). */
  lookups?: TraceLookups;
}

// ---- where things are --------------------------------------------------------------------------------------

const nsOf = (o: { metadata: { namespace?: string } }): string => o.metadata.namespace ?? 'default';
const podKey = (p: Pod): string => `${nsOf(p)}/${p.metadata.name}`;
const svcKey = (s: Service): string => `svc/${nsOf(s)}/${s.metadata.name}`;
/** A share of connections as people read it: 50%, 33.3%. */
export function percent(p: number): string {
  const v = Math.round(p * 1000) / 10;
  return `${v}%`;
}
const pct = percent;

function nodeIPs(node: Node): string[] {
  return (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => canonicalIP(a.address));
}

function clusterIPsOf(svc: Service): string[] {
  const ips = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []);
  return ips.filter((ip) => ip && ip !== 'None').map(canonicalIP);
}

/**
 * The node whose kube-proxy rules the packet meets first: a pod's own node, a node itself, or for a
 * client outside the cluster the node it sends to (a NodePort). Null when no node is known.
 */
export function rulesNodeOf(cluster: Cluster, source: TraceSource, destination: TraceDestination): string | null {
  if (source.kind === 'pod') return source.pod.spec?.nodeName ?? null;
  if (source.kind === 'node') return source.node.metadata.name;
  if (destination.kind === 'node') return destination.node.metadata.name;
  if (destination.kind === 'ip') {
    const ip = canonicalIP(destination.ip);
    return cluster.nodes.find((n) => nodeIPs(n).includes(ip))?.metadata.name ?? null;
  }
  return null;
}

/**
 * The node whose NodePort `port` the packet is addressed to, when it is not the node the packet meets
 * first (a pod or a node connecting to another node's NodePort): kube-proxy's NodePort rules match the
 * node's own addresses only, so that node translates the packet on arrival. Null otherwise.
 */
export function nodePortNodeOf(cluster: Cluster, source: TraceSource, destination: TraceDestination, port: number | undefined, protocol: Protocol): string | null {
  if (port === undefined) return null;
  const first = rulesNodeOf(cluster, source, destination);
  const target = destination.kind === 'node' ? destination.node : destination.kind === 'ip' ? cluster.nodes.find((n) => nodeIPs(n).includes(canonicalIP(destination.ip))) : undefined;
  if (first === null || target === undefined || target.metadata.name === first) return null;
  return serviceOfNodePort(cluster, port, protocol) !== undefined ? target.metadata.name : null;
}

/** The Service whose NodePort is `port` for `protocol`, if any. */
function serviceOfNodePort(cluster: Cluster, port: number, protocol: Protocol): Service | undefined {
  return cluster.services.find((s) => (s.spec?.ports ?? []).some((p) => p.nodePort === port && (p.protocol ?? 'TCP') === protocol));
}

/** What an address is in this cluster: a Service's ClusterIP or external IP, a pod, a node, or outside. */
type Classified =
  | { kind: 'service'; service: Service; ip: string; role: 'ClusterIP' | 'external IP' | 'load-balancer IP' }
  | { kind: 'nodeport'; service: Service; node: Node; ip: string }
  | { kind: 'pod'; pod: Pod; ip: string }
  | { kind: 'node'; node: Node; ip: string }
  | { kind: 'external'; ip: string };

function classifyIP(cluster: Cluster, rawIP: string, port: number | undefined, protocol: Protocol): Classified {
  const ip = canonicalIP(rawIP);
  for (const svc of cluster.services) {
    if (clusterIPsOf(svc).includes(ip)) return { kind: 'service', service: svc, ip, role: 'ClusterIP' };
    if ((svc.spec?.externalIPs ?? []).map(canonicalIP).includes(ip)) return { kind: 'service', service: svc, ip, role: 'external IP' };
    if ((svc.status?.loadBalancer?.ingress ?? []).some((i) => i.ip && canonicalIP(i.ip) === ip)) return { kind: 'service', service: svc, ip, role: 'load-balancer IP' };
  }
  const node = cluster.nodes.find((n) => nodeIPs(n).includes(ip));
  if (node) {
    const svc = port === undefined ? undefined : serviceOfNodePort(cluster, port, protocol);
    if (svc) return { kind: 'nodeport', service: svc, node, ip };
    return { kind: 'node', node, ip };
  }
  const pod = cluster.pods.find((p) => !p.spec?.hostNetwork && podIPs(p).map(canonicalIP).includes(ip));
  if (pod) return { kind: 'pod', pod, ip };
  return { kind: 'external', ip };
}

// ---- endpoints as kube-proxy picks them ---------------------------------------------------------------------

interface Candidate {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  node: string | null;
  pod: Pod | null;
}

/**
 * The endpoints of one Service port. `sp.port` of a headless Service's port that is not in its spec
 * (`isUnlisted`): every address of its endpoints, on that port, as a client that resolved the name
 * connects to them (a headless Service's ports only name its SRV records).
 */
function candidatesOf(cluster: Cluster, svc: Service, sp: ServicePort, family: IPFamily | null, isUnlisted = false): Candidate[] {
  const ns = nsOf(svc);
  const protocol = sp.protocol ?? 'TCP';
  // A dual-stack Service: kube-proxy sends each ClusterIP to the endpoints of its own family only.
  const isOfFamily = (ip: string): boolean => family === null || ipFamily(ip) === family;
  const pods = new Map(cluster.pods.filter((p) => nsOf(p) === ns).map((p) => [p.metadata.name, p]));
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const slices = cluster.endpointSlices.filter((s) => nsOf(s) === ns && s.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name);
  for (const slice of slices) {
    if (family !== null && slice.addressType !== (family === 4 ? 'IPv4' : 'IPv6')) continue;
    const port = isUnlisted ? { port: sp.port } : (slice.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? '') && (p.protocol ?? 'TCP') === protocol);
    if (!port?.port) continue;
    for (const e of slice.endpoints ?? []) {
      const c = e.conditions ?? {};
      const ready = c.ready !== false;
      for (const a of e.addresses) {
        const ip = canonicalIP(a);
        if (seen.has(`${ip}|${port.port}`)) continue;
        seen.add(`${ip}|${port.port}`);
        const pod = e.targetRef?.kind === 'Pod' && e.targetRef.name ? (pods.get(e.targetRef.name) ?? null) : null;
        out.push({ ip, port: port.port, ready, serving: c.serving ?? ready, terminating: c.terminating === true, node: e.nodeName ?? pod?.spec?.nodeName ?? null, pod });
      }
    }
  }
  if (slices.length > 0) return out;
  // No EndpointSlices in the source: the legacy Endpoints object (what a snapshot of old clusters holds).
  for (const ep of cluster.endpoints.filter((e) => nsOf(e) === ns && e.metadata.name === svc.metadata.name)) {
    for (const subset of ep.subsets ?? []) {
      const port = isUnlisted ? { port: sp.port } : (subset.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? '') && (p.protocol ?? 'TCP') === protocol);
      if (!port) continue;
      for (const [list, ready] of [[subset.addresses ?? [], true], [subset.notReadyAddresses ?? [], false]] as const) {
        for (const a of list) {
          if (!isOfFamily(a.ip)) continue;
          const pod = a.targetRef?.kind === 'Pod' && a.targetRef.name ? (pods.get(a.targetRef.name) ?? null) : null;
          out.push({ ip: canonicalIP(a.ip), port: port.port, ready, serving: ready, terminating: false, node: a.nodeName ?? pod?.spec?.nodeName ?? null, pod });
        }
      }
    }
  }
  return out;
}

// ---- hop helpers --------------------------------------------------------------------------------------------

function hop(stage: Stage, status: HopStatus, summary: string, evidence: string[] = [], extra: { remedy?: string; fate?: Fate } = {}): Hop {
  return { stage, status, summary, evidence, ...(extra.remedy !== undefined ? { remedy: extra.remedy } : {}), ...(extra.fate !== undefined ? { fate: extra.fate } : {}) };
}

function policyHop(stage: 'policy-egress' | 'policy-ingress', ex: ReturnType<typeof evaluateDirection>): Hop {
  const evidence = ex.steps.map((s) => s.message);
  if (ex.allowed) return hop(stage, 'ok', ex.reason, evidence);
  const remedy = ex.nearestMiss ? `The nearest rule: ${ex.nearestMiss.message}.` : stage === 'policy-egress' ? `Add an egress rule to a policy selecting ${ex.subject} that allows this destination and port.` : `Add an ingress rule to a policy selecting ${ex.subject} that allows this source and port.`;
  // NetworkPolicy implementations drop denied packets silently: the client sees a timeout.
  return hop(stage, 'fail', ex.reason, evidence, { remedy, fate: 'dropped' });
}

function simulate(state: TraceNodeState, packet: Packet): TraceResult {
  const rules = state.rules!;
  const options = { localIPs: state.localIPs };
  if (rules.mode === 'iptables') return simulateIptables(rules.dump, packet, options);
  if (rules.mode === 'nftables') return simulateNft(rules.ruleset, packet, options);
  return simulateIpvs({ ipvs: rules.ipvs, ...(rules.dump ? { iptables: rules.dump } : {}), ...(rules.ipsets ? { ipsets: rules.ipsets } : {}) }, packet, { ...options, ...(rules.ipsets ? { ipsets: rules.ipsets } : {}) });
}

function pathEvidence(o: Outcome, max = 6): string[] {
  const steps = o.path.filter((s) => s.effect !== undefined && s.effect !== 'jump' && s.effect !== 'goto' ? true : /KUBE-(SVC|SEP|SVL|EXT|FW|NODEPORTS|SERVICES|EXTERNAL)/.test(s.rule));
  const shown = steps.slice(-max);
  return shown.map((s) => `${s.table} ${s.chain} line ${s.line}: ${s.rule}${s.effect ? `  (${s.effect})` : ''}`);
}

function fateOf(verdict: Outcome['verdict']): Fate {
  return verdict === 'reject' ? 'rejected' : verdict === 'drop' ? 'dropped' : 'unknown';
}

const dnatIP = (dnat: string): string => canonicalIP(dnat.slice(0, dnat.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1'));

// ---- the walk -----------------------------------------------------------------------------------------------


function sourceEnd(source: TraceSource): TraceEnd {
  if (source.kind === 'pod') {
    return { kind: 'pod', name: podKey(source.pod), ips: podIPs(source.pod).map(canonicalIP), ...(source.pod.spec?.nodeName ? { node: source.pod.spec.nodeName } : {}) };
  }
  if (source.kind === 'node') return { kind: 'node', name: `node/${source.node.metadata.name}`, ips: nodeIPs(source.node), node: source.node.metadata.name };
  return { kind: 'ip', name: canonicalIP(source.ip), ips: [canonicalIP(source.ip)] };
}

/** Source address and hook: a pod's packet enters its node's PREROUTING; a node's (or hostNetwork pod's) is made in OUTPUT. */
function packetFrom(source: TraceSource, srcEnd: TraceEnd, dstIP: string, port: number, protocol: Protocol): Packet | null {
  const family = dstIP.includes(':') ? 6 : 4;
  const pick = (ips: string[]): string | undefined => ips.find((ip) => (ip.includes(':') ? 6 : 4) === family);
  const isLocalOrigin = source.kind === 'node' || (source.kind === 'pod' && source.pod.spec?.hostNetwork === true);
  // The kernel sends a node's packet to a loopback address from the loopback address (the route is via lo).
  if (isLocalOrigin && isLoopbackIP(dstIP)) return { src: family === 4 ? '127.0.0.1' : '::1', dst: dstIP, dport: port, protocol: protocol.toLowerCase() as Packet['protocol'], hook: 'output' };
  const src = pick(source.kind === 'pod' && source.pod.spec?.hostNetwork && source.pod.status?.hostIP ? [source.pod.status.hostIP, ...srcEnd.ips] : srcEnd.ips);
  if (!src) return null;
  return { src, dst: dstIP, dport: port, protocol: protocol.toLowerCase() as Packet['protocol'], hook: isLocalOrigin ? 'output' : 'prerouting' };
}

/** The node whose own stack sends the packet: a node source, or the node of a host-network pod; null otherwise. */
function localOriginNode(cluster: Cluster, source: TraceSource): Node | null {
  if (source.kind === 'node') return source.node;
  if (source.kind !== 'pod' || source.pod.spec?.hostNetwork !== true) return null;
  return cluster.nodes.find((n) => n.metadata.name === source.pod.spec?.nodeName) ?? null;
}

/**
 * Why a connection from a pod (not on the host network) to `ip` stays inside that pod, or null when it
 * leaves it: a loopback address, or one of the pod's own addresses, is delivered by the pod's kernel over
 * its loopback interface, to whatever listens there (any container of the pod).
 */
function insideSourcePod(source: TraceSource, ip: string, port: number): { pod: Pod; summary: string } | null {
  if (source.kind !== 'pod' || source.pod.spec?.hostNetwork === true) return null;
  const { pod } = source;
  const name = podKey(pod);
  if (isLoopbackIP(ip)) return { pod, summary: `${ip} is ${name}'s own loopback address: the connection stays inside the pod's network namespace and reaches whatever listens on port ${port} there, in any of its containers` };
  if (podIPs(pod).some((own) => sameIP(own, ip))) return { pod, summary: `${ip} is ${name}'s own address: the pod's kernel delivers the connection over its loopback interface, inside the pod, to whatever listens on port ${port} there` };
  return null;
}

export function traceConnection(request: TraceInput): TraceReport {
  let input = request;
  const { cluster } = input;
  const protocol: Protocol = input.protocol ?? 'TCP';
  const lookups = request.lookups;
  const built = input.policy ?? buildPolicyEngine(cluster);
  const policy = lookups ? recordingPolicy(built, lookups) : built;
  const classify = (ip: string, port: number | undefined): Classified => {
    lookups?.wholeCluster.push(`the address ${ip} was classified among every Service, node and pod`);
    return classifyIP(cluster, ip, port, protocol);
  };
  const src = sourceEnd(input.source);
  const hops: Hop[] = [];
  const findings: Finding[] = [];
  const notJudged: Stage[] = [];
  const state = input.nodeState ?? null;
  const rulesNode = rulesNodeOf(cluster, input.source, input.destination);
  if (state) findings.push(...state.findings);

  // resolve: what SRC and DST are.
  const resolveEvidence = [`source ${src.name}${src.ips.length ? ` (${src.ips.join(', ')})` : ''}${src.node ? ` on node ${src.node}` : ''}`];
  let target: Classified;
  let dst: TraceEnd;
  const d = input.destination;
  if (d.kind === 'dns') {
    dst = { kind: 'dns', name: d.name, ips: [] };
    const r = d.resolution;
    if (!r) {
      hops.push(hop('resolve', 'skip', `${d.name} was not resolved: ${d.unavailable ?? 'no DNS answer was available'}`, resolveEvidence, { remedy: 'Give the destination as svc/NAME, a pod or an IP.' }));
      notJudged.push('resolve');
      return finish(input, src, dst, hops, [], findings, notJudged);
    }
    findings.push(...r.findings);
    const how = r.isFromServer ? `asked ${r.servers.join(', ')}` : 'judged from the records the API implies (no DNS server was asked)';
    const differs = r.disagreements.length > 0 ? `; the API implies ${r.apiImplies} (${[...new Set(r.disagreements.map((f) => f.code))].join(', ')})` : '';
    const named = r.service ? cluster.services.find((x) => nsOf(x) === r.service!.namespace && x.metadata.name === r.service!.name) : undefined;
    if (r.addresses.length === 0 && !named) {
      const status: HopStatus = 'fail';
      hops.push(hop('resolve', status, `${d.name} does not resolve from ${src.name}: ${r.rcode}; ${how}${differs}`, [...resolveEvidence, ...r.evidence], { remedy: r.disagreements[0]?.hint ?? r.findings.find((f) => f.hint)?.hint ?? `Check the name: a Service is NAME.NAMESPACE (or NAME in the source's namespace).`, fate: 'rejected' }));
      return finish(input, src, dst, hops, [], findings, notJudged);
    }
    dst.ips = r.addresses.map(canonicalIP);
    // A Service's name goes through the Service (a headless one to its endpoints, an ExternalName one nowhere knet follows).
    target = named ? { kind: 'service', service: named, ip: clusterIPsOf(named)[0] ?? '', role: 'ClusterIP' } : classify(r.addresses[0]!, input.port);
    const answer = `${d.name} → ${r.fqdn ?? d.name} → ${r.addresses.join(', ') || 'no address'}${named ? ` (${svcKey(named)})` : ''}, ${how}`;
    if (r.disagreements.length > 0) {
      // The pod connects to what the server answered, which is not what the API says: where it ends, knet cannot say.
      hops.push(hop('resolve', 'fail', `${answer}${differs}`, [...resolveEvidence, ...r.evidence], { remedy: r.disagreements[0]!.hint ?? 'Restart the DNS replica that differs from the API.', fate: 'unknown' }));
    } else {
      hops.push(hop('resolve', r.findings.some((f) => f.severity === 'error') ? 'warn' : 'ok', `${answer}${r.isFromServer ? ', as the API implies' : ''}`, [...resolveEvidence, ...r.evidence]));
    }
  } else {
    if (d.kind === 'service') {
      const ip = clusterIPsOf(d.service)[0];
      target = ip ? { kind: 'service', service: d.service, ip, role: 'ClusterIP' } : { kind: 'service', service: d.service, ip: '', role: 'ClusterIP' };
      dst = { kind: 'service', name: svcKey(d.service), ips: clusterIPsOf(d.service) };
    } else if (d.kind === 'pod') {
      const ip = podIPs(d.pod).map(canonicalIP)[0] ?? '';
      target = d.pod.spec?.hostNetwork ? classify(ip, input.port) : { kind: 'pod', pod: d.pod, ip };
      dst = { kind: 'pod', name: podKey(d.pod), ips: podIPs(d.pod).map(canonicalIP), ...(d.pod.spec?.nodeName ? { node: d.pod.spec.nodeName } : {}) };
    } else if (d.kind === 'node') {
      const ip = nodeIPs(d.node)[0] ?? '';
      target = classify(ip, input.port);
      if (target.kind !== 'nodeport') target = { kind: 'node', node: d.node, ip };
      dst = { kind: 'node', name: `node/${d.node.metadata.name}`, ips: nodeIPs(d.node), node: d.node.metadata.name };
    } else {
      target = classify(d.ip, input.port);
      // kube-proxy (iptables mode) serves NodePorts on 127.0.0.1 too, to the node itself and its host-network pods.
      const here = localOriginNode(cluster, input.source);
      if (target.kind === 'external' && here && isLoopbackIP(d.ip) && input.port !== undefined) {
        const svc = serviceOfNodePort(cluster, input.port, protocol);
        if (svc) target = { kind: 'nodeport', service: svc, node: here, ip: canonicalIP(d.ip) };
      }
      dst = { kind: 'ip', name: canonicalIP(d.ip), ips: [canonicalIP(d.ip)] };
    }
    const what =
      target.kind === 'service' ? `${svcKey(target.service)}${target.ip ? ` (${target.role} ${target.ip})` : ''}`
      : target.kind === 'nodeport' ? `NodePort ${input.port ?? '?'} of ${svcKey(target.service)} on node ${target.node.metadata.name} (${target.ip})`
      : target.kind === 'pod' ? `pod ${podKey(target.pod)} (${target.ip || 'no IP'})${target.pod.spec?.nodeName ? ` on node ${target.pod.spec.nodeName}` : ''}`
      : target.kind === 'node' ? `node ${target.node.metadata.name} (${target.ip})`
      : isLoopbackIP(target.ip) ? `${target.ip}, a loopback address`
      : `${target.ip}, an address outside the cluster's pods, nodes and Services`;
    hops.push(hop('resolve', 'ok', `${src.name} → ${what}`, resolveEvidence));
  }
  if (target.kind === 'pod' && !target.ip) {
    hops.push(hop('endpoints', 'fail', `pod ${podKey(target.pod)} has no IP (phase ${target.pod.status?.phase ?? 'unknown'}): nothing can connect to it`, [], { remedy: `kubectl describe pod -n ${nsOf(target.pod)} ${target.pod.metadata.name}`, fate: 'dropped' }));
    return finish(input, src, dst, hops, [], findings, notJudged);
  }
  if (src.ips.length === 0) {
    hops.push(hop('resolve', 'fail', `${src.name} has no IP address: it cannot send anything`, [], { remedy: 'Pick a running source pod (kubectl get pods -o wide).', fate: 'unknown' }));
    return finish(input, src, dst, hops, [], findings, notJudged);
  }
  // An IPv6 destination from a source with IPv4 addresses only (or the reverse): connect() fails at once.
  // Loopback is not: every pod and node has 127.0.0.1 and ::1 of its own.
  const dstFamily = ipFamily(target.ip);
  if (dstFamily !== null && !isLoopbackIP(target.ip) && !src.ips.some((ip) => ipFamily(ip) === dstFamily)) {
    const other = dstFamily === 4 ? 6 : 4;
    hops.push(hop('resolve', 'fail', `${src.name} has no IPv${dstFamily} address (only ${src.ips.join(', ')}): a connection to ${target.ip} fails at once, the network being unreachable from it`, [], {
      remedy: `Connect to an IPv${other} address of ${target.kind === 'service' || target.kind === 'nodeport' ? svcKey(target.service) : dst.name} (a dual-stack Service has a ClusterIP of each family), or give the source an IPv${dstFamily} address (a dual-stack cluster).`,
      fate: 'rejected',
    }));
    return finish(input, src, dst, hops, [], findings, notJudged);
  }

  // A pod, a node or an outside address: no Service, no endpoints to pick; one branch.
  if (target.kind === 'pod' || target.kind === 'node' || target.kind === 'external') {
    if (input.port === undefined) throw new TraceInputError(`give --port: a connection to ${dst.name} needs a destination port`);
    const inside = insideSourcePod(input.source, target.ip, input.port);
    if (inside !== null) {
      // Never on the wire: no NetworkPolicy, node rule, route or conntrack entry of the node takes part.
      const route = hop('route', 'ok', inside.summary, [`${src.name} sends to ${joinHostPort(target.ip, input.port)} over its own loopback interface (lo)`]);
      hops.push(route);
      return finish(input, src, dst, hops, [{ endpoint: joinHostPort(target.ip, input.port), pod: podKey(inside.pod), node: src.node ?? null, probability: 1, verdict: 'delivered', hops: [route] }], findings, notJudged);
    }
    const endpointPod = target.kind === 'pod' ? target.pod : null;
    const endpointNode = target.kind === 'pod' ? (target.pod.spec?.nodeName ?? null) : target.kind === 'node' ? target.node.metadata.name : null;
    const packet = packetFrom(input.source, src, target.ip, input.port, protocol);
    const sim = packet && state?.rules ? simulate(state, packet) : null;
    const branch = judgeBranch({ input, policy, state, rulesNode, src, sim, endpoint: { ip: target.ip, port: input.port, pod: endpointPod, node: endpointNode }, isService: false, probability: 1 });
    const branches = [branch];
    hops.push(...aggregate(cluster, branches, sim, state, notJudged, null));
    return finish(input, src, dst, hops, branches, findings, notJudged, conntrackHop(input, state, target.ip, input.port, protocol, src, notJudged));
  }

  // A Service: its port, its endpoints, then one branch per endpoint.
  const svc = target.service;
  const ports = svc.spec?.ports ?? [];
  const isNodePort = target.kind === 'nodeport';
  const describePorts = ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}${p.name ? ` (${p.name})` : ''}${p.nodePort ? ` NodePort ${p.nodePort}` : ''}`).join(', ');
  if (svc.spec?.type === 'ExternalName') {
    hops.push(hop('service', 'warn', `${svcKey(svc)} is an ExternalName alias for ${svc.spec.externalName ?? '?'}: DNS answers with a CNAME, and the connection leaves the cluster; knet does not follow it`, [], { fate: 'unknown' }));
    return finish(input, src, dst, hops, [], findings, notJudged);
  }
  let sp: ServicePort | undefined;
  if (input.port === undefined) {
    const same = ports.filter((p) => (p.protocol ?? 'TCP') === protocol);
    if (same.length === 1) sp = same[0];
    else throw new TraceInputError(`${svcKey(svc)} has ${same.length === 0 ? `no ${protocol} port` : `${same.length} ${protocol} ports`} (${describePorts || 'none'}): give --port`);
  } else {
    sp = ports.find((p) => (isNodePort ? p.nodePort : p.port) === input.port && (p.protocol ?? 'TCP') === protocol);
  }
  if (sp && input.port === undefined) input = { ...input, port: sp.port };
  const isHeadless = clusterIPsOf(svc).length === 0;
  // A headless Service is a name for its endpoints' addresses: a client connects to them on any port.
  const isUnlisted = !sp && isHeadless && !isNodePort && input.port !== undefined;
  if (isUnlisted) sp = { port: input.port!, targetPort: input.port!, protocol };
  if (!sp) {
    hops.push(hop('service', 'fail', `${svcKey(svc)} has no ${isNodePort ? 'NodePort' : 'port'} ${input.port ?? ''}/${protocol}; its ports: ${describePorts || 'none'}`, [], { remedy: `Connect to one of its ports, or add port ${input.port ?? ''} to the Service.`, fate: 'dropped' }));
    return finish(input, src, dst, hops, [], findings, notJudged);
  }
  // Where kube-proxy translates the packet: on the node it meets first, or, for another node's NodePort,
  // on that node as the packet arrives (the first node forwards it untranslated: the address is not its own).
  const frontPort = isNodePort ? sp.nodePort! : sp.port;
  const front = (): { sim: TraceResult | null; state: TraceNodeState | null; node: string | null; forwarded: string | null } => {
    const packet = isHeadless ? null : packetFrom(input.source, src, target.ip, frontPort, protocol);
    const first = packet && state?.rules ? simulate(state, packet) : null;
    if (target.kind !== 'nodeport' || rulesNode === null || target.node.metadata.name === rulesNode || first?.outcomes.some((o) => o.dnat !== null)) return { sim: first, state, node: rulesNode, forwarded: null };
    const there = input.nodePortNodeState ?? null;
    const arriving = packet && there?.rules ? simulate(there, { ...packet, hook: 'prerouting' }) : null;
    const forwarded = `${rulesNode} forwards ${joinHostPort(target.ip, frontPort)} untranslated: it is node ${target.node.metadata.name}'s address, and kube-proxy's NodePort rules match a node's own addresses only`;
    return { sim: arriving, state: there, node: target.node.metadata.name, forwarded };
  };
  const rulesHopOf = (f: ReturnType<typeof front>, branches: Branch[]): Hop | null => {
    if (!f.sim) return null;
    const h = rulesSummaryHop(cluster, f.sim, f.state!, branches, svc);
    if (f.forwarded) h.evidence.unshift(f.forwarded);
    return h;
  };
  const type = svc.spec?.type ?? 'ClusterIP';
  const isExternal = isNodePort || (target.kind === 'service' && target.role !== 'ClusterIP');
  const policyName = isExternal ? 'externalTrafficPolicy' : 'internalTrafficPolicy';
  const trafficPolicy = (isExternal ? svc.spec?.externalTrafficPolicy : svc.spec?.internalTrafficPolicy) ?? 'Cluster';
  const portDesc = `port ${sp.port}/${sp.protocol ?? 'TCP'}${sp.name ? ` (${sp.name})` : ''} → targetPort ${sp.targetPort ?? sp.port}`;
  // A ClusterIP is virtual: only the cluster's nodes (and so its pods) translate it. A client outside the
  // cluster sends it wherever its own network routes the Service range; knet cannot follow it there.
  if (!isHeadless && !isExternal && input.source.kind === 'ip' && classify(input.source.ip, undefined).kind === 'external') {
    hops.push(hop('service', 'warn', `${svcKey(svc)} is reached at its ClusterIP ${target.ip}, a virtual address that only the cluster's nodes and pods translate: ${src.name} is outside the cluster, and its packets go wherever its own network routes ${target.ip}`, [`spec.ports: ${describePorts}`], {
      remedy: `From outside the cluster, connect to a NodePort (node/NAME --port NODEPORT), an external or load-balancer IP of ${svcKey(svc)}, or through an Ingress; or trace from a pod or a node.`,
      fate: 'unknown',
    }));
    return finish(input, src, dst, hops, [], findings, notJudged);
  }
  hops.push(hop('service', isUnlisted ? 'warn' : 'ok', isUnlisted
    ? `${svcKey(svc)} is headless (no ClusterIP) and lists no port ${sp.port}/${protocol} (its ports: ${describePorts || 'none'}): a client that resolves the name connects to the endpoints' own addresses on ${sp.port} all the same; whether the pods listen there, nothing in the API says`
    : isHeadless
    ? `${svcKey(svc)} is headless (no ClusterIP): clients connect to the endpoints' own addresses, ${portDesc}`
    : `${svcKey(svc)}, type ${type}, ${isNodePort ? `NodePort ${sp.nodePort} on ${target.ip}, ` : ''}${portDesc}${trafficPolicy === 'Local' ? `, ${policyName}: Local` : ''}`,
    [`spec.ports: ${describePorts}`, ...(svc.spec?.selector ? [`selector: ${Object.entries(svc.spec.selector).map(([k, v]) => `${k}=${v}`).join(',')}`] : ['no selector: endpoints are written by hand'])]));

  // endpoints: kube-proxy uses the ready ones, or serving-and-terminating ones when none is ready.
  const report = diffEndpoints(cluster, { service: { namespace: nsOf(svc), name: svc.metadata.name } });
  const epFindings = report.services[0]?.findings ?? [];
  findings.push(...epFindings);
  // The family of the address connected to; for a headless Service, the client's (its resolver asks A or AAAA).
  const all = candidatesOf(cluster, svc, sp, ipFamily(target.ip) ?? ipFamily(src.ips[0] ?? ''), isUnlisted);
  const ready = all.filter((c) => c.ready);
  let usable = ready.length > 0 ? ready : all.filter((c) => c.serving && c.terminating);
  const usedTerminating = ready.length === 0 && usable.length > 0;
  const localNode = target.kind === 'nodeport' ? target.node.metadata.name : rulesNode;
  const epEvidence = [
    ...all.map((c) => `${joinHostPort(c.ip, c.port)} ${c.ready ? 'ready' : c.serving && c.terminating ? 'serving, terminating' : 'not ready'}${c.pod ? ` pod ${podKey(c.pod)}` : ''}${c.node ? ` on ${c.node}` : ''}`),
    ...epFindings.map((f) => `${f.severity} ${f.code}: ${f.message}`),
  ];
  const fixFrom = (fs: Finding[]): string | undefined => fs.find((f) => f.severity === 'error' && f.hint)?.hint ?? fs.find((f) => f.hint)?.hint;
  const noEndpointRemedy = (): string => fixFrom(epFindings) ?? `Check the Service's selector and the pods' readiness: kubectl get endpointslices -n ${nsOf(svc)} -l kubernetes.io/service-name=${svc.metadata.name}`;
  if (usable.length === 0 && isHeadless) {
    // No kube-proxy rule stands for a headless Service: its name resolves to the ready addresses, here none.
    hops.push(hop('endpoints', 'fail', `${svcKey(svc)} is headless and has no ready endpoint${isUnlisted ? '' : ` for port ${sp.port}/${sp.protocol ?? 'TCP'}`}${all.length ? ` (${all.length} listed, none ready)` : ''}: its name resolves to no address (cluster DNS publishes ready endpoints only), so a client has nowhere to connect`, epEvidence, { remedy: noEndpointRemedy(), fate: 'dropped' }));
    return finish(input, src, dst, hops, [], findings, notJudged);
  }
  if (usable.length === 0) {
    // kube-proxy rejects a port without endpoints; when the node's rules were read, they say what the
    // packet really meets (rules behind the API may drop it, or still send it to an endpoint gone since).
    const f = front();
    const rules = rulesHopOf(f, []);
    const isRejectedThere = rules === null || (rules.status === 'fail' && rules.fate === 'rejected');
    const fate: Fate = isRejectedThere ? 'rejected' : rules.status === 'fail' ? (rules.fate ?? 'unknown') : 'unknown';
    const outcome = isRejectedThere ? 'kube-proxy rejects the connection' : `kube-proxy would reject the connection, but its rules on ${f.node ?? 'the node'} do not (see node-rules)`;
    hops.push(hop('endpoints', 'fail', `${svcKey(svc)} has no ready endpoint for port ${sp.port}/${sp.protocol ?? 'TCP'}${all.length ? ` (${all.length} listed, none ready)` : ''}: ${outcome}`, epEvidence, { remedy: noEndpointRemedy(), fate }));
    if (rules) hops.push(rules);
    return finish(input, src, dst, hops, [], findings, notJudged);
  }
  // externalTrafficPolicy Local keeps external clients' traffic on the node it arrives at; kube-proxy's
  // KUBE-EXT chain sends a pod's traffic, and the node's own, to every endpoint ("pod traffic for …
  // external destinations", "route LOCAL traffic …"): those clients never lose their connection to it.
  const isPodSource = input.source.kind === 'pod' && input.source.pod.spec?.hostNetwork !== true;
  const isOwnNodeSource = localOriginNode(cluster, input.source) !== null && (target.kind !== 'nodeport' || target.node.metadata.name === rulesNode);
  const isShortCircuit = isExternal && trafficPolicy === 'Local' && !isHeadless && (isPodSource || isOwnNodeSource);
  if (trafficPolicy === 'Local' && !isHeadless && !isShortCircuit) {
    const local = usable.filter((c) => c.node !== null && c.node === localNode);
    if (local.length === 0) {
      hops.push(hop('endpoints', 'fail', `${svcKey(svc)} has ${usable.length} ready endpoint${usable.length === 1 ? '' : 's'}, none on node ${localNode ?? '?'}, and ${policyName}: Local sends ${isExternal ? 'external' : 'internal'} traffic only to endpoints on the node it arrives at: kube-proxy drops it`, epEvidence, {
        remedy: isExternal ? `Send the traffic to a node that runs an endpoint (${[...new Set(usable.map((c) => c.node).filter(Boolean))].join(', ')}), or set externalTrafficPolicy: Cluster (the client's address is then masqueraded).` : 'Run an endpoint on every node that has clients (a DaemonSet), or set internalTrafficPolicy: Cluster.',
        fate: 'dropped',
      }));
      const rules = rulesHopOf(front(), []);
      if (rules) hops.push(rules);
      return finish(input, src, dst, hops, [], findings, notJudged);
    }
    usable = local;
  }
  const epStatus: HopStatus = usedTerminating || epFindings.some((f) => f.severity === 'error') ? 'warn' : 'ok';
  hops.push(hop('endpoints', epStatus, `${usable.length} ${usedTerminating ? 'serving (terminating, none ready)' : 'ready'} endpoint${usable.length === 1 ? '' : 's'} for port ${sp.port}/${sp.protocol ?? 'TCP'}${all.length > usable.length ? ` (of ${all.length} listed)` : ''}${isShortCircuit ? `; ${policyName}: Local does not apply to traffic from ${isPodSource ? 'a pod' : 'the node itself'}: kube-proxy sends it to every endpoint` : trafficPolicy === 'Local' && !isHeadless ? ` on node ${localNode}` : ''}`, epEvidence, epStatus === 'warn' ? { remedy: fixFrom(epFindings) ?? 'Find why no endpoint is ready: kubectl describe pod …' } : {}));

  // node-rules: one simulation for the Service address; each DNAT outcome lands on a branch.
  const translated = front();
  const { sim } = translated;
  const even = isHeadless ? null : 1 / usable.length;
  const branches: Branch[] = [];
  const known = new Set<string>();
  for (const c of usable) {
    known.add(joinHostPort(c.ip, c.port));
    branches.push(judgeBranch({ input, policy, state: translated.state, rulesNode: translated.node, src, sim, endpoint: { ip: c.ip, port: c.port, pod: c.pod, node: c.node }, isService: !isHeadless, probability: even, service: svc }));
  }
  // Endpoints the node's rules still send to that the API no longer lists: stale rules.
  if (sim) {
    const stale = new Map<string, number>();
    for (const o of sim.outcomes) if (o.dnat && !known.has(joinHostPort(dnatIP(o.dnat), Number(o.dnat.slice(o.dnat.lastIndexOf(':') + 1))))) stale.set(o.dnat, (stale.get(o.dnat) ?? 0) + o.probability);
    for (const [dnat, p] of stale) {
      const ip = dnatIP(dnat);
      lookups?.ips.add(ip);
      const other = cluster.pods.find((pod) => podIPs(pod).map(canonicalIP).includes(ip)) ?? null;
      const at = translated.state!.node;
      const rulesHop = hop('node-rules', 'fail', `kube-proxy's rules on ${at} send ${pct(p)} of new connections to ${dnat}, which is not an endpoint of ${svcKey(svc)} in the API: the rules are stale${other ? ` (the address now belongs to pod ${podKey(other)})` : ''}`,
        sim.outcomes.filter((o) => o.dnat === dnat).flatMap((o) => pathEvidence(o)),
        { remedy: `kube-proxy on ${at} has not synced: check its logs (kubectl logs -n kube-system -l k8s-app=kube-proxy --field-selector spec.nodeName=${at}) and restart it.`, fate: 'dropped' });
      branches.push({ endpoint: dnat, pod: other ? podKey(other) : null, node: other?.spec?.nodeName ?? null, probability: p, verdict: 'dropped', hops: [rulesHop] });
    }
  }
  const aggregated = aggregate(cluster, branches, sim, translated.state, notJudged, svc);
  const rulesHop = aggregated.find((h) => h.stage === 'node-rules');
  if (rulesHop && translated.forwarded) rulesHop.evidence.unshift(translated.forwarded);
  hops.push(...aggregated);
  const ctHop = isHeadless ? null : conntrackHop(input, state, target.ip, frontPort, protocol, src, notJudged);
  return finish(input, src, dst, hops, branches, findings, notJudged, ctHop);
}

export class TraceInputError extends Error {}

interface BranchArgs {
  input: TraceInput;
  policy: PolicyEngine;
  state: TraceNodeState | null;
  rulesNode: string | null;
  src: TraceEnd;
  sim: TraceResult | null;
  endpoint: { ip: string; port: number; pod: Pod | null; node: string | null };
  /** Whether the packet is addressed to a Service (and kube-proxy's DNAT picks the endpoint). */
  isService: boolean;
  probability: number | null;
  service?: Service;
}

function sourcePolicyEnd(policy: PolicyEngine, source: TraceSource): PolicyEndpoint {
  if (source.kind === 'pod') return podEndpoint(policy.ctx, source.pod);
  if (source.kind === 'node') return nodeEndpoint(policy.ctx, source.node.metadata.name);
  return ipEndpoint(policy.ctx, source.ip);
}

function judgeBranch(a: BranchArgs): Branch {
  const { input, policy, state, src, endpoint } = a;
  const protocol: Protocol = input.protocol ?? 'TCP';
  const ep = joinHostPort(endpoint.ip, endpoint.port);
  const hops: Hop[] = [];
  const srcPolicy = sourcePolicyEnd(policy, input.source);
  const dstPolicy = endpoint.pod ? podEndpoint(policy.ctx, endpoint.pod) : ipEndpoint(policy.ctx, endpoint.ip);

  // policy-egress: CNIs judge egress after kube-proxy's DNAT, so against the endpoint and its target port.
  hops.push(policyHop('policy-egress', evaluateDirection(policy, 'egress', srcPolicy, dstPolicy, endpoint.port, protocol)));

  // node-rules
  let probability = a.probability;
  let masquerade = false;
  let sim = a.sim;
  if (!a.isService && state?.rules) {
    const packet = packetFrom(input.source, src, endpoint.ip, endpoint.port, protocol);
    sim = packet ? simulate(state, packet) : null;
  }
  if (!state?.rules || !sim) {
    hops.push(hop('node-rules', 'skip', a.rulesNode ? `no kube-proxy rules of node ${a.rulesNode} were read` : 'no node is known whose rules the packet meets', [], { remedy: state?.missing.rules ?? (a.rulesNode ? `Add the node's state to the snapshot (nodes/${a.rulesNode}/iptables-save.txt), or trace live.` : 'Trace from a pod or a node.') }));
  } else if (a.isService) {
    const mine = sim.outcomes.filter((o) => o.dnat !== null && o.verdict === 'accept' && dnatIP(o.dnat) === endpoint.ip && Number(o.dnat.slice(o.dnat.lastIndexOf(':') + 1)) === endpoint.port);
    const p = mine.reduce((s, o) => s + o.probability, 0);
    probability = p;
    masquerade = mine.some((o) => o.masquerade);
    if (mine.length > 0) {
      hops.push(hop('node-rules', 'ok', `${state.rules.mode} on ${state.node}: DNAT to ${ep} for ${pct(p)} of new connections${masquerade ? ', masqueraded' : ''}`, pathEvidence(mine[0]!)));
    } else if (sim.outcomes.some((o) => o.verdict === 'accept' && o.dnat !== null)) {
      hops.push(hop('node-rules', 'warn', `kube-proxy's rules on ${state.node} never send to ${ep}: this endpoint is not programmed there (stale rules)`, [], { remedy: `kube-proxy on ${state.node} lags behind the API: check its logs and restart it.` }));
    } else {
      const o = sim.outcomes[0];
      const lost = o && o.verdict === 'accept' ? untranslated(input.cluster, state, sim.packet) : null;
      const fate = o ? (lost ? lost.fate : fateOf(o.verdict)) : 'unknown';
      hops.push(hop('node-rules', 'fail', lost ? lost.summary : `kube-proxy's rules on ${state.node} ${o?.verdict === 'reject' ? 'reject' : o?.verdict === 'drop' ? 'drop' : 'do not decide'} the connection although the API lists this endpoint (stale rules)`,
        o ? pathEvidence(o) : [], { remedy: `kube-proxy on ${state.node} has not synced this Service: check its logs and restart it.`, fate }));
    }
  } else {
    const verdict = sim.verdict;
    const o = sim.outcomes.find((x) => x.verdict === verdict) ?? sim.outcomes[0];
    masquerade = o?.masquerade === true;
    if (verdict === 'accept') hops.push(hop('node-rules', 'ok', `${state.rules.mode} on ${state.node}: accepted${o?.dnat ? `, DNAT to ${o.dnat}` : ', not translated'}`, o ? pathEvidence(o) : []));
    else hops.push(hop('node-rules', verdict === 'unknown' ? 'warn' : 'fail', `${state.rules.mode} on ${state.node}: ${verdict === 'unknown' ? 'not decided by anything knet models' : verdict === 'reject' ? 'rejected' : 'dropped'}`, o ? pathEvidence(o) : [], verdict === 'unknown' ? { fate: 'unknown' } : { fate: fateOf(verdict), remedy: 'Read the rule above: it is not one of kube-proxy\'s; find who wrote it (a CNI, a firewall).' }));
  }

  // route
  hops.push(routeHop(input.cluster, state, a.rulesNode, endpoint));

  // policy-ingress: against the source the endpoint sees, the node's address when kube-proxy masqueraded.
  const seenFrom = masquerade && a.rulesNode ? nodeEndpoint(policy.ctx, a.rulesNode) : srcPolicy;
  const ingress = policyHop('policy-ingress', evaluateDirection(policy, 'ingress', dstPolicy, seenFrom, endpoint.port, protocol));
  if (masquerade) ingress.evidence.unshift(`kube-proxy masquerades this connection: ${endpointName(dstPolicy)} sees it from ${endpointName(seenFrom)}`);
  hops.push(ingress);

  const failed = hops.find((h) => h.status === 'fail');
  const verdict: TraceVerdict = failed ? (failed.fate === 'rejected' ? 'rejected' : failed.fate === 'dropped' ? 'dropped' : 'unknown') : hops.some((h) => h.fate === 'unknown') ? 'unknown' : 'delivered';
  return { endpoint: ep, pod: endpoint.pod ? podKey(endpoint.pod) : endpoint.ip === '' ? null : (ipEndpoint(policy.ctx, endpoint.ip).kind === 'pod' ? endpointName(ipEndpoint(policy.ctx, endpoint.ip)) : null), node: endpoint.node, probability, verdict, hops };
}

function routeHop(cluster: Cluster, state: TraceNodeState | null, fromNode: string | null, endpoint: { ip: string; node: string | null }): Hop {
  const ip = endpoint.ip;
  // From a node (or a pod on its network): the local routing table sends loopback addresses over lo.
  if (isLoopbackIP(ip)) return hop('route', 'ok', `${ip} is a loopback address: ${fromNode ? `node ${fromNode}` : 'the node'} delivers the connection to itself over lo`, [`local table: local 127.0.0.0/8 dev lo, local ::1 dev lo`]);
  const toNode = endpoint.node ? cluster.nodes.find((n) => n.metadata.name === endpoint.node) : cluster.nodes.find((n) => (n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])).some((c) => cidrContains(c, ip)));
  const toName = toNode?.metadata.name ?? endpoint.node;
  const cidrs = toNode ? (toNode.spec?.podCIDRs ?? (toNode.spec?.podCIDR ? [toNode.spec.podCIDR] : [])) : [];
  const inCidr = cidrs.find((c) => cidrContains(c, ip));
  const evidence: string[] = [];
  if (toName && inCidr) evidence.push(`${ip} is in pod CIDR ${inCidr} of node ${toName}`);
  else if (toName && cidrs.length) evidence.push(`${ip} is not in node ${toName}'s pod CIDRs (${cidrs.join(', ')}): the CNI allocates addresses itself`);
  if (fromNode && toName === fromNode) {
    if (state?.routes) {
      const r = lookupRoute(state.routes.filter((x) => x.type !== 'local' && x.type !== 'broadcast' && (x.table === undefined || x.table === 'main')), ip);
      if (r) evidence.push(`${state.node}: ${r.raw}`);
      if (r && ['blackhole', 'unreachable', 'prohibit'].includes(r.type)) return hop('route', 'fail', `node ${fromNode} has a ${r.type} route for ${ip}`, evidence, { remedy: 'Remove the route, or find which component added it.', fate: r.type === 'blackhole' ? 'dropped' : 'rejected' });
    }
    return hop('route', 'ok', `${ip} is on the same node (${fromNode}): delivered locally`, evidence);
  }
  if (!state?.routes) {
    const where = toName ? `to node ${toName}` : 'out of the node';
    return hop('route', 'ok', `${ip} is reached ${where} by pod CIDR; node ${fromNode ?? '?'}'s routes were not read`, evidence);
  }
  const r = lookupRoute(state.routes.filter((x) => x.type !== 'local' && x.type !== 'broadcast' && (x.table === undefined || x.table === 'main')), ip);
  if (!r) return hop('route', 'fail', `node ${state.node} has no route to ${ip}`, evidence, { remedy: `The CNI has not programmed a route to ${toName ? `node ${toName}'s pods` : ip}: check the CNI's pods on ${state.node}.`, fate: 'rejected' });
  evidence.push(`${state.node}: ${r.raw}`);
  if (['blackhole', 'unreachable', 'prohibit'].includes(r.type)) return hop('route', 'fail', `node ${state.node} has a ${r.type} route for ${ip} (${r.destination})`, evidence, { remedy: 'Remove the route, or find which component added it.', fate: r.type === 'blackhole' ? 'dropped' : 'rejected' });
  const gatewayNode = r.via ? cluster.nodes.find((n) => nodeIPs(n).includes(canonicalIP(r.via!))) : undefined;
  if (gatewayNode && toName && gatewayNode.metadata.name !== toName) {
    return hop('route', 'warn', `node ${state.node} routes ${ip} via ${r.via} (node ${gatewayNode.metadata.name}), but the pod is on node ${toName}`, evidence, { remedy: 'The route is stale (a node whose pod CIDR changed?): check the CNI.' });
  }
  const how = r.destination === '0.0.0.0/0' || r.destination === '::/0' ? 'by the default route' : `by ${r.destination}${r.via ? ` via ${r.via}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`;
  return hop('route', 'ok', `${state.node} reaches ${ip}${toName ? ` on node ${toName}` : ''} ${how}`, evidence);
}

function rulesSummaryHop(cluster: Cluster, sim: TraceResult, state: TraceNodeState, branches: Branch[], svc: Service | null): Hop {
  const accepted = sim.outcomes.filter((o) => o.verdict === 'accept' && o.dnat !== null);
  const evidence = [`rules: ${state.rules!.source}`, `packet ${sim.packet.src} → ${sim.packet.dst}:${sim.packet.dport ?? ''}/${sim.packet.protocol} (${sim.packet.hook})`];
  if (accepted.length > 0) {
    const stale = branches.filter((b) => b.hops.length === 1 && b.hops[0]!.stage === 'node-rules' && b.hops[0]!.status === 'fail');
    const staleNote = stale.length ? `; ${stale.map((b) => b.endpoint).join(', ')} ${stale.length === 1 ? 'is' : 'are'} no endpoint of the Service (stale rules)` : '';
    const summary = `${state.rules!.mode} on ${state.node}: DNAT to ${accepted.map((o) => `${o.dnat} (${pct(o.probability)})`).join(', ')}${staleNote}`;
    const staleShare = stale.reduce((sum, b) => sum + (b.probability ?? 0), 0);
    return hop('node-rules', stale.length ? (staleShare > 0.999 ? 'fail' : 'warn') : 'ok', summary, [...evidence, ...accepted.slice(0, 8).map((o) => `→ ${o.dnat}: ${o.path.at(-1) ? `${o.path.at(-1)!.table} ${o.path.at(-1)!.chain} line ${o.path.at(-1)!.line}` : ''}`)]);
  }
  const o = sim.outcomes[0];
  const verdict = sim.verdict;
  if (verdict === 'accept') {
    const lost = untranslated(cluster, state, sim.packet);
    return svc
      ? hop('node-rules', 'fail', `${lost.summary} (no rule for ${svcKey(svc)})`, [...evidence, ...(o ? pathEvidence(o) : [])], { remedy: `kube-proxy on ${state.node} has not programmed the Service: check its logs and restart it.`, fate: lost.fate })
      : hop('node-rules', 'ok', `${state.rules!.mode} on ${state.node}: accepted, not translated`, [...evidence, ...(o ? pathEvidence(o) : [])]);
  }
  const said = o ? pathEvidence(o) : [];
  if (verdict === 'unknown') return hop('node-rules', 'warn', `${state.rules!.mode} on ${state.node}: the packet reaches a rule knet does not model${o?.notModelled ? ` (${o.notModelled.reason})` : ''}`, [...evidence, ...said], { fate: 'unknown' });
  return hop('node-rules', 'fail', `${state.rules!.mode} on ${state.node}: ${verdict === 'reject' ? 'REJECT' : 'DROP'}${o?.path.at(-1) ? ` by ${o.path.at(-1)!.table} ${o.path.at(-1)!.chain} line ${o.path.at(-1)!.line}` : ''}`, [...evidence, ...said], { fate: fateOf(verdict), remedy: svc ? `kube-proxy ${verdict === 'reject' ? 'rejects' : 'drops'} connections to ${svcKey(svc)} when it has no (local) endpoints: give the Service ready endpoints.` : 'Find who wrote the rule above.' });
}

/**
 * What happens to a packet to a Service's address that the node's kube-proxy rules leave untranslated:
 * addressed to the node itself (a NodePort), the node takes it, and with nothing listening there the
 * connection is refused; addressed elsewhere (a ClusterIP), it leaves by the default route and is lost.
 */
function untranslated(cluster: Cluster, state: TraceNodeState, packet: Packet): { summary: string; fate: Fate } {
  const where = joinHostPort(packet.dst, packet.dport ?? '');
  const node = cluster.nodes.find((n) => n.metadata.name === state.node);
  if (node && nodeIPs(node).includes(canonicalIP(packet.dst))) {
    return { summary: `kube-proxy's rules on ${state.node} do not translate ${where}: the node takes the packet itself, and unless a process there listens on port ${packet.dport ?? '?'}, the connection is refused`, fate: 'rejected' };
  }
  return { summary: `kube-proxy's rules on ${state.node} do not translate ${where}: the packet leaves for the default route untranslated and is lost`, fate: 'dropped' };
}

/** The top-level hop of a per-branch stage: ok when every branch passes, warn when some fail, fail when all do. */
function aggregate(cluster: Cluster, branches: Branch[], sim: TraceResult | null, state: TraceNodeState | null, notJudged: Stage[], svc: Service | null): Hop[] {
  const out: Hop[] = [];
  for (const stage of ['policy-egress', 'node-rules', 'route', 'policy-ingress'] as const) {
    if (stage === 'node-rules' && sim && state?.rules && svc) {
      out.push(rulesSummaryHop(cluster, sim, state, branches, svc));
      continue;
    }
    const mine = branches.map((b) => ({ b, h: b.hops.find((h) => h.stage === stage) })).filter((x): x is { b: Branch; h: Hop } => x.h !== undefined);
    if (mine.length === 0) continue;
    const failed = mine.filter((x) => x.h.status === 'fail');
    const skipped = mine.filter((x) => x.h.status === 'skip');
    const n = mine.length;
    if (skipped.length === n) {
      notJudged.push(stage);
      out.push({ ...mine[0]!.h, evidence: [] });
      continue;
    }
    if (n === 1) {
      out.push(mine[0]!.h);
      continue;
    }
    const status: HopStatus = failed.length === n ? 'fail' : failed.length > 0 || mine.some((x) => x.h.status === 'warn') ? 'warn' : 'ok';
    const first = failed[0] ?? mine.find((x) => x.h.status === 'warn');
    const label = stage === 'policy-egress' ? 'egress allowed' : stage === 'policy-ingress' ? 'ingress allowed' : stage === 'route' ? 'routed' : 'programmed';
    const all = n === 2 ? 'both' : `all ${n}`;
    const denied = stage === 'policy-egress' ? 'egress denied' : stage === 'policy-ingress' ? 'ingress denied' : stage === 'route' ? 'no route' : 'not programmed';
    const summary =
      failed.length === 0 ? `${label} to ${all} endpoints${first ? `; ${first.b.endpoint}: ${first.h.summary}` : ''}`
      : failed.length === n ? `${denied} for ${all} endpoints; ${first!.b.endpoint}: ${first!.h.summary}`
      : `${label} to ${n - failed.length} of ${n} endpoints; ${first!.b.endpoint}: ${first!.h.summary}`;
    out.push(hop(stage, status, summary, mine.map((x) => `${x.b.endpoint}: ${x.h.status} — ${x.h.summary}`), {
      ...(first?.h.remedy !== undefined ? { remedy: first.h.remedy } : {}),
      ...(status === 'fail' && first?.h.fate ? { fate: first.h.fate } : {}),
    }));
  }
  return out;
}

function conntrackHop(input: TraceInput, state: TraceNodeState | null, ip: string, port: number, protocol: Protocol, src: TraceEnd, notJudged: Stage[]): Hop {
  if (!state || state.conntrack === null) {
    notJudged.push('conntrack');
    return hop('conntrack', 'skip', `no conntrack table of ${state?.node ? `node ${state.node}` : 'the source node'} was read`, [], { remedy: state?.missing.conntrack ?? 'Add the node\'s conntrack -L output to the snapshot, or trace live.' });
  }
  const proto = protocol.toLowerCase();
  const dst = canonicalIP(ip);
  // Every Service's frontends: one left out could hold this address (or, on a node address, this NodePort).
  input.lookups?.ips.add(dst);
  if (state.localIPs.some((l) => canonicalIP(l) === dst)) input.lookups?.wholeCluster.push(`conntrack entries to node address ${dst} were matched against every Service's NodePorts`);
  const index = buildServiceEndpointIndex(input.cluster, state.localIPs);
  const flows = state.conntrack.filter((e) => e.protocol === proto && canonicalIP(e.original.dst) === dst && e.original.dport === port);
  const stale: { f: Finding; isMine: boolean; line: number }[] = [];
  for (const e of flows) {
    const f = findStaleEntry(e, index);
    if (f) stale.push({ f, isMine: src.ips.includes(canonicalIP(e.original.src)), line: e.line });
  }
  const mine = stale.filter((s) => s.isMine);
  const evidence = stale.slice(0, 10).map((s) => `line ${s.line}: ${s.f.message}`);
  if (mine.length > 0 && proto === 'udp') {
    return hop('conntrack', 'fail', `a conntrack entry on ${state.node} still sends ${src.name}'s UDP flow to ${String(mine[0]!.f.backend)}, which is no longer an endpoint: its datagrams are black-holed until the entry expires`, evidence, { remedy: mine[0]!.f.hint ?? 'Delete the entry with conntrack -D.', fate: 'dropped' });
  }
  if (stale.length > 0) {
    return hop('conntrack', 'warn', `${stale.length} conntrack entr${stale.length === 1 ? 'y' : 'ies'} on ${state.node} for ${joinHostPort(dst, port)}/${proto} still point at removed endpoints${mine.length ? `, ${mine.length} from ${src.name}` : ''}; new ${proto.toUpperCase()} connections are not affected`, evidence, { remedy: stale[0]!.f.hint ?? '' });
  }
  return hop('conntrack', 'ok', `${flows.length} conntrack entr${flows.length === 1 ? 'y' : 'ies'} on ${state.node} for ${joinHostPort(dst, port)}/${proto}, none stale`, flows.slice(0, 5).map((e) => `line ${e.line}: ${e.original.src}:${e.original.sport ?? ''} → ${e.original.dst}:${e.original.dport ?? ''} replied by ${e.reply.src}:${e.reply.sport ?? ''}`));
}

function fateVerdict(f: Fate | undefined): TraceVerdict {
  return f === 'rejected' ? 'rejected' : f === 'dropped' ? 'dropped' : 'unknown';
}

function finish(input: TraceInput, src: TraceEnd, dst: TraceEnd, hops: Hop[], branches: Branch[], findings: Finding[], notJudged: Stage[], conntrack?: Hop | null): TraceReport {
  if (conntrack) hops.push(conntrack);
  hops.sort((a, b) => STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage));
  const protocol = input.protocol ?? 'TCP';
  // Probabilities: kube-proxy's when the rules were read, else an even split; a headless Service's client chooses.
  const weights = branches.map((b) => b.probability);
  const known = weights.every((w) => w !== null);
  const total = known ? weights.reduce<number>((s, w) => s + (w ?? 0), 0) : 0;
  const deliveredBranches = branches.filter((b) => b.verdict === 'delivered' && b.probability !== 0);
  const delivered = known && total > 0 ? deliveredBranches.reduce((s, b) => s + (b.probability ?? 0), 0) / total : null;
  const reachable = { endpoints: deliveredBranches.length, of: branches.filter((b) => b.probability !== 0).length, probability: delivered };

  let verdict: TraceVerdict;
  const preFail = hops.find((h) => h.status === 'fail' && (h.stage === 'resolve' || h.stage === 'service' || h.stage === 'endpoints'));
  if (preFail) verdict = fateVerdict(preFail.fate);
  else if (branches.every((b) => b.probability === 0)) {
    // No endpoint gets a connection (the rules reject or drop them all): the failing hop says how it ends.
    const failed = hops.find((h) => h.status === 'fail');
    verdict = failed ? fateVerdict(failed.fate) : hops.some((h) => h.fate === 'unknown') ? 'unknown' : hops.length > 1 ? 'delivered' : 'unknown';
  } else {
    const live = branches.filter((b) => b.probability !== 0);
    const failing = live.filter((b) => b.verdict !== 'delivered');
    if (failing.length === 0) verdict = live.length ? 'delivered' : 'unknown';
    else {
      const weight = (v: TraceVerdict): number => failing.filter((b) => b.verdict === v).reduce((s, b) => s + (b.probability ?? 1), 0);
      verdict = (['rejected', 'dropped', 'unknown'] as const).reduce((best, v) => (weight(v) > weight(best) ? v : best), failing[0]!.verdict);
    }
  }
  const ct = hops.find((h) => h.stage === 'conntrack' && h.status === 'fail');
  if (ct && verdict === 'delivered') verdict = 'dropped';

  let firstFailure: TraceReport['firstFailure'] = null;
  const firstFail = hops.find((h) => h.status === 'fail') ?? (verdict !== 'delivered' ? hops.find((h) => h.status === 'warn' && h.stage !== 'endpoints') : undefined);
  if (firstFail) {
    // A hop that fails on some branches only: the failing branch's own hop says why, and what to do.
    const failedBranch = branches.find((b) => b.hops.some((h) => h.stage === firstFail.stage && h.status === 'fail'));
    const own = failedBranch?.hops.find((h) => h.stage === firstFail.stage && h.status === 'fail');
    const why = own ?? firstFail;
    firstFailure = { stage: firstFail.stage, summary: why.summary, ...(why.remedy !== undefined ? { remedy: why.remedy } : {}), ...(failedBranch ? { endpoint: failedBranch.endpoint } : {}) };
  }
  if (verdict !== 'delivered' && firstFailure) {
    findings.unshift({ code: `trace-${verdict === 'unknown' ? 'undecided' : verdict}`, severity: verdict === 'unknown' ? 'warning' : 'error', message: `${src.name} → ${dst.name}${input.port !== undefined ? `:${input.port}` : ''}/${protocol} is ${verdict} at ${firstFailure.stage}: ${firstFailure.summary}`, ...(firstFailure.remedy ? { hint: firstFailure.remedy } : {}), stage: firstFailure.stage });
  } else if (verdict === 'delivered' && reachable.of > 0 && notJudged.length > 0) {
    findings.push({ code: 'trace-partly-judged', severity: 'info', message: `judged without ${notJudged.join(', ')}: the node state they need was not read`, hint: hops.find((h) => h.status === 'skip')?.remedy ?? '' });
  }
  return { verdict, src, dst, port: input.port ?? null, protocol, hops, branches, reachable, firstFailure, notJudged: [...new Set(notJudged)], findings };
}
