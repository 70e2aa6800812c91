// What kube-proxy should program on one node for each Service port, from the API alone: the same
// reading of Services and EndpointSlices as pkg/proxy (servicechangetracker, endpointslicecache,
// topology.go CategorizeEndpoints), per IP family.
import type { Cluster } from '../../model/cluster.js';
import { canonicalCIDR, canonicalIP, type IPFamily, ipFamily, isCanonicalIPv4, joinHostPort } from '../../model/ip.js';
import type { EndpointSlice, EndpointSliceEndpoint, Service, ServicePort } from '../../model/k8s.js';

export type TrafficPolicy = 'Cluster' | 'Local';

/** One endpoint of a Service port as kube-proxy reads it from an EndpointSlice. */
export interface ApiEndpoint {
  /** "IP:PORT" ("[IP]:PORT" for IPv6), as kube-proxy's DNAT and chain names write it. */
  address: string;
  nodeName: string | null;
  /** `ready` absent counts as ready; `serving` absent counts as serving; `terminating` absent as not terminating. */
  isReady: boolean;
  isServing: boolean;
  isTerminating: boolean;
  /** On the node being compared (`nodeName` equals it). */
  isLocal: boolean;
  slice: string;
}

export interface ExpectedServicePort {
  /** `ns/name:portName/protocol` (`ns/name/protocol` for an unnamed port): the key the rules are matched on. */
  key: string;
  /** kube-proxy's ServicePortName: `ns/name:portName`, or `ns/name` for an unnamed port. */
  servicePortName: string;
  namespace: string;
  name: string;
  portName: string;
  port: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  /** "IP:PORT" destinations by role, of this family only. */
  clusterIPs: string[];
  externalIPs: string[];
  loadBalancerIPs: string[];
  nodePort: number | null;
  internalTrafficPolicy: TrafficPolicy;
  /** null when nothing outside the cluster reaches the port (no NodePort, external or load-balancer IP). */
  externalTrafficPolicy: TrafficPolicy | null;
  /** Every endpoint the slices list for this port (for saying why one is not used). */
  endpoints: ApiEndpoint[];
  /** The endpoints of the cluster-wide chain (KUBE-SVC, service-…), or null when kube-proxy writes none. */
  clusterEndpoints: ApiEndpoint[] | null;
  /** The endpoints of the node-local chain (KUBE-SVL, local-…), or null when kube-proxy writes none. */
  localEndpoints: ApiEndpoint[] | null;
  /** Some endpoint is usable somewhere: kube-proxy programs the port instead of rejecting it. */
  hasEndpoints: boolean;
  /** ClusterIP traffic has endpoints (for internalTrafficPolicy Local: on this node). */
  hasInternalEndpoints: boolean;
  /** External traffic has endpoints (for externalTrafficPolicy Local: on this node). */
  hasExternalEndpoints: boolean;
  /** sessionAffinity ClientIP: its timeout in seconds (sessionAffinityConfig, default 10800); null without affinity. */
  affinitySeconds: number | null;
  /** spec.loadBalancerSourceRanges of this family, as kube-proxy writes them ("203.0.113.0/25"); [] when none. */
  loadBalancerSourceRanges: string[];
}

/** kube-proxy's default ClientIP affinity timeout (v1.DefaultClientIPServiceAffinitySeconds). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function hostPort(ip: string, port: number): string {
  return joinHostPort(canonicalIP(ip), port);
}

export function servicePortKey(servicePortName: string, protocol: string): string {
  return `${servicePortName}/${protocol.toLowerCase()}`;
}

/** The Services kube-proxy writes no rules for: ExternalName and headless ones. */
export function hasNoProxyRules(svc: Service): boolean {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return true;
  const ips = spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : []);
  return ips.length === 0 || ips.every((ip) => ip === 'None' || ip === '');
}

function ofFamily(ips: readonly (string | undefined)[], family: IPFamily): string[] {
  const out: string[] = [];
  for (const raw of ips) {
    const ip = raw?.trim();
    if (!ip) continue;
    // A dotted quad as the API writes it is IPv4 and canonical already: no parse.
    const canonical = isCanonicalIPv4(ip) ? (family === 4 ? ip : null) : ipFamily(ip) === family ? canonicalIP(ip) : null;
    if (canonical !== null && !out.includes(canonical)) out.push(canonical);
  }
  return out;
}

