import type { Cluster } from '../model/cluster.js';
import type { EndpointSlice, Endpoints, Pod } from '../model/k8s.js';
import { matchesMap, type Labels } from '../model/labels.js';
import { canonicalIP } from '../model/ip.js';
import { isPodFinished, podIPs } from '../model/pod.js';

/**
 * Lookups the endpoints diff needs, built once in linear time, so that 10,000 services over 50,000 pods
 * never compare every service with every pod. The lookups by pod name and by IP are made per
 * namespace on first use: most endpoints name a pod the Service selects, found without them.
 */
export interface EndpointsIndex {
  podsByNamespace: Map<string, Pod[]>;
  /** namespace → label key → label value → pods with that label (nested maps: no key strings to build). */
  podsByLabel: Map<string, Map<string, Map<string, Pod[]>>>;
  /** The pod of that name in the namespace. */
  podByName(namespace: string, name: string): Pod | undefined;
  /** The pods of the namespace with that canonical IP (several when a finished pod's IP was reused). */
  podsByIP(namespace: string, ip: string): Pod[] | undefined;
  /** namespace → Service name → its EndpointSlices (by the kubernetes.io/service-name label). */
  slicesByService: Map<string, Map<string, EndpointSlice[]>>;
  /** namespace → Service name → its legacy Endpoints object. */
  endpointsByService: Map<string, Map<string, Endpoints>>;
  /** Whether the source holds any EndpointSlice at all (a snapshot may hold only Endpoints). */
  hasSlices: boolean;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function buildEndpointsIndex(cluster: Cluster): EndpointsIndex {
  const podsByNamespace = new Map<string, Pod[]>();
  const podsByLabel = new Map<string, Map<string, Map<string, Pod[]>>>();
  // Only label keys some Service selects on are indexed: pod-template-hash and the like never are.
  const selectorKeys = new Set<string>();
  for (const svc of cluster.services) for (const k in svc.spec?.selector ?? {}) selectorKeys.add(k);
  let ns: string | undefined;
  let inNamespace: Pod[] = [];
  let byLabel = new Map<string, Map<string, Pod[]>>();
  for (const pod of cluster.pods) {
    const podNs = pod.metadata.namespace ?? 'default';
    // Pods come grouped by namespace: look the namespace's lists up only when it changes.
    if (podNs !== ns) {
      ns = podNs;
      inNamespace = podsByNamespace.get(ns) ?? [];
      podsByNamespace.set(ns, inNamespace);
      byLabel = podsByLabel.get(ns) ?? new Map<string, Map<string, Pod[]>>();
      podsByLabel.set(ns, byLabel);
    }
    inNamespace.push(pod);
    const labels = pod.metadata.labels;
    for (const k in labels) {
      if (!selectorKeys.has(k)) continue;
      let byValue = byLabel.get(k);
      if (!byValue) byLabel.set(k, (byValue = new Map<string, Pod[]>()));
      push(byValue, labels[k]!, pod);
    }
  }
  const byName = new Map<string, Map<string, Pod>>();
  const byIP = new Map<string, Map<string, Pod[]>>();
  const index: EndpointsIndex = {
    podsByNamespace,
    podsByLabel,
    podByName(namespace, name) {
      let pods = byName.get(namespace);
      if (!pods) {
        byName.set(namespace, (pods = new Map<string, Pod>()));
        for (const pod of podsByNamespace.get(namespace) ?? []) pods.set(pod.metadata.name, pod);
      }
      return pods.get(name);
    },
    podsByIP(namespace, ip) {
      let pods = byIP.get(namespace);
      if (!pods) {
        byIP.set(namespace, (pods = new Map<string, Pod[]>()));
        for (const pod of podsByNamespace.get(namespace) ?? []) for (const podIP of podIPs(pod)) push(pods, canonicalIP(podIP), pod);
      }
      return pods.get(ip);
    },
    slicesByService: new Map(),
    endpointsByService: new Map(),
    hasSlices: cluster.endpointSlices.length > 0,
  };
  for (const slice of cluster.endpointSlices) {
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (service) push(inner(index.slicesByService, slice.metadata.namespace ?? 'default'), service, slice);
  }
  for (const ep of cluster.endpoints) inner(index.endpointsByService, ep.metadata.namespace ?? 'default').set(ep.metadata.name, ep);
  return index;
}

/** The inner map of `outer` at `key`, made when missing. */
function inner<V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let map = outer.get(key);
  if (!map) outer.set(key, (map = new Map<string, V>()));
  return map;
}

/** Pods in `namespace` whose labels carry every pair of a Service selector (a non-empty map); with `isLiveOnly`, not the finished ones. */
export function selectPods(index: EndpointsIndex, namespace: string, selector: Labels, isLiveOnly = false): Pod[] {
  const byLabel = index.podsByLabel.get(namespace);
  if (!byLabel) return [];
  let smallest: Pod[] | undefined;
  for (const k in selector) {
    const candidates = byLabel.get(k)?.get(selector[k]!);
    if (!candidates) return [];
    if (!smallest || candidates.length < smallest.length) smallest = candidates;
  }
  const out: Pod[] = [];
  for (const p of smallest ?? []) if (matchesMap(selector, p.metadata.labels) && !(isLiveOnly && isPodFinished(p))) out.push(p);
  return out;
}
