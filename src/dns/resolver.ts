// A pod's resolver, as the kubelet writes its resolv.conf and as glibc's res_nsearch walks it.
import type { Cluster } from '../model/cluster.js';
import type { Pod } from '../model/k8s.js';
import { normalizeName } from './records.js';

export interface ResolverPlan {
  /** `NS/NAME` of the pod, or null for a pod that would be in `namespace` with dnsPolicy ClusterFirst. */
  pod: string | null;
  namespace: string;
  /** As the pod spec says it (the API's default is ClusterFirst). */
  dnsPolicy: string;
  nameservers: string[];
  searchList: string[];
  ndots: number;
  /** What knet cannot see or had to assume, in sentences. */
  notes: string[];
}

/** The kubelet keeps at most 32 search domains (MaxDNSSearchPaths) and 2048 characters of them. */
const maxSearchDomains = 32;
const maxSearchLength = 2048;

/** The cluster DNS Service's ClusterIP, which the kubelet's clusterDNS normally names. */
export function clusterDnsIPs(cluster: Cluster): string[] {
  const svc =
    cluster.services.find((s) => s.metadata.namespace === 'kube-system' && s.metadata.name === 'kube-dns') ??
    cluster.services.find((s) => s.metadata.namespace === 'kube-system' && s.metadata.labels?.['k8s-app'] === 'kube-dns');
  const ips = svc?.spec?.clusterIPs?.length ? svc.spec.clusterIPs : svc?.spec?.clusterIP ? [svc.spec.clusterIP] : [];
  return ips.filter((ip) => ip !== 'None');
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

export interface PlanOptions {
  clusterDomain: string;
  /** The namespace of the pod that would be there when `pod` is not given. */
  namespace: string;
  pod?: Pod;
}

/**
 * The search list, ndots and nameservers of a pod's resolv.conf, as the kubelet builds it from the pod's
 * dnsPolicy and dnsConfig: ClusterFirst (and ClusterFirstWithHostNet) get the cluster DNS and
 * `NS.svc.ZONE svc.ZONE ZONE` with ndots 5; ClusterFirst with hostNetwork and Default get the node's
 * resolv.conf; None gets only dnsConfig. dnsConfig's nameservers and searches are appended, its options
 * override.
 */
export function planResolver(cluster: Cluster, options: PlanOptions): ResolverPlan {
  const zone = normalizeName(options.clusterDomain);
  const pod = options.pod;
  const namespace = pod?.metadata.namespace ?? options.namespace;
  const dnsPolicy = pod?.spec?.dnsPolicy ?? 'ClusterFirst';
  const isHostNetwork = pod?.spec?.hostNetwork === true;
  const notes: string[] = [];
  let nameservers: string[] = [];
  let searchList: string[] = [];
  let ndots = 1;
  const clusterFirst = dnsPolicy === 'ClusterFirstWithHostNet' || (dnsPolicy === 'ClusterFirst' && !isHostNetwork);
  if (clusterFirst) {
    nameservers = clusterDnsIPs(cluster);
    if (!nameservers.length) notes.push('No kube-system/kube-dns Service was found: the nameserver is whatever the kubelet\'s clusterDNS names.');
    searchList = [`${namespace}.svc.${zone}`, `svc.${zone}`, zone];
    ndots = 5;
    notes.push("The kubelet also appends the node's own search domains, which knet cannot see.");
  } else if (dnsPolicy === 'None') {
    notes.push('dnsPolicy None: the resolver has only what dnsConfig gives it.');
  } else {
    // Default, and ClusterFirst on the host network, which the kubelet treats as Default.
    notes.push(
      dnsPolicy === 'ClusterFirst'
        ? 'dnsPolicy ClusterFirst on the host network falls back to Default: the node\'s resolv.conf, which knet cannot see; cluster names do not resolve there unless the node uses the cluster DNS. Use ClusterFirstWithHostNet.'
        : "dnsPolicy Default: the node's resolv.conf, which knet cannot see; cluster names resolve only if the node's nameserver serves them.",
    );
  }
  const config = pod?.spec?.dnsConfig;
  if (config) {
    nameservers = unique([...nameservers, ...(config.nameservers ?? [])]);
    searchList = unique([...searchList, ...(config.searches ?? []).map(normalizeName)]);
    for (const o of config.options ?? []) {
      if (o.name === 'ndots' && o.value !== undefined && /^\d+$/.test(o.value)) ndots = Math.min(Number(o.value), 15);
    }
  }
  if (searchList.length > maxSearchDomains) {
    notes.push(`The kubelet keeps only the first ${maxSearchDomains} of ${searchList.length} search domains.`);
    searchList = searchList.slice(0, maxSearchDomains);
  }
  while (searchList.join(' ').length > maxSearchLength) searchList = searchList.slice(0, -1);
  return {
    pod: pod ? `${namespace}/${pod.metadata.name}` : null,
    namespace,
    dnsPolicy,
    nameservers,
    searchList,
    ndots,
    notes,
  };
}

/**
 * The names a resolver tries, in order (glibc res_nsearch): a trailing dot means that name only; a name
 * with at least ndots dots is tried as it is first; then each search domain appended; then the name as it
 * is, if not tried yet.
 */
export function searchSequence(name: string, plan: Pick<ResolverPlan, 'searchList' | 'ndots'>): string[] {
  const trimmed = name.trim();
  if (trimmed.endsWith('.')) return [normalizeName(trimmed)];
  const bare = normalizeName(trimmed);
  const dots = (bare.match(/\./g) ?? []).length;
  const out: string[] = [];
  if (dots >= plan.ndots) out.push(bare);
  for (const domain of plan.searchList) out.push(`${bare}.${domain}`);
  if (dots < plan.ndots) out.push(bare);
  return unique(out);
}

/** The pod `--from` defaults to: a running pod in the namespace whose resolver uses the cluster DNS. */
export function defaultSourcePod(cluster: Cluster, namespace: string): Pod | undefined {
  return cluster.pods
    .filter((p) => p.metadata.namespace === namespace && p.status?.phase === 'Running' && !p.spec?.hostNetwork && (p.spec?.dnsPolicy ?? 'ClusterFirst') === 'ClusterFirst' && !p.spec?.dnsConfig)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))[0];
}