function toApiEndpoint(ep: EndpointSliceEndpoint, slice: EndpointSlice, address: string, node: string): ApiEndpoint {
  const c = ep.conditions ?? {};
  return {
    address,
    nodeName: ep.nodeName ?? null,
    isReady: c.ready !== false,
    isServing: c.serving !== false,
    isTerminating: c.terminating === true,
    isLocal: ep.nodeName === node,
    slice: slice.metadata.name,
  };
}

/** Past this many endpoints, a port's addresses are looked up in a Set rather than by a scan of the list (here and in the comparison). */
export const SCAN_LIMIT = 16;

/** The endpoints of one Service port, of one family, deduplicated across slices (first one wins, as in the slice cache). */
function endpointsOf(slices: readonly EndpointSlice[], port: ServicePort, family: IPFamily, node: string): ApiEndpoint[] {
  const out: ApiEndpoint[] = [];
  // Most ports have a few endpoints: a scan of those already kept, and a Set only past SCAN_LIMIT.
  // The scan compares each kept endpoint's canonical host and port (the address is made of them, so
  // two addresses are equal exactly when both are), strings as the API wrote them, not new ones.
  const hosts: string[] = [];
  const ports: number[] = [];
  let seen: Set<string> | null = null;
  const wantType = family === 4 ? 'IPv4' : 'IPv6';
  const protocol = port.protocol ?? 'TCP';
  const name = port.name ?? '';
  for (const slice of slices) {
    if (slice.addressType !== wantType) continue;
    let target: number | undefined;
    for (const p of slice.ports ?? []) {
      if ((p.name ?? '') === name && (p.protocol ?? 'TCP') === protocol) {
        target = p.port;
        break;
      }
    }
    if (target === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      // kube-proxy uses the first address of an endpoint only.
      const ip = ep.addresses[0];
      if (ip === undefined) continue;
      const host = canonicalIP(ip);
      if (seen !== null) {
        const address = joinHostPort(host, target);
        if (seen.has(address)) continue;
        seen.add(address);
        out.push(toApiEndpoint(ep, slice, address, node));
        continue;
      }
      if (isKept(hosts, ports, host, target)) continue;
      const e = toApiEndpoint(ep, slice, joinHostPort(host, target), node);
      if (out.length === SCAN_LIMIT) seen = new Set([...out.map((x) => x.address), e.address]);
      hosts.push(host);
      ports.push(target);
      out.push(e);
    }
  }
  return out;
}

function isKept(hosts: readonly string[], ports: readonly number[], host: string, port: number): boolean {
  for (let i = 0; i < hosts.length; i++) if (hosts[i] === host && ports[i] === port) return true;
  return false;
}

/** An empty list that nothing adds to: what categorize gives for a chain it does not fill. */
const NONE: ApiEndpoint[] = [];

/** The ready endpoints (of this node only when `isLocalOnly`), or the serving-and-terminating ones. */
function pick(endpoints: readonly ApiEndpoint[], isLocalOnly: boolean, isTerminatingSet: boolean): ApiEndpoint[] {
  const out: ApiEndpoint[] = [];
  for (const e of endpoints) {
    if (isLocalOnly && !e.isLocal) continue;
    if (isTerminatingSet ? e.isServing && e.isTerminating : e.isReady) out.push(e);
  }
  return out;
}

/**
 * CategorizeEndpoints (pkg/proxy/topology.go): ready endpoints, or when none is ready anywhere the
 * serving-and-terminating ones; the local set likewise among this node's endpoints. Topology hints are
 * not applied (the slices knet reads do not carry them).
 */
function categorize(endpoints: readonly ApiEndpoint[], usesCluster: boolean, usesLocal: boolean): { cluster: ApiEndpoint[]; local: ApiEndpoint[]; hasAny: boolean } {
  let cluster: ApiEndpoint[] = NONE;
  let hasAny = false;
  if (usesCluster) {
    cluster = pick(endpoints, false, false);
    if (cluster.length === 0) cluster = pick(endpoints, false, true);
    hasAny = cluster.length > 0;
  }
  let local: ApiEndpoint[] = NONE;
  if (usesLocal) {
    if (endpoints.some((e) => e.isReady || (e.isServing && e.isTerminating))) hasAny = true;
    local = pick(endpoints, true, false);
    if (local.length === 0) local = pick(endpoints, true, true);
  }
  return { cluster, local, hasAny };
}

export function indexSlicesByService(cluster: Cluster): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const slice of cluster.endpointSlices) {
    const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (svc === undefined) continue;
    const key = `${slice.metadata.namespace ?? 'default'}/${svc}`;
    const list = out.get(key);
    if (list) list.push(slice);
    else out.set(key, [slice]);
  }
  return out;
}

