import { environmentError, type KnetError } from '../../model/errors.js';
import { emptyCluster, type Cluster, type ClusterMeta, type ProxyMode } from '../../model/cluster.js';
import type { ConfigMap, KnownObject } from '../../model/k8s.js';
import type { OpenedCluster, SourceOptions } from '../cluster.js';
import { ApiClient, type ApiClientOptions, type ApiObject } from './api.js';
import { parseRequestTimeout } from './duration.js';
import { loadKubeConfig, type ResolvedKubeConfig } from './kubeconfig.js';
import { CommandNodeState } from '../command-node-state.js';
import { DEFAULT_DEBUG_IMAGE, DebugPods, type DebugPodOptions } from './debug-pod.js';
import { RESOURCES, resourceName, type ResourceName, type ResourceSpec } from './resources.js';

/** A connection to one cluster, as the kubeconfig and flags chose it. */
export interface LiveSession {
  api: ApiClient;
  kubeConfig: ResolvedKubeConfig;
  /** -n, else the context's namespace, else `default`. */
  namespace: string;
}

/** The ConfigMaps knet reads, and no others: kube-proxy's mode and CoreDNS's cluster domain. */
export const CONFIG_MAPS = [
  { namespace: 'kube-system', name: 'kube-proxy' },
  { namespace: 'kube-system', name: 'coredns' },
] as const;

/** The resources kept as objects of the Cluster (ServiceCIDR only feeds the metadata). */
type CollectionName = Exclude<ResourceName, 'serviceCIDRs'>;

/** How many list requests run at once: enough to hide latency, few enough not to be throttled. */
const LIST_CONCURRENCY = 4;

