import { Args, Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../../cli/base.js';
import { inputError } from '../../model/errors.js';
import { clusterFlags, debugPodFlags } from '../../cli/flags.js';
import { onCommandEnd } from '../../sources/opened.js';
import type { ClusterMeta } from '../../model/cluster.js';
import { renderTable } from '../../render/table.js';
import { paragraphs } from '../../cli/prose.js';

export interface SnapshotSaveResult {
  dir: string;
  context: string;
  /** The one namespace saved, or null for the whole cluster. */
  namespace: string | null;
  replaced: boolean;
  files: { file: string; kind: string; count: number }[];
  objects: number;
  meta: ClusterMeta;
  /** saved: false with the reason when no node was asked for; else what each node gave. */
  nodeState: { saved: boolean; reason?: string; nodes?: { node: string; files: string[]; missing: { kind: string; reason: string }[] }[] };
  warnings: string[];
}

const { kubeconfig, context, 'request-timeout': requestTimeout } = clusterFlags;

export default class SnapshotSave extends KnetCommand<typeof SnapshotSave, SnapshotSaveResult> {
  static override summary = 'Save the cluster objects knet reads into a snapshot directory';

  static override description = paragraphs(`Writes the snapshot layout every command reads with --snapshot: one kind: List YAML file per kind
(pods.yaml, services.yaml, endpointslices.yaml, …) and knet-snapshot.yaml with the cluster domain, kube-proxy
mode, time and context. Secrets are never read; of ConfigMaps only kube-proxy's and CoreDNS's are.
With --nodes NODE… or --all-nodes, node state is saved too (nodes/<node>/iptables-save.txt, nft-ruleset.txt,
ipvsadm.txt, ipset.txt, conntrack.txt, ip-route.txt, …), read through a debug pod on each node as the
\`knet node\` commands read it, so that they replay offline with the same output. DIR must be new or
empty; --force replaces a snapshot knet wrote before, and nothing else.`);

  static override examples = [
    { description: 'Save the whole cluster of the current context', command: '<%= config.bin %> snapshot save ./snap' },
    { description: 'Save one namespace, then check its Services offline', command: '<%= config.bin %> snapshot save ./snap -n shop && <%= config.bin %> endpoints -n shop --snapshot ./snap' },
    { description: 'Refresh a snapshot taken earlier', command: '<%= config.bin %> snapshot save ./snap --context prod --force' },
    { description: "With two nodes' iptables, nftables, IPVS, conntrack and routes", command: '<%= config.bin %> snapshot save ./snap --nodes kind-worker --nodes kind-worker2' },
  ];

  static override args = {
    dir: Args.string({ description: 'Directory to write (new, empty, or a previous knet snapshot with --force)', required: true }),
  };

  static override flags = {
    kubeconfig,
    context,
    'request-timeout': requestTimeout,
    'cluster-domain': Flags.string({ description: "Cluster DNS domain to record (default: the zone of CoreDNS's kubernetes plugin, else cluster.local).", helpGroup: 'CLUSTER' }),
    namespace: Flags.string({ char: 'n', helpGroup: 'CLUSTER', description: 'Save only this namespace (cluster-scoped Nodes and Namespaces are still saved). Default: every namespace.' }),
    force: Flags.boolean({ description: 'Replace DIR when it holds a snapshot knet wrote earlier.' }),
    nodes: Flags.string({ description: 'Also save the node state of this node (repeat for more), through a debug pod.', multiple: true, exclusive: ['all-nodes'], helpGroup: 'NODE STATE' }),
    'all-nodes': Flags.boolean({ description: 'Also save the node state of every node, through debug pods.', helpGroup: 'NODE STATE' }),
    concurrency: Flags.integer({ description: 'How many nodes are read at once.', default: 4, min: 1, max: 64, helpGroup: 'NODE STATE' }),
    'debug-namespace': debugPodFlags['debug-namespace'],
    image: debugPodFlags.image,
    privileged: debugPodFlags.privileged,
    'pod-timeout': debugPodFlags['pod-timeout'],
    'exec-timeout': debugPodFlags['exec-timeout'],
    daemonset: Flags.boolean({ description: 'Read the nodes through one short-lived DaemonSet instead of a pod per node.', helpGroup: 'NODE STATE' }),
  };

  protected async execute(): Promise<SnapshotSaveResult> {
    const { flags, args } = this;
    if (args.dir.trim() === '') throw inputError('DIR is empty', 'bad-argument', ['Give a directory, e.g. ./snap.']);
    // Everything here talks to a cluster or the file system: loaded only when the command runs.
    const { checkSnapshotTarget, writeSnapshot } = await import('../../sources/live/save-snapshot.js');
    const target = await checkSnapshotTarget(args.dir, flags.force);
    const { connectLive, liveMeta, readLiveObjects, stderrProgress } = await import('../../sources/live/cluster.js');
    const session = await connectLive(flags);
    const progress = stderrProgress();
    const scope = flags.namespace === undefined ? {} : { namespaces: [flags.namespace] };
    const objects = await readLiveObjects(session, { ...scope, onProgress: progress.onProgress }).finally(progress.done);
    const { cluster, warnings } = objects;
    const meta: ClusterMeta = {
      ...liveMeta(objects, session.kubeConfig.contextName, flags['cluster-domain']),
      takenAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      takenBy: `knet ${this.config.version}`,
    };
    const wanted = flags['all-nodes'] ? cluster.nodes.map((n) => n.metadata.name).sort() : [...new Set(flags.nodes ?? [])];
    const known = new Set(cluster.nodes.map((n) => n.metadata.name));
    const unknown = wanted.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      const { closest } = await import('../../model/errors.js');
      throw inputError(`no node named ${unknown.join(', ')} in context ${session.kubeConfig.contextName}`, 'node-not-found', [
        ...unknown.flatMap((n) => closest(n, known).map((c) => `Did you mean ${c}?`)),
        `Nodes: ${[...known].sort().join(', ') || 'none'}`,
      ]);
    }
    let nodeReport: SnapshotSaveResult['nodeState'] = { saved: false, reason: 'no node was asked for (--nodes NODE or --all-nodes)' };
    let writeMore: ((dir: string) => Promise<{ file: string; kind: string; count: number }[]>) | undefined;
    if (wanted.length > 0) {
      const { liveNodeState } = await import('../../sources/live/cluster.js');
      const { saveNodeState } = await import('../../sources/live/save-node-state.js');
      const nodeState = await liveNodeState(session, { ...flags, 'debug-namespace': flags['debug-namespace'] ?? session.kubeConfig.contextNamespace ?? 'default' }, () => Promise.resolve(wanted));
      onCommandEnd(() => nodeState.close());
      writeMore = async (dir) => {
        const saved = await saveNodeState(nodeState, wanted, dir, flags.concurrency);
        nodeReport = { saved: true, nodes: saved.nodes };
        // The pods are done once everything is read: remove them before the snapshot takes DIR's place.
        await nodeState.close();
        return saved.files;
      };
    }
    const written = await writeSnapshot(args.dir, target, cluster, { ...meta, ...(flags.namespace ? { namespace: flags.namespace } : {}) }, writeMore);
    const files = written.filter((f) => f.kind !== 'NodeState');
    return {
      dir: args.dir,
      context: session.kubeConfig.contextName,
      namespace: flags.namespace ?? null,
      replaced: target === 'previous-snapshot',
      files,
      objects: files.reduce((n, f) => n + f.count, 0),
      meta,
      nodeState: nodeReport,
      warnings,
    };
  }

  protected renderText(result: SnapshotSaveResult, ctx: RenderContext): string {
    const { c } = ctx.style;
    const scope = result.namespace === null ? 'all namespaces' : `namespace ${result.namespace}`;
    const lines = [
      `${result.replaced ? 'Replaced' : 'Saved'} ${c.bold(result.dir)}: ${result.objects} objects from context ${result.context} (${scope}).`,
      '',
      renderTable(['file', 'kind', 'objects'], result.files.map((f) => [f.file, f.kind, String(f.count)]), ctx.style),
      '',
      `Cluster domain ${result.meta.clusterDomain ?? 'unknown'}, kube-proxy mode ${result.meta.proxyMode ?? 'unknown (its ConfigMap was not readable)'}.`,
      result.nodeState.saved
        ? `Node state of ${(result.nodeState.nodes ?? []).map((n) => `${n.node} (${n.files.length} files)`).join(', ')} in nodes/.`
        : c.yellow(`Objects only: ${result.nodeState.reason ?? ''}. Add --nodes NODE or --all-nodes for node state.`),
      ...result.warnings.map((w) => c.yellow(`Warning: ${w}`)),
      `Read it with: knet endpoints -A --snapshot ${result.dir}`,
    ];
    return lines.join('\n');
  }
}
