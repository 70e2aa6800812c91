import type {
  AdminNetworkPolicy,
  ConfigMap,
  EndpointSlice,
  Endpoints,
  Namespace,
  NetworkPolicy,
  Node,
  Pod,
  Service,
} from './k8s.js';

export type ProxyMode = 'iptables' | 'ipvs' | 'nftables';

/** What the API does not hold: from `knet-snapshot.yaml`, or learnt from the live cluster. */
export interface ClusterMeta {
  clusterDomain?: string;
  proxyMode?: ProxyMode;
  takenAt?: string;
  takenBy?: string;
  context?: string;
  serviceCIDRs?: string[];
  podCIDRs?: string[];
}

/** Every object knet knows, from one source, live or snapshot. Engines take this and nothing else. */
export interface Cluster {
  pods: Pod[];
  services: Service[];
  endpoints: Endpoints[];
  endpointSlices: EndpointSlice[];
  networkPolicies: NetworkPolicy[];
  adminNetworkPolicies: AdminNetworkPolicy[];
  baselineAdminNetworkPolicies: AdminNetworkPolicy[];
  namespaces: Namespace[];
  nodes: Node[];
  configMaps: ConfigMap[];
  meta: ClusterMeta;
}

export function emptyCluster(meta: ClusterMeta = {}): Cluster {
  return {
    pods: [],
    services: [],
    endpoints: [],
    endpointSlices: [],
    networkPolicies: [],
    adminNetworkPolicies: [],
    baselineAdminNetworkPolicies: [],
    namespaces: [],
    nodes: [],
    configMaps: [],
    meta,
  };
}

export function objectKey(obj: { metadata: { namespace?: string; name: string } }): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}
