// Whether a trace on a partial read (a snapshot read for a few namespaces only) gave the answer the
// whole cluster gives. The trace reads the namespaces of its source and destination, and every
// cluster-scoped object; beyond those it looks some things up cluster-wide: the pod or node that holds an
// address (policy, stale rules), a node's addresses (pods' hostIP add to them), an address among every
// Service (a destination given as an address, conntrack). It records each such lookup here, and
// `scopeShortfall` says whether an object that was left out could have changed one of them.
import type { Cluster } from '../model/cluster.js';
import { canonicalIP } from '../model/ip.js';
import type { Service } from '../model/k8s.js';
import type { PartialRead } from '../model/scope.js';
import type { PolicyEngine } from '../policy/evaluate.js';

export interface TraceLookups {
  /** Addresses looked up among every pod, node or Service of the cluster. */
  ips: Set<string>;
  /** Nodes whose addresses were asked for: a pod's status.hostIP adds to them. */
  nodes: Set<string>;
  /** What the trace looked up among every object of a kind, if it did: no partial read can answer it. */
  wholeCluster: string[];
}

export function newTraceLookups(): TraceLookups {
  return { ips: new Set(), nodes: new Set(), wholeCluster: [] };
}

/** The policy engine, its cluster-wide lookups recorded. */
export function recordingPolicy(engine: PolicyEngine, lookups: TraceLookups): PolicyEngine {
  const { ctx } = engine;
  return {
    ...engine,
    ctx: {
      ...ctx,
      podOfIP: (ip) => (lookups.ips.add(canonicalIP(ip)), ctx.podOfIP(ip)),
      nodeOfIP: (ip) => (lookups.ips.add(canonicalIP(ip)), ctx.nodeOfIP(ip)),
      nodeIPs: (node) => (lookups.nodes.add(node), ctx.nodeIPs(node)),
    },
  };
}

/**
 * Why the trace's answer on `cluster` (a partial read) might differ from the whole cluster's, or null
 * when it cannot: no lookup it made can be answered differently by an object that was left out.
 * `service` is the destination Service, whose endpoints the endpoints engine judged.
 */
export function scopeShortfall(cluster: Cluster, partial: PartialRead, lookups: TraceLookups, service: Service | null): string | null {
  if (lookups.wholeCluster.length > 0) return lookups.wholeCluster[0]!;
  for (const ip of lookups.ips) {
    // IPv6 has many spellings; a substring search proves nothing about it.
    if (ip.includes(':')) return `the IPv6 address ${ip} was looked up cluster-wide`;
    if (partial.mentions(ip)) return `an object left out mentions ${ip}, which was looked up cluster-wide`;
  }
  if (lookups.nodes.size > 0 && partial.mentions('hostIP')) return `the addresses of node ${[...lookups.nodes][0]!} were asked for, and a pod left out has a hostIP`;
  // The endpoints engine says whether the cluster holds any EndpointSlice at all.
  if (cluster.endpointSlices.length === 0 && partial.mentions('EndpointSlice')) return 'no EndpointSlice was read, and an object left out may be one';
  if (service) {
    const ns = service.metadata.namespace ?? 'default';
    for (const slice of cluster.endpointSlices) {
      if ((slice.metadata.namespace ?? 'default') !== ns || slice.metadata.labels?.['kubernetes.io/service-name'] !== service.metadata.name) continue;
      for (const e of slice.endpoints ?? []) {
        const refNs = e.targetRef?.namespace;
        if (refNs !== undefined && !partial.namespaces.has(refNs)) return `an endpoint of ${ns}/${service.metadata.name} names a pod in namespace ${refNs}`;
      }
    }
  }
  return null;
}