export async function connectLive(options: SourceOptions, clientOptions: Omit<ApiClientOptions, 'timeoutMs'> = {}): Promise<LiveSession> {
  const timeoutMs = parseRequestTimeout(options['request-timeout']);
  const kubeConfig = await loadKubeConfig({ kubeconfig: options.kubeconfig, context: options.context });
  const api = await ApiClient.create(kubeConfig, { ...clientOptions, timeoutMs });
  return { api, kubeConfig, namespace: options.namespace ?? kubeConfig.contextNamespace ?? 'default' };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface LiveObjects {
  cluster: Cluster;
  /** From the API server's default ServiceCIDR object (`kubernetes`), when it serves one. */
  serviceCIDRs?: string[];
  /** What could not be read and was left out (forbidden cluster-scoped kinds in a namespaced run). */
  warnings: string[];
}

/** Which namespaces to read namespaced kinds from: some, by name, or (undefined) every one. */
export interface LiveScope {
  namespaces?: readonly string[];
  /** Told after every page: how many objects of which resource have been read so far. */
  onProgress?: (resource: string, count: number) => void;
}

/**
 * A one-line counter on stderr while a big cluster is read, only on a terminal (the CLI contract:
 * progress goes to stderr, only on a TTY); `done()` clears it.
 */
export function stderrProgress(): { onProgress?: LiveScope['onProgress']; done: () => void } {
  if (!process.stderr.isTTY) return { done: () => undefined };
  const counts = new Map<string, number>();
  let last = 0;
  return {
    onProgress(resource, count) {
      counts.set(resource, count);
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const line = [...counts].map(([r, n]) => `${r} ${n}`).join(', ');
      process.stderr.write(`\r\x1b[KReading ${line}`);
    },
    done: () => {
      if (last > 0) process.stderr.write('\r\x1b[K');
    },
  };
}

/**
 * Read every kind knet knows, in some namespaces or cluster-wide. Namespaced kinds follow the scope
 * (one list per namespace, in name order as the API server orders a cluster-wide list); Nodes,
 * Namespaces and the admin policies are cluster-scoped and always listed whole. A user whose RBAC
 * covers only some namespaces may not list those: in a namespaced run that is a warning (the
 * Namespaces in scope are then read by name), with -A it is an error like any other.
 */
export async function readLiveObjects(session: LiveSession, scope: LiveScope): Promise<LiveObjects> {
  const { api } = session;
  const cluster = emptyCluster();
  const warnings: string[] = [];
  const namespaces = scope.namespaces === undefined ? undefined : [...new Set(scope.namespaces)].sort();
  const isNamespaced = namespaces !== undefined;
  const listScoped = async (spec: ResourceSpec): Promise<ApiObject[]> => {
    let count = 0;
    const onPage = (n: number): void => {
      count += n;
      scope.onProgress?.(spec.plural, count);
    };
    if (!spec.isNamespaced || namespaces === undefined) return api.list(spec, undefined, { onPage });
    const perNamespace: ApiObject[][] = [];
    for (const ns of namespaces) perNamespace.push(await api.list(spec, ns, { onPage }));
    return perNamespace.flat();
  };
  const tolerate = async (name: CollectionName, fallback: () => Promise<ApiObject[]>): Promise<ApiObject[]> => {
    const spec: ResourceSpec = RESOURCES[name];
    try {
      return await listScoped(spec);
    } catch (err) {
      const code = (err as KnetError).code;
      if (code === 'api-not-found' && spec.isOptional) return [];
      if (code === 'api-forbidden' && (spec.isOptional || (isNamespaced && !spec.isNamespaced))) {
        warnings.push(`RBAC forbids "list ${resourceName(spec)}": ${name} left out. ${(err as Error).message}`);
        return fallback();
      }
      throw err;
    }
  };
  const readNamespaces = async (): Promise<ApiObject[]> => {
    const found: ApiObject[] = [];
    for (const name of namespaces ?? []) {
      try {
        const ns = await api.get(RESOURCES.namespaces, undefined, name);
        if (ns) found.push(ns);
      } catch (err) {
        if ((err as KnetError).code !== 'api-forbidden') throw err;
        warnings.push(`RBAC forbids "get namespaces/${name}": its labels are unknown, so namespaceSelectors cannot match it.`);
      }
    }
    return found;
  };
  const lists: CollectionName[] = ['pods', 'services', 'endpoints', 'endpointSlices', 'networkPolicies', 'namespaces', 'nodes', 'adminNetworkPolicies', 'baselineAdminNetworkPolicies'];
  const results = await mapLimit(lists, LIST_CONCURRENCY, (name) => tolerate(name, name === 'namespaces' ? readNamespaces : () => Promise.resolve([])));
  lists.forEach((name, i) => {
    (cluster[name] as unknown as ApiObject[]).push(...results[i]!);
  });
  // Only the two ConfigMaps knet needs, each read by name: never a list of ConfigMaps (nor of Secrets).
  // They are read whatever the scope, as a snapshot holds them whatever -n says.
  for (const ref of CONFIG_MAPS) {
    try {
      const cm = await api.get(RESOURCES.configMaps, ref.namespace, ref.name);
      if (cm) cluster.configMaps.push(cm as unknown as ConfigMap);
    } catch (err) {
      // Useful, not needed: a cluster without kube-proxy (Cilium) or that hides kube-system still works.
      if ((err as KnetError).code !== 'api-forbidden') throw err;
    }
  }
  let serviceCIDRs: string[] | undefined;
  try {
    const cidr = await api.get(RESOURCES.serviceCIDRs, undefined, 'kubernetes');
    const cidrs = (cidr?.spec as { cidrs?: unknown } | undefined)?.cidrs;
    if (Array.isArray(cidrs) && cidrs.every((c) => typeof c === 'string')) serviceCIDRs = cidrs;
  } catch (err) {
    if ((err as KnetError).code !== 'api-forbidden') throw err;
  }
  return { cluster, warnings, ...(serviceCIDRs ? { serviceCIDRs } : {}) };
}

/** kube-proxy's `mode:` from its ConfigMap's config.conf (empty means iptables on Linux). */
export function proxyModeOf(configMaps: readonly ConfigMap[]): ProxyMode | undefined {
  const cm = configMaps.find((c) => c.metadata.namespace === 'kube-system' && c.metadata.name === 'kube-proxy');
  const conf = cm?.data?.['config.conf'];
  if (conf === undefined) return undefined;
  const mode = /^mode:\s*["']?([A-Za-z]*)["']?\s*$/m.exec(conf)?.[1] ?? '';
  if (mode === '') return 'iptables';
  return mode === 'iptables' || mode === 'ipvs' || mode === 'nftables' ? mode : undefined;
}

/** kube-proxy's `clusterCIDR:` (comma-separated when dual-stack): the pod network. */
export function podCIDRsOf(configMaps: readonly ConfigMap[]): string[] | undefined {
  const cm = configMaps.find((c) => c.metadata.namespace === 'kube-system' && c.metadata.name === 'kube-proxy');
  const value = /^clusterCIDR:\s*["']?([^"'\s]*)["']?\s*$/m.exec(cm?.data?.['config.conf'] ?? '')?.[1];
  const cidrs = value?.split(',').map((c) => c.trim()).filter((c) => c !== '');
  return cidrs && cidrs.length > 0 ? cidrs : undefined;
}

/** The first zone of CoreDNS's `kubernetes` plugin in its Corefile, e.g. `cluster.local`. */
export function clusterDomainOf(configMaps: readonly ConfigMap[]): string | undefined {
  const cm = configMaps.find((c) => c.metadata.namespace === 'kube-system' && c.metadata.name === 'coredns');
  const corefile = cm?.data?.Corefile;
  if (corefile === undefined) return undefined;
  const zone = /^\s*kubernetes\s+([^\s{]+)/m.exec(corefile)?.[1];
  return zone?.replace(/\.$/, '');
}

export function liveMeta(objects: LiveObjects, contextName: string, clusterDomain?: string): ClusterMeta {
  const { configMaps } = objects.cluster;
  const meta: ClusterMeta = { clusterDomain: clusterDomain ?? clusterDomainOf(configMaps) ?? 'cluster.local', context: contextName };
  const mode = proxyModeOf(configMaps);
  if (mode !== undefined) meta.proxyMode = mode;
  if (objects.serviceCIDRs !== undefined) meta.serviceCIDRs = objects.serviceCIDRs;
  const podCIDRs = podCIDRsOf(configMaps);
  if (podCIDRs !== undefined) meta.podCIDRs = podCIDRs;
  return meta;
}

export async function openLiveCluster(options: SourceOptions): Promise<OpenedCluster> {
  const session = await connectLive(options);
  const isAllNamespaces = options.allNamespaces ?? options['all-namespaces'] ?? false;
  const scope: LiveScope = isAllNamespaces ? {} : { namespaces: [session.namespace, ...(options.namespaces ?? [])] };
  const progress = stderrProgress();
  const objects = await readLiveObjects(session, { ...scope, onProgress: progress.onProgress }).finally(progress.done);
  const { cluster, warnings } = objects;
  for (const w of warnings) process.stderr.write(`Warning: ${w}\n`);
  cluster.meta = liveMeta(objects, session.kubeConfig.contextName, options['cluster-domain']);
  const count = (Object.keys(RESOURCES) as ResourceName[]).filter((k): k is CollectionName => k in cluster).reduce((n, k) => n + (cluster[k] as KnownObject[]).length, 0);
  if (count === 0 && warnings.length > 0) {
    throw environmentError(`nothing could be read from context "${session.kubeConfig.contextName}"`, 'api-forbidden', warnings);
  }
  const nodeState = await liveNodeState(session, options, () => Promise.resolve(cluster.nodes.map((n) => n.metadata.name).sort()));
  return {
    cluster,
    nodeState,
    namespace: session.namespace,
    clusterDomain: cluster.meta.clusterDomain ?? 'cluster.local',
    origin: `context ${session.kubeConfig.contextName}`,
    skipped: {},
    close: () => nodeState.close(),
  };
}

/** activeDeadlineSeconds of a debug pod: long enough for a big node's reads, short enough to not linger. */
export const DEBUG_POD_DEADLINE_SECONDS = 900;

/** The debug-pod settings from the flags (and KNET_DEBUG_IMAGE), with their defaults. */
export function debugPodOptions(session: LiveSession, options: SourceOptions): DebugPodOptions {
  return {
    namespace: options['debug-namespace'] ?? session.namespace,
    image: options.image ?? (process.env.KNET_DEBUG_IMAGE || DEFAULT_DEBUG_IMAGE),
    isPrivileged: options.privileged ?? false,
    deadlineSeconds: DEBUG_POD_DEADLINE_SECONDS,
    startTimeoutMs: parseRequestTimeout(options['pod-timeout'] ?? '2m', '--pod-timeout') ?? 2 * 60_000,
    execTimeoutMs: parseRequestTimeout(options['exec-timeout'] ?? '1m', '--exec-timeout') ?? 60_000,
    daemonSetDeadlineMs: parseRequestTimeout(options['daemonset-deadline'] ?? `${DEBUG_POD_DEADLINE_SECONDS}s`, '--daemonset-deadline') ?? DEBUG_POD_DEADLINE_SECONDS * 1000,
  };
}

/**
 * Node state of a live cluster, read by commands run on each node: in one debug pod per node, or
 * (--daemonset) in the pods of one short-lived DaemonSet. Nothing is created until a node is read.
 */
export async function liveNodeState(session: LiveSession, options: SourceOptions, nodes: () => Promise<string[]>): Promise<CommandNodeState> {
  const settings = debugPodOptions(session, options);
  if (options.daemonset) {
    const { DebugDaemonSet } = await import('./daemonset.js');
    return new CommandNodeState(new DebugDaemonSet(session, settings), nodes);
  }
  return new CommandNodeState(new DebugPods(session, settings), nodes);
}
