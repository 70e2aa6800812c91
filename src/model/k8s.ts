// The Kubernetes objects knet reads, as their JSON appears from the API or `kubectl get -o yaml|json`.
// Only the fields knet uses are typed; everything is optional where the API allows it to be absent.
// These are knet's own types (not client-node's) so that engines never depend on the client.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  ownerReferences?: { kind: string; name: string; uid?: string; controller?: boolean }[];
}

export interface LabelSelectorRequirement {
  key: string;
  /** In, NotIn, Exists or DoesNotExist; kept as string so that an invalid one can be reported, not rejected. */
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: Protocol;
  hostPort?: number;
}

export interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
}

export interface PodCondition {
  type: string;
  /** True, False or Unknown. */
  status: string;
}

export interface Pod {
  apiVersion?: string;
  kind: 'Pod';
  metadata: ObjectMeta;
  spec?: {
    nodeName?: string;
    hostNetwork?: boolean;
    hostname?: string;
    subdomain?: string;
    dnsPolicy?: string;
    dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
    containers?: Container[];
    initContainers?: (Container & { restartPolicy?: string })[];
  };
  status?: {
    /** Pending, Running, Succeeded, Failed or Unknown. */
    phase?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    hostIP?: string;
    conditions?: PodCondition[];
  };
}

export interface ServicePort {
  name?: string;
  protocol?: Protocol;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  appProtocol?: string;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface Service {
  apiVersion?: string;
  kind: 'Service';
  metadata: ObjectMeta;
  spec?: {
    type?: ServiceType;
    selector?: Record<string, string>;
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: string[];
    ports?: ServicePort[];
    externalName?: string;
    externalIPs?: string[];
    loadBalancerIP?: string;
    loadBalancerSourceRanges?: string[];
    publishNotReadyAddresses?: boolean;
    sessionAffinity?: 'None' | 'ClientIP';
    externalTrafficPolicy?: 'Cluster' | 'Local';
    internalTrafficPolicy?: 'Cluster' | 'Local';
    healthCheckNodePort?: number;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: ObjectReference;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: Protocol;
}

export interface Endpoints {
  apiVersion?: string;
  kind: 'Endpoints';
  metadata: ObjectMeta;
  subsets?: { addresses?: EndpointAddress[]; notReadyAddresses?: EndpointAddress[]; ports?: EndpointPort[] }[];
}

export interface EndpointSliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: ObjectReference;
}

export interface EndpointSlice {
  apiVersion?: string;
  kind: 'EndpointSlice';
  metadata: ObjectMeta;
  /** IPv4, IPv6 or FQDN (deprecated). */
  addressType: string;
  endpoints?: EndpointSliceEndpoint[] | null;
  ports?: { name?: string; port?: number; protocol?: Protocol; appProtocol?: string }[] | null;
}

export interface NetworkPolicyPort {
  protocol?: Protocol;
  port?: number | string;
  endPort?: number;
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicy {
  apiVersion?: string;
  kind: 'NetworkPolicy';
  metadata: ObjectMeta;
  spec?: {
    podSelector?: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: { from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
    egress?: { to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
  };
}

/** policy.networking.k8s.io AdminNetworkPolicy / BaselineAdminNetworkPolicy; typed loosely, read by src/policy. */
export interface AdminNetworkPolicy {
  apiVersion?: string;
  kind: 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy';
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
}

export interface Namespace {
  apiVersion?: string;
  kind: 'Namespace';
  metadata: ObjectMeta;
  status?: { phase?: string };
}

export interface Node {
  apiVersion?: string;
  kind: 'Node';
  metadata: ObjectMeta;
  spec?: { podCIDR?: string; podCIDRs?: string[]; unschedulable?: boolean };
  status?: {
    addresses?: { type: string; address: string }[];
    conditions?: PodCondition[];
    nodeInfo?: { kubeProxyVersion?: string; kubeletVersion?: string };
  };
}

/** A ConfigMap, kept only for kube-proxy's and CoreDNS's configuration. */
export interface ConfigMap {
  apiVersion?: string;
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data?: Record<string, string>;
}

export type KnownObject =
  | Pod
  | Service
  | Endpoints
  | EndpointSlice
  | NetworkPolicy
  | AdminNetworkPolicy
  | Namespace
  | Node
  | ConfigMap;

export type KnownKind = KnownObject['kind'];
