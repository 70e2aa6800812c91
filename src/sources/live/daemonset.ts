// --daemonset: the debug pod spec as one short-lived DaemonSet, so that the cluster starts a pod on
// every node at once (the cluster is the engine that scales, not the laptop); knet then execs into
// the pod of each node it reads, with its own bounded concurrency, and deletes the DaemonSet at the end.
// A DaemonSet's pods cannot carry activeDeadlineSeconds as a lone debug pod does, so the run has a
// deadline of knet's own (--daemonset-deadline): past it, knet deletes the DaemonSet, and every node
// not read by then fails with `daemonset-deadline` (named, with --all-nodes, among the failed nodes).
import { randomBytes } from 'node:crypto';
import { environmentError, KnetError } from '../../model/errors.js';
import type { CommandResult, NodeCommandRunner } from '../command-node-state.js';
import type { ApiObject } from './api.js';
import type { LiveSession } from './cluster.js';
import { checkDebugAccess, DEBUG_CONTAINER, debugPodTemplate, podOutcome, RUN_LABEL, type DebugPodOptions } from './debug-pod.js';
import { formatDuration } from './duration.js';
import { execInPod } from './exec.js';
import { DEBUG_RESOURCES, RESOURCES } from './resources.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class DebugDaemonSet implements NodeCommandRunner {
  private readonly runId = randomBytes(4).toString('hex');
  readonly name = `knet-debug-${this.runId}`;
  private created: Promise<void> | undefined;
  private isCreated = false;
  private isClosing = false;
  private listing: Promise<ApiObject[]> | undefined;
  private isInterrupted = false;
  private readonly expiry = new AbortController();
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deleting: Promise<void> | undefined;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGTERM' ? 143 : 130;
    if (this.isInterrupted) {
      process.stderr.write(`\nInterrupted again: exiting without waiting. DaemonSet ${this.options.namespace}/${this.name} may be left.\n  Remove it with: knet cleanup --debug-namespace ${this.options.namespace}\n`);
      process.exit(code);
    }
    this.isInterrupted = true;
    process.stderr.write(`\nInterrupted: deleting DaemonSet ${this.options.namespace}/${this.name} (interrupt again to exit at once)\n`);
    void this.close().finally(() => process.exit(code));
  };

  constructor(
    private readonly session: LiveSession,
    readonly options: DebugPodOptions,
  ) {}

  where(node: string): string {
    return `the debug DaemonSet's pod on node ${node}`;
  }

  private create(): Promise<void> {
    this.created ??= (async () => {
      await checkDebugAccess(this.session, this.options.namespace);
      const template = debugPodTemplate(this.options, this.runId);
      process.on('SIGINT', this.onSignal);
      process.on('SIGTERM', this.onSignal);
      try {
        await this.session.api.create(DEBUG_RESOURCES.daemonSets, this.options.namespace, {
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          metadata: { name: this.name, namespace: this.options.namespace, labels: template.metadata.labels },
          spec: {
            selector: { matchLabels: { [RUN_LABEL]: this.runId } },
            template: { metadata: template.metadata, spec: { ...template.spec, restartPolicy: 'Always' } },
          },
        });
        this.isCreated = true;
        // Not holding the process open: the reads in flight do, and the deadline ends those.
        this.deadlineTimer = setTimeout(() => this.expire(), this.options.daemonSetDeadlineMs).unref();
      } catch (err) {
        if (err instanceof KnetError && err.code === 'api-forbidden') {
          throw environmentError(`RBAC forbids "create daemonsets.apps" in namespace ${this.options.namespace}, which --daemonset needs`, 'debug-pod-forbidden', [
            'Run without --daemonset (one debug pod per node), or ask for the rule { apiGroups: ["apps"], resources: ["daemonsets"], verbs: ["create", "delete"] }.',
          ]);
        }
        throw err;
      }
    })();
    return this.created;
  }

  /** The deadline has passed: delete the DaemonSet now, and end every read still waiting or running. */
  private expire(): void {
    this.expiry.abort(environmentError('the --daemonset deadline passed', 'daemonset-deadline'));
    this.deleting ??= this.deleteDaemonSet();
  }

  private get isExpired(): boolean {
    return this.expiry.signal.aborted;
  }

  private deadlineError(node: string): Error {
    return environmentError(
      `node ${node} did not answer before the --daemonset deadline of ${formatDuration(this.options.daemonSetDeadlineMs)}: DaemonSet ${this.options.namespace}/${this.name} was deleted`,
      'daemonset-deadline',
      [`Raise --daemonset-deadline, or read that node without --daemonset (knet node … ${node}).`],
    );
  }

  private async deleteDaemonSet(): Promise<void> {
    if (!this.isCreated) return;
    this.isCreated = false;
    // Background propagation: the garbage collector deletes the pods the DaemonSet owns.
    await this.session.api.delete(DEBUG_RESOURCES.daemonSets, this.options.namespace, this.name, { propagationPolicy: 'Background' });
  }

  /** One list of the DaemonSet's pods, shared by every node waiting at the moment. */
  private pods(): Promise<ApiObject[]> {
    this.listing ??= this.session.api.list(RESOURCES.pods, this.options.namespace, { labelSelector: `${RUN_LABEL}=${this.runId}` }).finally(() => {
      setTimeout(() => {
        this.listing = undefined;
      }, this.options.pollMs ?? 250);
    });
    return this.listing;
  }

  private async podOn(node: string): Promise<string> {
    await this.create();
    const deadline = Date.now() + this.options.startTimeoutMs;
    for (;;) {
      if (this.isExpired) throw this.deadlineError(node);
      if (this.isClosing) throw environmentError('interrupted while the debug DaemonSet was starting', 'interrupted');
      const pod = (await this.pods()).find((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName === node);
      const outcome = podOutcome(pod?.status as Parameters<typeof podOutcome>[0]);
      if (pod && outcome?.isRunning) return String(pod.metadata?.name);
      if (outcome && !outcome.isRunning) {
        throw environmentError(`the debug DaemonSet's pod on node ${node} never ran: ${outcome.reason}`, 'debug-pod-failed', [
          `Check the image (--image, KNET_DEBUG_IMAGE: ${this.options.image}) and the node; the DaemonSet ${this.options.namespace}/${this.name} is deleted when knet ends.`,
        ]);
      }
      if (Date.now() >= deadline) {
        throw environmentError(`the debug DaemonSet has no running pod on node ${node} after ${formatDuration(this.options.startTimeoutMs)}`, 'debug-pod-failed', [
          pod ? `Its pod there is ${String((pod.status as { phase?: string } | undefined)?.phase ?? 'Pending')}.` : 'No pod was started there: does a nodeSelector, or the node being NotReady, keep it away?',
          'Raise --pod-timeout, or read that node without --daemonset.',
        ]);
      }
      await sleep(this.options.pollMs ?? 250);
    }
  }

  async run(node: string, argv: readonly string[], onStdout: (chunk: Buffer) => void): Promise<CommandResult> {
    if (this.isExpired) throw this.deadlineError(node);
    const pod = await this.podOn(node);
    try {
      return await execInPod(this.session.kubeConfig.kubeConfig, { namespace: this.options.namespace, pod, container: DEBUG_CONTAINER }, argv, onStdout, this.options.execTimeoutMs, this.expiry.signal);
    } catch (err) {
      if (this.isExpired) throw this.deadlineError(node);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.isClosing = true;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    await this.created?.catch(() => undefined);
    this.deleting ??= this.deleteDaemonSet();
    await this.deleting;
    if (!this.isInterrupted) {
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
    }
  }
}
