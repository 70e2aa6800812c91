import type { KnownKind } from '../../model/k8s.js';

/** One API resource knet reads, and where it lives in the REST API. */
export interface ResourceSpec {
  /**
   * ServiceCIDR is read only for the snapshot metadata, never kept as an object; the others are what
   * debug pods need (knet's own pods and DaemonSets, their events, access reviews).
   */
  kind: KnownKind | 'ServiceCIDR' | 'DaemonSet' | 'Event' | 'SelfSubjectAccessReview';
  group: string;
  version: string;
  plural: string;
  isNamespaced: boolean;
  /** An API that many clusters do not serve (a 404 means "none", not an error). */
  isOptional?: boolean;
}

const core = (kind: KnownKind, plural: string, isNamespaced: boolean): ResourceSpec => ({ kind, group: '', version: 'v1', plural, isNamespaced });

export const RESOURCES = {
  pods: core('Pod', 'pods', true),
  services: core('Service', 'services', true),
  endpoints: core('Endpoints', 'endpoints', true),
  endpointSlices: { kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', isNamespaced: true },
  networkPolicies: { kind: 'NetworkPolicy', group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', isNamespaced: true },
  // policy.networking.k8s.io is a CRD of sig-network's network-policy-api, installed on few clusters.
  adminNetworkPolicies: {
    kind: 'AdminNetworkPolicy', group: 'policy.networking.k8s.io', version: 'v1alpha1', plural: 'adminnetworkpolicies', isNamespaced: false, isOptional: true,
  },
  baselineAdminNetworkPolicies: {
    kind: 'BaselineAdminNetworkPolicy', group: 'policy.networking.k8s.io', version: 'v1alpha1', plural: 'baselineadminnetworkpolicies', isNamespaced: false, isOptional: true,
  },
  namespaces: core('Namespace', 'namespaces', false),
  nodes: core('Node', 'nodes', false),
  configMaps: core('ConfigMap', 'configmaps', true),
  // networking.k8s.io/v1 since Kubernetes 1.33; older clusters answer 404.
  serviceCIDRs: { kind: 'ServiceCIDR', group: 'networking.k8s.io', version: 'v1', plural: 'servicecidrs', isNamespaced: false, isOptional: true },
} as const satisfies Record<string, ResourceSpec>;

export type ResourceName = keyof typeof RESOURCES;

/** What debug pods need besides the kinds knet reads: kept apart so that readers never list them. */
export const DEBUG_RESOURCES = {
  daemonSets: { kind: 'DaemonSet', group: 'apps', version: 'v1', plural: 'daemonsets', isNamespaced: true },
  events: { kind: 'Event', group: '', version: 'v1', plural: 'events', isNamespaced: true },
  accessReviews: { kind: 'SelfSubjectAccessReview', group: 'authorization.k8s.io', version: 'v1', plural: 'selfsubjectaccessreviews', isNamespaced: false },
} as const satisfies Record<string, ResourceSpec>;

export function apiVersionOf(spec: ResourceSpec): string {
  return spec.group === '' ? spec.version : `${spec.group}/${spec.version}`;
}

/** `endpointslices.discovery.k8s.io`, `pods`: the name RBAC rules and `kubectl auth can-i` use. */
export function resourceName(spec: ResourceSpec): string {
  return spec.group === '' ? spec.plural : `${spec.plural}.${spec.group}`;
}

/** The REST path of a collection, or of one object when `name` is given. */
export function resourcePath(spec: ResourceSpec, namespace?: string, name?: string): string {
  const base = spec.group === '' ? `/api/${spec.version}` : `/apis/${spec.group}/${spec.version}`;
  const ns = spec.isNamespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${spec.plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
}
