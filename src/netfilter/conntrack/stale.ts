// A conntrack entry keeps sending a flow to the endpoint it was first DNATed to. When that endpoint
// is gone, UDP flows (DNS above all) are black-holed until the entry times out, because every new
// datagram refreshes it; kube-proxy deletes such entries when it sees the endpoint go, and when it
// misses one, this is what is left.
import type { Finding } from '../../model/finding.js';
import type { Cluster } from '../../model/cluster.js';
import { canonicalIP } from '../../model/ip.js';
import type { ConntrackEntry } from './parse.js';

export interface ServicePortEndpoints {
  service: string;
  /** e.g. `10.96.0.10:53/udp` */
  frontend: string;
  endpoints: Set<string>;
}

/** `IP|port|protocol` of every Service frontend (ClusterIP, external IPs, LB IPs) → its endpoint IPs. */
export type ServiceEndpointIndex = Map<string, ServicePortEndpoints>;

export function frontendKey(ip: string, port: number, protocol: string): string {
  return `${canonicalIP(ip)}|${port}|${protocol.toLowerCase()}`;
}

/**
 * Builds the index from a snapshot: ready and serving endpoints of each Service's EndpointSlices, by
 * ClusterIP, external and load-balancer IP, and (given the node's addresses) by NodePort on the node.
 */
export function buildServiceEndpointIndex(cluster: Cluster, nodeIPs: readonly string[] = []): ServiceEndpointIndex {
  const index: ServiceEndpointIndex = new Map();
  for (const svc of cluster.services) {
    const ns = svc.metadata.namespace ?? 'default';
    const name = `${ns}/${svc.metadata.name}`;
    const endpoints = new Set<string>();
    for (const slice of cluster.endpointSlices) {
      if ((slice.metadata.namespace ?? 'default') !== ns || slice.metadata.labels?.['kubernetes.io/service-name'] !== svc.metadata.name) continue;
      for (const ep of slice.endpoints ?? []) {
        // kube-proxy uses serving endpoints (ready, or terminating-but-serving when no ready ones exist).
        if (ep.conditions?.ready === false && ep.conditions.serving !== true) continue;
        for (const a of ep.addresses) endpoints.add(canonicalIP(a));
      }
    }
    const frontends = [
      ...(svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : [])),
      ...(svc.spec?.externalIPs ?? []),
      ...(svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : [])),
    ].filter((ip) => ip && ip !== 'None');
    for (const port of svc.spec?.ports ?? []) {
      const proto = (port.protocol ?? 'TCP').toLowerCase();
      for (const ip of frontends) {
        index.set(frontendKey(ip, port.port, proto), { service: name, frontend: `${ip}:${port.port}/${proto}`, endpoints });
      }
      if (port.nodePort) {
        for (const ip of nodeIPs) index.set(frontendKey(ip, port.nodePort, proto), { service: name, frontend: `${ip}:${port.nodePort}/${proto} (NodePort)`, endpoints });
      }
    }
  }
  return index;
}

/**
 * The index by protocol, then port, then address: a conntrack scan looks up every entry, and a lookup
 * by a port number and the address as printed costs far less than making an `IP|port|protocol` string
 * per entry. Entries to ports no Service has stop at the second step.
 */
export class FrontendLookup {
  private readonly byProtocol = new Map<string, Map<number, Map<string, ServicePortEndpoints>>>();

  constructor(index: ServiceEndpointIndex) {
    for (const [key, svc] of index) {
      const [ip = '', port = '', protocol = ''] = key.split('|');
      let byPort = this.byProtocol.get(protocol);
      if (!byPort) this.byProtocol.set(protocol, (byPort = new Map<number, Map<string, ServicePortEndpoints>>()));
      let byIP = byPort.get(Number(port));
      if (!byIP) byPort.set(Number(port), (byIP = new Map<string, ServicePortEndpoints>()));
      byIP.set(ip, svc);
    }
  }

  /** The Service frontend at `ip:port/protocol`, the address in any textual form. */
  get(ip: string, port: number, protocol: string): ServicePortEndpoints | undefined {
    const byIP = (this.byProtocol.get(protocol) ?? this.byProtocol.get(protocol.toLowerCase()))?.get(port);
    if (!byIP) return undefined;
    return byIP.get(ip) ?? byIP.get(canonicalIP(ip));
  }
}

/** Whether `ip` (in any textual form) is one of the endpoints. */
export function hasEndpoint(endpoints: ReadonlySet<string>, ip: string): boolean {
  return endpoints.has(ip) || endpoints.has(canonicalIP(ip));
}

function staleService(e: ConntrackEntry, index: ServiceEndpointIndex): ServicePortEndpoints | null {
  if (!e.isDnat || e.original.dport === undefined) return null;
  const svc = index.get(frontendKey(e.original.dst, e.original.dport, e.protocol));
  if (!svc || svc.endpoints.has(canonicalIP(e.reply.src))) return null;
  return svc;
}

/**
 * Whether the entry is stale, given `svc`, the index's entry for its original destination (a Service
 * frontend, protocol included: one finding code per frontend, so the frontend is the group of findings).
 */
export function isStale(e: ConntrackEntry, svc: ServicePortEndpoints): boolean {
  return e.isDnat && !hasEndpoint(svc.endpoints, e.reply.src);
}

export function findStaleEntry(e: ConntrackEntry, index: ServiceEndpointIndex): Finding | null {
  const svc = staleService(e, index);
  if (!svc) return null;
  const isUdp = e.protocol === 'udp';
  const deleteCmd = `conntrack -D -p ${e.protocol} --orig-dst ${e.original.dst} --orig-port-dst ${e.original.dport} --reply-src ${e.reply.src}`;
  return {
    code: isUdp ? 'conntrack-stale-udp' : 'conntrack-stale-endpoint',
    severity: isUdp ? 'error' : 'warning',
    message: isUdp
      ? `UDP flow ${e.original.src}:${e.original.sport ?? '?'} → ${svc.frontend} (${svc.service}) is still DNATed to ${e.reply.src}, which is no longer an endpoint: its datagrams are black-holed until the entry expires (${e.timeout}s, renewed by every datagram)`
      : `${e.protocol.toUpperCase()} connection ${e.original.src}:${e.original.sport ?? '?'} → ${svc.frontend} (${svc.service}) is still DNATed to ${e.reply.src}, which is no longer an endpoint`,
    hint: `delete the entry on the node: ${deleteCmd}`,
    line: e.line,
    service: svc.service,
    backend: e.reply.src,
  };
}