/** What a Service port's endpoints give, read from its slices. */
export type EndpointFields = Pick<ExpectedServicePort, 'endpoints' | 'clusterEndpoints' | 'localEndpoints' | 'hasEndpoints' | 'hasInternalEndpoints' | 'hasExternalEndpoints'>;

/** Where a port's endpoints are read from, and how kube-proxy would use them. */
interface EndpointSource {
  slices: readonly EndpointSlice[];
  port: ServicePort;
  family: IPFamily;
  node: string;
  usesCluster: boolean;
  usesLocal: boolean;
}

function endpointFields(src: EndpointSource, internalTrafficPolicy: TrafficPolicy, externalTrafficPolicy: TrafficPolicy | null): EndpointFields {
  const endpoints = endpointsOf(src.slices, src.port, src.family, src.node);
  const cat = categorize(endpoints, src.usesCluster, src.usesLocal);
  return {
    endpoints,
    clusterEndpoints: src.usesCluster && cat.cluster.length > 0 ? cat.cluster : null,
    localEndpoints: src.usesLocal && cat.local.length > 0 ? cat.local : null,
    hasEndpoints: cat.hasAny,
    hasInternalEndpoints: internalTrafficPolicy === 'Local' ? cat.local.length > 0 : cat.hasAny,
    hasExternalEndpoints: externalTrafficPolicy === 'Local' ? cat.local.length > 0 : cat.hasAny,
  };
}

/**
 * A Service port as expectServicePorts gives it, whose endpoints are read from its slices only when
 * asked for: a comparison of 10,000 Services reads each port's endpoints just before comparing them,
 * with `withEndpoints`, and drops them after, instead of keeping 50,000 endpoints alive while the
 * node's rules are read.
 */
export class LazyServicePort implements ExpectedServicePort {
  readonly key: string;
  readonly servicePortName: string;
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  readonly port: number;
  readonly protocol: ExpectedServicePort['protocol'];
  readonly clusterIPs: string[];
  readonly externalIPs: string[];
  readonly loadBalancerIPs: string[];
  readonly nodePort: number | null;
  readonly internalTrafficPolicy: TrafficPolicy;
  readonly externalTrafficPolicy: TrafficPolicy | null;
  readonly affinitySeconds: number | null;
  readonly loadBalancerSourceRanges: string[];
  readonly #source: EndpointSource;
  /** Kept once something other than `withEndpoints` asked for an endpoint field. */
  #fields: EndpointFields | undefined;

  constructor(head: Omit<ExpectedServicePort, keyof EndpointFields>, source: EndpointSource) {
    this.key = head.key;
    this.servicePortName = head.servicePortName;
    this.namespace = head.namespace;
    this.name = head.name;
    this.portName = head.portName;
    this.port = head.port;
    this.protocol = head.protocol;
    this.clusterIPs = head.clusterIPs;
    this.externalIPs = head.externalIPs;
    this.loadBalancerIPs = head.loadBalancerIPs;
    this.nodePort = head.nodePort;
    this.internalTrafficPolicy = head.internalTrafficPolicy;
    this.externalTrafficPolicy = head.externalTrafficPolicy;
    this.affinitySeconds = head.affinitySeconds;
    this.loadBalancerSourceRanges = head.loadBalancerSourceRanges;
    this.#source = source;
  }

