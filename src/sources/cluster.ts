import type { Cluster } from '../model/cluster.js';
import type { NodeStateSource } from './node-state.js';
import { loadSnapshot } from './snapshot.js';
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
  /** Where node state comes from on a live cluster (see src/cli/flags.ts `debugPodFlags`). */
  'debug-namespace'?: string;
  image?: string;
  privileged?: boolean;
  'pod-timeout'?: string;
  'exec-timeout'?: string;
  daemonset?: boolean;
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
  /** Removes what reading node state made (debug pods, a DaemonSet); the CLI also does it when the command ends (src/sources/opened.ts). */
  close: () => Promise<void>;
}

async function localNodeState(): Promise<NodeStateSource & { close(): Promise<void> }> {
  const { localNodeState: make } = await import('./local.js');
  return make();
}

export async function openCluster(options: SourceOptions): Promise<OpenedCluster> {
  let result: OpenedCluster;
  if (options.snapshot !== undefined) {
    const snap = await loadSnapshot(options.snapshot);
    result = {
      cluster: snap.cluster,
      nodeState: snap.nodeState,
      namespace: options.namespace ?? 'default',
      clusterDomain: options['cluster-domain'] ?? snap.cluster.meta.clusterDomain ?? 'cluster.local',
      origin: `snapshot ${options.snapshot}`,
      skipped: snap.skipped,
      close: () => Promise.resolve(),
    };
  } else {
    // The live path imports @kubernetes/client-node, which is slow to load: only ever lazily.
    const { openLiveCluster } = await import('./live/cluster.js');
    result = await openLiveCluster(options);
  }
  if (options.local) {
    const previous = result.close;
    const local = await localNodeState();
    result = { ...result, nodeState: local, close: () => Promise.all([previous(), local.close()]).then(() => undefined) };
  }
  onCommandEnd(result.close);
  return result;
}
