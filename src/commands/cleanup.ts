import { Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../cli/base.js';
import { environmentError, inputError, type KnetError } from '../model/errors.js';
import { clusterFlags } from '../cli/flags.js';
import { renderTable } from '../render/table.js';
import { paragraphs } from '../cli/prose.js';

export interface CleanupResult {
  /** The namespace searched, or null for all of them. */
  namespace: string | null;
  dryRun: boolean;
  pods: { namespace: string; name: string; node: string | null; phase: string | null; result: 'deleted' | 'already-gone' | 'would-delete' }[];
  /** DaemonSets of `--daemonset` runs; their pods go with them. */
  daemonSets: { namespace: string; name: string; result: 'deleted' | 'already-gone' | 'would-delete' }[];
  /** Ephemeral containers of `knet trace --probe` in the pods searched: reported, never removed (Kubernetes cannot). */
  probeContainers: { namespace: string; pod: string; container: string; state: string }[];
}

const { kubeconfig, context, 'request-timeout': requestTimeout } = clusterFlags;

export default class Cleanup extends KnetCommand<typeof Cleanup, CleanupResult> {
  static override summary = 'Delete debug pods and DaemonSets knet left behind';

  static override description = paragraphs(`Finds pods and DaemonSets labelled app.kubernetes.io/managed-by=knet (and only those) and deletes them.
knet removes its debug pods itself and gives each a deadline, so leftovers are rare: a killed run or a
lost connection. A DaemonSet of --daemonset has no deadline: a killed run leaves it until cleanup.
Looks in the debug namespace (--debug-namespace, default the context's namespace) or, with -A, everywhere.
Also lists the ephemeral containers knet trace --probe added to pods there (knet-probe-…): Kubernetes
cannot remove an ephemeral container from a pod, so they are reported, not deleted; they exit on their own
and go with the pod.`);

  static override examples = [
    { description: 'See what would be deleted, in every namespace', command: '<%= config.bin %> cleanup -A --dry-run' },
    { description: 'Delete leftovers in the namespace debug pods run in', command: '<%= config.bin %> cleanup --debug-namespace knet-debug' },
  ];

  static override flags = {
    kubeconfig,
    context,
    'request-timeout': requestTimeout,
    'debug-namespace': Flags.string({ description: "Namespace of knet's debug pods (default: the context's namespace, else default).", helpGroup: 'CLUSTER' }),
    'all-namespaces': Flags.boolean({ char: 'A', description: 'Look in every namespace.', helpGroup: 'CLUSTER' }),
    'dry-run': Flags.boolean({ description: 'List the pods that would be deleted; delete nothing.' }),
  };

  protected async execute(): Promise<CleanupResult> {
    const { flags } = this;
    if (flags['all-namespaces'] && flags['debug-namespace'] !== undefined) {
      throw inputError('--debug-namespace and -A (all namespaces) cannot be used together', 'conflicting-flags', ['Use one of them.']);
    }
    const { connectLive } = await import('../sources/live/cluster.js');
    const { deleteDebugDaemonSet, deleteDebugPod, findDebugDaemonSets, findDebugPods, findProbeContainers } = await import('../sources/live/cleanup.js');
    const session = await connectLive({ ...flags, namespace: flags['debug-namespace'] });
    const namespace = flags['all-namespaces'] ? undefined : session.namespace;
    const failures: KnetError[] = [];
    // DaemonSets first: deleting their pods alone would only have the controller start new ones.
    const daemonSets: CleanupResult['daemonSets'] = [];
    let sets: Awaited<ReturnType<typeof findDebugDaemonSets>> = [];
    try {
      sets = await findDebugDaemonSets(session, namespace);
    } catch (err) {
      // Users who never ran --daemonset may not be allowed to list DaemonSets: pods are still cleaned.
      if ((err as KnetError).code !== 'api-forbidden' && (err as KnetError).code !== 'api-not-found') throw err;
    }
    for (const set of sets) {
      let result: CleanupResult['daemonSets'][number]['result'] = 'would-delete';
      if (!flags['dry-run']) {
        try {
          result = (await deleteDebugDaemonSet(session, set)) === 'deleted' ? 'deleted' : 'already-gone';
        } catch (err) {
          failures.push(err as KnetError);
          continue;
        }
      }
      daemonSets.push({ namespace: set.namespace, name: set.name, result });
    }
    const owned = new Set(sets.map((d) => `${d.namespace}/${d.name}`));
    const found = (await findDebugPods(session, namespace)).filter((p) => !flags['dry-run'] || !owned.has(`${p.namespace}/${p.ownerDaemonSet ?? ''}`));
    const pods: CleanupResult['pods'] = [];
    for (const pod of found) {
      let result: CleanupResult['pods'][number]['result'] = 'would-delete';
      if (!flags['dry-run']) {
        try {
          result = (await deleteDebugPod(session, pod)) === 'deleted' ? 'deleted' : 'already-gone';
        } catch (err) {
          // One refusal should not keep the other leftovers alive: try them all, then report.
          failures.push(err as KnetError);
          continue;
        }
      }
      pods.push({ namespace: pod.namespace, name: pod.name, node: pod.node, phase: pod.phase, result });
    }
    const first = failures[0];
    if (first) {
      const done = [...daemonSets, ...pods].map((p) => `${p.namespace}/${p.name}`).join(', ') || 'none';
      throw environmentError(`${first.message}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}; deleted: ${done}`, first.code, first.suggestions, first);
    }
    const probeContainers = await findProbeContainers(session, namespace);
    return { namespace: namespace ?? null, dryRun: flags['dry-run'], pods, daemonSets, probeContainers };
  }

  protected renderText(result: CleanupResult, ctx: RenderContext): string {
    const where = result.namespace === null ? 'any namespace' : `namespace ${result.namespace}`;
    const probes = result.probeContainers.length
      ? ['', renderTable(['namespace', 'pod', 'probe container', 'state'], result.probeContainers.map((p) => [p.namespace, p.pod, p.container, p.state]), ctx.style), `${result.probeContainers.length} ephemeral probe container${result.probeContainers.length === 1 ? '' : 's'} of knet trace --probe: Kubernetes cannot remove them; they exit on their own and go when the pod is replaced.`]
      : [];
    if (result.pods.length === 0 && result.daemonSets.length === 0) return [`No knet debug pods in ${where}.`, ...probes].join('\n');
    const verb = result.dryRun ? 'Would delete' : 'Deleted';
    const count = result.pods.filter((p) => p.result !== 'already-gone').length;
    const sets = result.daemonSets.filter((d) => d.result !== 'already-gone').length;
    return [
      ...(result.daemonSets.length ? [renderTable(['namespace', 'daemonset', 'result'], result.daemonSets.map((d) => [d.namespace, d.name, d.result]), ctx.style), ''] : []),
      ...(result.pods.length ? [renderTable(['namespace', 'pod', 'node', 'phase', 'result'], result.pods.map((p) => [p.namespace, p.name, p.node ?? '', p.phase ?? '', p.result]), ctx.style), ''] : []),
      `${verb} ${count} debug pod${count === 1 ? '' : 's'}${sets ? ` and ${sets} DaemonSet${sets === 1 ? '' : 's'}` : ''} in ${where}.`,
      ...probes,
    ].join('\n');
  }
}
