import type { Cluster } from '../model/cluster.js';
import type { NodeStateSource } from './node-state.js';
import type { PartialRead } from '../model/scope.js';
import { parseRequestTimeout } from './live/duration.js';
import { loadSnapshot } from './snapshot.js';
import { closest, inputError } from '../model/errors.js';
import { stripControl } from '../model/text.js';
import { validateCluster } from '../model/validate.js';
import { onCommandEnd } from './opened.js';

/** The flags that choose and shape a cluster source (see src/cli/flags.ts `clusterFlags`). */
export interface SourceOptions {
  snapshot?: string;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  'cluster-domain'?: string;
  'request-timeout'?: string;
  /** Whether the command looks at every namespace (-A); a live source then lists cluster-wide. */
  allNamespaces?: boolean;
  /** The -A flag as oclif parses it, for commands that pass their flags straight through: same meaning. */
  'all-namespaces'?: boolean;
  /**
   * Namespaces a command needs besides -n (those its references name, e.g. `svc/NAME.NS` or a SRC
   * in another namespace): a live source lists them too. A snapshot holds every namespace anyway.
   */
  namespaces?: string[];
  /**
   * Read only these namespaces' objects, and every cluster-scoped one, where the source can tell them
   * apart cheaply (a snapshot's List files; see src/sources/scoped-list.ts). The opened cluster's
   * `partial` then says what was left out; kinds knet does not read are not reported (the caller does,
   * with `reportSkipped`, once it keeps the read). A live source reads as it always does.
   */
  onlyNamespaces?: string[];
  /** Where node state comes from on a live cluster (see src/cli/flags.ts `debugPodFlags`). */
  'debug-namespace'?: string;
  image?: string;
  privileged?: boolean;
  'pod-timeout'?: string;
  'exec-timeout'?: string;
  daemonset?: boolean;
  'daemonset-deadline'?: string;
  /** Node state from the machine knet runs on (a node), whatever the cluster objects come from. */
  local?: boolean;
}

/** One cluster, live or from a snapshot: engines see only `cluster` and `nodeState`. */
export interface OpenedCluster {
  cluster: Cluster;
  nodeState: NodeStateSource;
  /** The namespace for names given without one: -n, else the context's, else `default`. */
  namespace: string;
  clusterDomain: string;
  /** `snapshot DIR` or `context NAME`, for headers and messages. */
  origin: string;
  /** Kinds in the source that knet did not read, with counts. */
  skipped: Record<string, number>;
  /** Set when the source read only `onlyNamespaces` and left objects out. */
  partial?: PartialRead;
  /** Removes what reading node state made (debug pods, a DaemonSet); the CLI also does it when the command ends (src/sources/opened.ts). */
  close: () => Promise<void>;
}

async function localNodeState(): Promise<NodeStateSource & { close(): Promise<void> }> {
  const { localNodeState: make } = await import('./local.js');
  return make();
}

/**
 * The one way every command reads a cluster, live or from a snapshot. Whatever the source, the objects
 * pass `validateCluster` (src/model/validate.ts) before any engine sees them, the namespace named by
 * -n must exist, and kinds knet did not read are said on stderr.
 */
export async function openCluster(options: SourceOptions): Promise<OpenedCluster> {
  let result: OpenedCluster;
  let unregister = (): void => undefined;
  if (options.snapshot !== undefined) {
    // A snapshot has no requests to time, but a bad value is still a mistake to say, not to pass over.
    parseRequestTimeout(options['request-timeout']);
    const snap = await loadSnapshot(options.snapshot, options.onlyNamespaces ? { namespaces: options.onlyNamespaces } : {});
    validateCluster(snap.cluster, snap.originOf, snap.unchecked);
    result = {
      cluster: snap.cluster,
      nodeState: snap.nodeState,
      namespace: options.namespace ?? 'default',
      clusterDomain: options['cluster-domain'] ?? snap.cluster.meta.clusterDomain ?? 'cluster.local',
      origin: `snapshot ${options.snapshot}`,
      skipped: snap.skipped,
      ...(snap.partial ? { partial: snap.partial } : {}),
      close: () => Promise.resolve(),
    };
  } else {
    // The live path imports @kubernetes/client-node, which is slow to load: only ever lazily.
    const { openLiveCluster } = await import('./live/cluster.js');
    result = await openLiveCluster(options);
    // Closed at the end of the command even when what was read is refused below.
    unregister = onCommandEnd(result.close);
    const source = `the API server (${result.origin})`;
    validateCluster(result.cluster, () => ({ source }));
  }
  if (!options.onlyNamespaces) reportSkipped(result.skipped);
  if (options.namespace !== undefined && !(options.allNamespaces ?? options['all-namespaces'])) checkNamespace(result, options.namespace);
  if (options.local) {
    const previous = result.close;
    const local = await localNodeState();
    result = { ...result, nodeState: local, close: () => Promise.all([previous(), local.close()]).then(() => undefined) };
  }
  unregister();
  onCommandEnd(result.close);
  return result;
}

/** One line on stderr for the kinds knet did not read, so that nothing is dropped without a word. */
export function reportSkipped(skipped: Record<string, number>): void {
  const kinds = Object.entries(skipped);
  if (kinds.length === 0) return;
  const list = kinds.map(([kind, n]) => `${n} ${kind}`).join(', ');
  process.stderr.write(`Note: objects of kinds knet does not read were ignored: ${stripControl(list)}\n`);
}

/**
 * A namespace given with -n that holds nothing and is not a Namespace object is a typo far more often
 * than an empty namespace: exit 2 with the close names, not "No services found" and exit 0.
 */
function checkNamespace(opened: OpenedCluster, namespace: string): void {
  const c = opened.cluster;
  const known = new Set<string>(c.namespaces.map((n) => n.metadata.name));
  for (const list of [c.pods, c.services, c.endpoints, c.endpointSlices, c.networkPolicies, c.configMaps]) {
    for (const o of list) if (o.metadata.namespace) known.add(o.metadata.namespace);
  }
  // A live source that could not list Namespaces and found nothing cannot tell a typo from an empty namespace.
  if (known.size === 0 || known.has(namespace)) return;
  const near = closest(namespace, known);
  throw inputError(`namespace "${namespace}" not found in ${opened.origin}`, 'namespace-not-found', [
    near.length ? `Did you mean ${near.map((n) => `-n ${n}`).join(', ')}?` : `Namespaces: ${[...known].sort().slice(0, 20).join(', ')}`,
  ]);
}