  private kept(): EndpointFields {
    return (this.#fields ??= endpointFields(this.#source, this.internalTrafficPolicy, this.externalTrafficPolicy));
  }

  get endpoints(): ApiEndpoint[] {
    return this.kept().endpoints;
  }

  get clusterEndpoints(): ApiEndpoint[] | null {
    return this.kept().clusterEndpoints;
  }

  get localEndpoints(): ApiEndpoint[] | null {
    return this.kept().localEndpoints;
  }

  get hasEndpoints(): boolean {
    return this.kept().hasEndpoints;
  }

  get hasInternalEndpoints(): boolean {
    return this.kept().hasInternalEndpoints;
  }

  get hasExternalEndpoints(): boolean {
    return this.kept().hasExternalEndpoints;
  }

  /** The port as one plain object, its endpoints read now (and not kept here unless they already were). */
  withEndpoints(): ExpectedServicePort {
    const f = this.#fields ?? endpointFields(this.#source, this.internalTrafficPolicy, this.externalTrafficPolicy);
    return {
      key: this.key,
      servicePortName: this.servicePortName,
      namespace: this.namespace,
      name: this.name,
      portName: this.portName,
      port: this.port,
      protocol: this.protocol,
      clusterIPs: this.clusterIPs,
      externalIPs: this.externalIPs,
      loadBalancerIPs: this.loadBalancerIPs,
      nodePort: this.nodePort,
      internalTrafficPolicy: this.internalTrafficPolicy,
      externalTrafficPolicy: this.externalTrafficPolicy,
      endpoints: f.endpoints,
      clusterEndpoints: f.clusterEndpoints,
      localEndpoints: f.localEndpoints,
      hasEndpoints: f.hasEndpoints,
      hasInternalEndpoints: f.hasInternalEndpoints,
      hasExternalEndpoints: f.hasExternalEndpoints,
      affinitySeconds: this.affinitySeconds,
      loadBalancerSourceRanges: this.loadBalancerSourceRanges,
    };
  }
}

/** The Service ports kube-proxy should program on `node` for one IP family. */
export function expectServicePorts(cluster: Cluster, node: string, family: IPFamily, slicesByService = indexSlicesByService(cluster)): ExpectedServicePort[] {
  return expectServicePortsLazily(cluster, node, family, slicesByService).map((p) => p.withEndpoints());
}

/** expectServicePorts' ports, each reading its endpoints only when asked for (see LazyServicePort). */
export function expectServicePortsLazily(cluster: Cluster, node: string, family: IPFamily, slicesByService = indexSlicesByService(cluster)): LazyServicePort[] {
  const out: LazyServicePort[] = [];
  for (const svc of cluster.services) {
    if (hasNoProxyRules(svc)) continue;
    const spec = svc.spec ?? {};
    const namespace = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name;
    const clusterIPs = ofFamily(spec.clusterIPs ?? [spec.clusterIP], family);
    // kube-proxy of one family ignores a Service without an address of that family.
    if (clusterIPs.length === 0) continue;
    const externalIPs = ofFamily(spec.externalIPs ?? [], family);
    const lbIPs =
      spec.type === 'LoadBalancer'
        ? ofFamily(
            // An ingress with ipMode Proxy gets no rule: the load balancer proxies to the node itself.
            (svc.status?.loadBalancer?.ingress ?? []).filter((i) => (i as { ipMode?: string }).ipMode !== 'Proxy').map((i) => i.ip),
            family,
          )
        : [];
    const slices = slicesByService.get(`${namespace}/${name}`) ?? [];
    const affinitySeconds =
      spec.sessionAffinity === 'ClientIP' ? ((spec as { sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } } }).sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : null;
    // kube-proxy trims and parses each range, and keeps those of its own family.
    const loadBalancerSourceRanges: string[] = [];
    for (const raw of spec.loadBalancerSourceRanges ?? []) {
      const cidr = canonicalCIDR(raw);
      if (cidr !== null && ipFamily(cidr.slice(0, cidr.lastIndexOf('/'))) === family && !loadBalancerSourceRanges.includes(cidr)) loadBalancerSourceRanges.push(cidr);
    }
    for (const port of spec.ports ?? []) {
      const protocol = (port.protocol ?? 'TCP').toLowerCase() as ExpectedServicePort['protocol'];
      const servicePortName = `${namespace}/${name}${port.name ? `:${port.name}` : ''}`;
      const nodePort = port.nodePort !== undefined && port.nodePort > 0 ? port.nodePort : null;
      const isExternal = nodePort !== null || externalIPs.length > 0 || lbIPs.length > 0;
      const internalTrafficPolicy: TrafficPolicy = spec.internalTrafficPolicy === 'Local' ? 'Local' : 'Cluster';
      const externalTrafficPolicy: TrafficPolicy | null = isExternal ? (spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster') : null;
      const usesCluster = internalTrafficPolicy === 'Cluster' || isExternal;
      const usesLocal = internalTrafficPolicy === 'Local' || externalTrafficPolicy === 'Local';
      out.push(
        new LazyServicePort(
          {
            key: servicePortKey(servicePortName, protocol),
            servicePortName,
            namespace,
            name,
            portName: port.name ?? '',
            port: port.port,
            protocol,
            clusterIPs: clusterIPs.map((ip) => hostPort(ip, port.port)),
            externalIPs: externalIPs.map((ip) => hostPort(ip, port.port)),
            loadBalancerIPs: lbIPs.map((ip) => hostPort(ip, port.port)),
            nodePort,
            internalTrafficPolicy,
            externalTrafficPolicy,
            affinitySeconds,
            loadBalancerSourceRanges,
          },
          { slices, port, family, node, usesCluster, usesLocal },
        ),
      );
    }
  }
  return out;
}
