import { Args, Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../../cli/base.js';
import { inputError } from '../../model/errors.js';
import { clusterFlags } from '../../cli/flags.js';
import type { ClusterMeta } from '../../model/cluster.js';
import { renderTable } from '../../render/table.js';

export interface SnapshotSaveResult {
  dir: string;
  context: string;
  /** The one namespace saved, or null for the whole cluster. */
  namespace: string | null;
  replaced: boolean;
  files: { file: string; kind: string; count: number }[];
  objects: number;
  meta: ClusterMeta;
  nodeState: { saved: false; reason: string };
  warnings: string[];
}

const { kubeconfig, context, 'request-timeout': requestTimeout } = clusterFlags;

export default class SnapshotSave extends KnetCommand<typeof SnapshotSave, SnapshotSaveResult> {
  static override summary = 'Save the cluster objects knet reads into a snapshot directory';

  static override description = `Writes the snapshot layout every command reads with --snapshot: one kind: List YAML file per kind
(pods.yaml, services.yaml, endpointslices.yaml, …) and knet-snapshot.yaml with the cluster domain, kube-proxy
mode, time and context. Secrets are never read; of ConfigMaps only kube-proxy's and CoreDNS's are.
Node state (nodes/<node>/…) is not saved by this version. DIR must be new or empty; --force replaces a
snapshot knet wrote before, and nothing else.`;

  static override examples = [
    { description: 'Save the whole cluster of the current context', command: '<%= config.bin %> snapshot save ./snap' },
    { description: 'Save one namespace, then check its Services offline', command: '<%= config.bin %> snapshot save ./snap -n shop && <%= config.bin %> endpoints -n shop --snapshot ./snap' },
    { description: 'Refresh a snapshot taken earlier', command: '<%= config.bin %> snapshot save ./snap --context prod --force' },
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
    const files = await writeSnapshot(args.dir, target, cluster, { ...meta, ...(flags.namespace ? { namespace: flags.namespace } : {}) });
    return {
      dir: args.dir,
      context: session.kubeConfig.contextName,
      namespace: flags.namespace ?? null,
      replaced: target === 'previous-snapshot',
      files,
      objects: files.reduce((n, f) => n + f.count, 0),
      meta,
      nodeState: { saved: false, reason: 'node state (nodes/<node>/…) needs debug pods, which this version does not start' },
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
      c.yellow(`Objects only: ${result.nodeState.reason}. Add nodes/<node>/iptables-save.txt etc. by hand if you need them.`),
      ...result.warnings.map((w) => c.yellow(`Warning: ${w}`)),
      `Read it with: knet endpoints -A --snapshot ${result.dir}`,
    ];
    return lines.join('\n');
  }
}
