import { Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../cli/base.js';
import { environmentError, inputError, type KnetError } from '../model/errors.js';
import { clusterFlags } from '../cli/flags.js';
import { renderTable } from '../render/table.js';

export interface CleanupResult {
  /** The namespace searched, or null for all of them. */
  namespace: string | null;
  dryRun: boolean;
  pods: { namespace: string; name: string; node: string | null; phase: string | null; result: 'deleted' | 'already-gone' | 'would-delete' }[];
}

const { kubeconfig, context, 'request-timeout': requestTimeout } = clusterFlags;

export default class Cleanup extends KnetCommand<typeof Cleanup, CleanupResult> {
  static override summary = 'Delete debug pods knet left behind';

  static override description = `Finds pods labelled app.kubernetes.io/managed-by=knet (and only those) and deletes them. knet removes its
debug pods itself and gives each a deadline, so leftovers are rare: a killed run or a lost connection.
Looks in the debug namespace (--debug-namespace, default the context's namespace) or, with -A, everywhere.`;

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
    const { deleteDebugPod, findDebugPods } = await import('../sources/live/cleanup.js');
    const session = await connectLive({ ...flags, namespace: flags['debug-namespace'] });
    const namespace = flags['all-namespaces'] ? undefined : session.namespace;
    const found = await findDebugPods(session, namespace);
    const pods: CleanupResult['pods'] = [];
    const failures: KnetError[] = [];
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
      const done = pods.map((p) => `${p.namespace}/${p.name}`).join(', ') || 'none';
      throw environmentError(`${first.message}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}; deleted: ${done}`, first.code, first.suggestions, first);
    }
    return { namespace: namespace ?? null, dryRun: flags['dry-run'], pods };
  }

  protected renderText(result: CleanupResult, ctx: RenderContext): string {
    const where = result.namespace === null ? 'any namespace' : `namespace ${result.namespace}`;
    if (result.pods.length === 0) return `No knet debug pods in ${where}.`;
    const verb = result.dryRun ? 'Would delete' : 'Deleted';
    const count = result.pods.filter((p) => p.result !== 'already-gone').length;
    return [
      renderTable(['namespace', 'pod', 'node', 'phase', 'result'], result.pods.map((p) => [p.namespace, p.name, p.node ?? '', p.phase ?? '', p.result]), ctx.style),
      '',
      `${verb} ${count} debug pod${count === 1 ? '' : 's'} in ${where}.`,
    ].join('\n');
  }
}
