// knet's debug pods: one short-lived pod per node, in the host's network namespace (hostNetwork), that
// runs the capture commands over exec and is deleted when the command ends, fails, times out or is
// interrupted. knet creates nothing else in a cluster (besides the same spec as a DaemonSet with
// --daemonset) and changes nothing on a node.
import { randomBytes } from 'node:crypto';
import { environmentError, KnetError } from '../../model/errors.js';
import type { CommandResult, NodeCommandRunner } from '../command-node-state.js';
import type { LiveSession } from './cluster.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from './cleanup.js';
import { execInPod } from './exec.js';
import { formatDuration } from './duration.js';
import { DEBUG_RESOURCES, RESOURCES } from './resources.js';
import type { ApiObject } from './api.js';

/**
 * The default image: nicolaka/netshoot carries iptables (legacy and nft), nft, ipvsadm, ipset,
 * conntrack and iproute2 in one image that most registries mirror. Pinned to a release, never
 * `latest`, so that the tools (and their output formats) only change when knet changes; air-gapped
 * clusters point --image or KNET_DEBUG_IMAGE at their own mirror of it.
 */
export const DEFAULT_DEBUG_IMAGE = 'nicolaka/netshoot:v0.13';

export const DEBUG_CONTAINER = 'debug';

/** Marks the pods (and DaemonSet) of one knet run, so that a run finds its own among leftovers. */
export const RUN_LABEL = 'knet.dev/run';

export interface DebugPodOptions {
  namespace: string;
  image: string;
  isPrivileged: boolean;
  /** activeDeadlineSeconds: the pod dies by itself even if knet is killed with SIGKILL. */
  deadlineSeconds: number;
  /** How long a pod may take to run (image pull included). */
  startTimeoutMs: number;
  /** How long an exec may stay silent. */
  execTimeoutMs: number;
  /** --daemonset: how long the DaemonSet may live before knet deletes it and gives up on the nodes not read. */
  daemonSetDeadlineMs: number;
  /** How often a starting pod's status is read. */
  pollMs?: number;
}

/** The pod's name: knet-debug-<node>-<random>, a valid DNS label whatever the node is called. */
export function debugPodName(node: string): string {
  const slug = node.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'node';
  return `knet-debug-${slug}-${randomBytes(3).toString('hex')}`;
}

/** The pod template shared by a debug pod and the --daemonset mode. */
export function debugPodTemplate(options: Pick<DebugPodOptions, 'image' | 'isPrivileged' | 'deadlineSeconds'>, runId: string): { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } {
  return {
    metadata: { labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [RUN_LABEL]: runId, 'app.kubernetes.io/name': 'knet-debug' } },
    spec: {
      // The host's network namespace is what is read: its netfilter tables, IPVS, conntrack and routes.
      hostNetwork: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      restartPolicy: 'Never',
      // Runs on any node, tainted or cordoned (NoSchedule, NoExecute, control planes).
      tolerations: [{ operator: 'Exists' }],
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      containers: [
        {
          name: DEBUG_CONTAINER,
          image: options.image,
          imagePullPolicy: 'IfNotPresent',
          // Waits for the execs; the pod's deadline ends it in any case.
          command: ['sleep', String(options.deadlineSeconds + 60)],
          // NET_ADMIN reads netfilter, IPVS and conntrack; NET_RAW the raw sockets some tools open.
          securityContext: options.isPrivileged ? { privileged: true } : { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
          resources: { requests: { cpu: '10m', memory: '32Mi' } },
        },
      ],
    },
  };
}

export function debugPodManifest(node: string, name: string, options: DebugPodOptions, runId: string): ApiObject {
  const template = debugPodTemplate(options, runId);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: options.namespace, labels: template.metadata.labels },
    spec: { ...template.spec, nodeName: node, activeDeadlineSeconds: options.deadlineSeconds },
  };
}

interface PodStatus {
  phase?: string;
  reason?: string;
  message?: string;
  conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  containerStatuses?: { state?: { running?: unknown; waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; message?: string; exitCode?: number } } }[];
}

/** Waiting reasons from which a container does not recover by itself. */
export const STUCK_WAITING_REASONS: ReadonlySet<string> = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'CrashLoopBackOff']);

/** Running, or why it never will be (null: still starting). */
export function podOutcome(status: PodStatus | undefined): { isRunning: true } | { isRunning: false; reason: string } | null {
  if (!status) return null;
  const container = status.containerStatuses?.[0]?.state;
  if (status.phase === 'Running' && container?.running !== undefined) return { isRunning: true };
  if (status.phase === 'Failed' || status.phase === 'Succeeded') {
    const t = container?.terminated;
    return { isRunning: false, reason: `it ended (${status.phase}${status.reason ? `, ${status.reason}` : ''})${status.message ? `: ${status.message}` : t?.reason ? `: ${t.reason}${t.message ? ` ${t.message}` : ''}` : ''}` };
  }
  const waiting = container?.waiting;
  if (waiting?.reason !== undefined && STUCK_WAITING_REASONS.has(waiting.reason)) return { isRunning: false, reason: `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` };
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') return { isRunning: false, reason: `Unschedulable${scheduled.message ? `: ${scheduled.message}` : ''}` };
  return null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates debug pods on demand (one per node, reused by every command of the run), runs commands in
 * them, and deletes them all in close(), on SIGINT and on SIGTERM.
 */
export class DebugPods implements NodeCommandRunner {
  private readonly pods = new Map<string, Promise<string>>();
  /** Names created and not yet deleted: what is left if knet dies now. */
  private readonly live = new Set<string>();
  private checked: Promise<void> | undefined;
  private isClosing = false;
  private isInterrupted = false;
  private readonly runId = randomBytes(4).toString('hex');
  private readonly onSignal = (signal: NodeJS.Signals): void => this.interrupted(signal);

  constructor(
    private readonly session: LiveSession,
    readonly options: DebugPodOptions,
  ) {}

  where(node: string): string {
    return `a debug pod on node ${node}`;
  }

  /** What may be left in the cluster if knet stopped now, and how to remove it. */
  leftovers(): string[] {
    return [...this.live].map((name) => `${this.options.namespace}/${name}`);
  }

  async run(node: string, argv: readonly string[], onStdout: (chunk: Buffer) => void): Promise<CommandResult> {
    const pod = await this.podFor(node);
    return execInPod(this.session.kubeConfig.kubeConfig, { namespace: this.options.namespace, pod, container: DEBUG_CONTAINER }, argv, onStdout, this.options.execTimeoutMs);
  }

  private podFor(node: string): Promise<string> {
    let pod = this.pods.get(node);
    if (pod === undefined) {
      pod = this.start(node);
      this.pods.set(node, pod);
    }
    return pod;
  }

  /** RBAC and Pod Security, once, before the first pod: say what to do instead of a bare 403. */
  private precheck(): Promise<void> {
    this.checked ??= checkDebugAccess(this.session, this.options.namespace);
    return this.checked;
  }

  private async start(node: string): Promise<string> {
    await this.precheck();
    if (this.isClosing) throw environmentError('interrupted before the debug pod was created', 'interrupted');
    const { namespace } = this.options;
    const name = debugPodName(node);
    this.watchSignals();
    this.live.add(name);
    try {
      await this.session.api.create(RESOURCES.pods, namespace, debugPodManifest(node, name, this.options, this.runId));
    } catch (err) {
      this.live.delete(name);
      throw explainCreateFailure(err, namespace);
    }
    try {
      await this.waitRunning(node, name);
    } catch (err) {
      await this.deletePod(name).catch(() => undefined);
      throw err;
    }
    return name;
  }

  private async waitRunning(node: string, name: string): Promise<void> {
    const { namespace, startTimeoutMs, pollMs = 250 } = this.options;
    const deadline = Date.now() + startTimeoutMs;
    let last: PodStatus | undefined;
    for (;;) {
      if (this.isClosing) throw environmentError(`interrupted while debug pod ${namespace}/${name} was starting`, 'interrupted');
      const pod = await this.session.api.get(RESOURCES.pods, namespace, name);
      if (pod === undefined) throw environmentError(`debug pod ${namespace}/${name} on node ${node} disappeared while starting`, 'debug-pod-failed', ['Something deleted it (a policy controller?); run the command again.']);
      last = pod.status as PodStatus | undefined;
      const outcome = podOutcome(last);
      if (outcome?.isRunning) return;
      if (outcome && !outcome.isRunning) throw await this.neverRan(node, name, outcome.reason);
      if (Date.now() >= deadline) {
        const waiting = last?.containerStatuses?.[0]?.state?.waiting?.reason;
        throw await this.neverRan(node, name, `still ${last?.phase ?? 'Pending'}${waiting ? ` (${waiting})` : ''} after ${formatDuration(startTimeoutMs)}`);
      }
      await sleep(pollMs);
    }
  }

  private async neverRan(node: string, name: string, reason: string): Promise<KnetError> {
    const { namespace, image } = this.options;
    const events = await this.session.api.list(DEBUG_RESOURCES.events, namespace, { fieldSelector: `involvedObject.name=${name}` }).catch(() => [] as ApiObject[]);
    const said = events
      .filter((e) => e.type === 'Warning' || events.length <= 3)
      .map((e) => `${typeof e.reason === 'string' ? e.reason : ''}: ${typeof e.message === 'string' ? e.message : ''}`)
      .slice(-3);
    const isPull = /ImagePull|ErrImage|InvalidImageName|pull/i.test(reason + said.join(' '));
    return environmentError(`the debug pod on node ${node} never ran: ${reason}`, 'debug-pod-failed', [
      ...said.map((s) => `Event ${s}`),
      isPull
        ? `The node could not pull ${image}: point --image (or KNET_DEBUG_IMAGE) at a registry the nodes reach, with iptables, nft, ipvsadm, ipset, conntrack and ip in it.`
        : `Check the node (kubectl describe node ${node}) and admission policies of namespace ${namespace}; --debug-namespace picks another namespace.`,
      `The pod ${namespace}/${name} was deleted.`,
    ]);
  }

  private async deletePod(name: string): Promise<void> {
    await this.session.api.delete(RESOURCES.pods, this.options.namespace, name, { gracePeriodSeconds: '0' });
    this.live.delete(name);
  }

  private watchSignals(): void {
    if (this.live.size > 0 || this.isClosing) return;
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  private unwatchSignals(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  /** First signal: delete the pods, then exit; second: exit at once, naming what may be left. */
  private interrupted(signal: NodeJS.Signals): void {
    const code = signal === 'SIGTERM' ? 143 : 130;
    if (this.isInterrupted) {
      const left = this.leftovers();
      process.stderr.write(
        `\nInterrupted again: exiting without waiting.${left.length ? ` These debug pods may be left: ${left.join(', ')}.\n  Remove them with: knet cleanup --debug-namespace ${this.options.namespace}` : ''}\n`,
      );
      process.exit(code);
    }
    this.isInterrupted = true;
    process.stderr.write(`\nInterrupted: deleting debug pods ${this.leftovers().join(', ')} (interrupt again to exit at once)\n`);
    void this.close().finally(() => process.exit(code));
  }

  async close(): Promise<void> {
    this.isClosing = true;
    // Pods still starting are deleted by their own start() when it sees isClosing; wait for those too.
    await Promise.allSettled([...this.pods.values()]);
    const failures: string[] = [];
    await Promise.all(
      [...this.live].map((name) =>
        this.deletePod(name).catch((err: unknown) => {
          failures.push(`${this.options.namespace}/${name}: ${(err as Error).message}`);
        }),
      ),
    );
    if (!this.isInterrupted) this.unwatchSignals();
    if (failures.length > 0) {
      throw environmentError(`could not delete debug pods: ${failures.join('; ')}`, 'debug-pod-leftover', [
        `Their deadline (${this.options.deadlineSeconds}s) ends them; remove them now with: knet cleanup --debug-namespace ${this.options.namespace}`,
      ]);
    }
  }
}

/** What the create of a debug pod was refused for, in the user's terms. */
function explainCreateFailure(err: unknown, namespace: string): unknown {
  if (!(err instanceof KnetError)) return err;
  const message = err.message;
  if (/violates PodSecurity/i.test(message)) return podSecurityError(namespace, /"([a-z]+):/.exec(message.slice(message.indexOf('PodSecurity')))?.[1] ?? 'baseline', message);
  if (/admission webhook/i.test(message)) {
    return environmentError(`an admission webhook refused the debug pod in namespace ${namespace}: ${message.replace(/^[^:]*: /, '')}`, 'debug-pod-rejected', [
      'Ask the cluster admins to exempt pods labelled app.kubernetes.io/managed-by=knet, or use --debug-namespace with a namespace the policy exempts.',
    ]);
  }
  if (err.code === 'api-forbidden') {
    return environmentError(`RBAC forbids "create pods" in namespace ${namespace}, which a debug pod needs`, 'debug-pod-forbidden', [
      `Ask for a Role in namespace ${namespace} with the rules { apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "delete"] } and { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] }, or use --debug-namespace with a namespace where you have it.`,
      `Check with: kubectl auth can-i create pods -n ${namespace}`,
    ]);
  }
  return err;
}

function podSecurityError(namespace: string, level: string, detail?: string): KnetError {
  return environmentError(
    `Pod Security "${level}" of namespace ${namespace} forbids the debug pod (it needs hostNetwork and the NET_ADMIN capability)${detail ? `: ${detail.replace(/^.*?forbidden: /, '')}` : ''}`,
    'debug-pod-security',
    [
      'Use --debug-namespace with a namespace labelled for privileged pods, e.g.:',
      '  kubectl create namespace knet-debug && kubectl label namespace knet-debug pod-security.kubernetes.io/enforce=privileged',
    ],
  );
}

/** One SelfSubjectAccessReview; undefined when the review itself cannot be asked (then the create will tell). */
export async function canI(session: LiveSession, namespace: string, verb: string, subresource?: string): Promise<boolean | undefined> {
  try {
    const review = await session.api.create(DEBUG_RESOURCES.accessReviews, undefined, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace, verb, group: '', resource: 'pods', ...(subresource ? { subresource } : {}) } },
    });
    const allowed = (review.status as { allowed?: unknown } | undefined)?.allowed;
    return typeof allowed === 'boolean' ? allowed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Before the first debug pod: may this user create pods and exec into them in the namespace, and
 * does the namespace's Pod Security level let a hostNetwork pod with NET_ADMIN in? WebSocket exec is
 * authorized as `create pods/exec` by newer API servers and as `get pods/exec` by older ones: both are
 * asked, and knet stops only when neither is allowed.
 */
export async function checkDebugAccess(session: LiveSession, namespace: string): Promise<void> {
  const [createPods, createExec, getExec] = await Promise.all([
    canI(session, namespace, 'create'),
    canI(session, namespace, 'create', 'exec'),
    canI(session, namespace, 'get', 'exec'),
  ]);
  const missing: string[] = [];
  if (createPods === false) missing.push('create pods');
  if (createExec === false && getExec === false) missing.push('create pods/exec (and get pods/exec)');
  if (missing.length > 0) {
    throw environmentError(`RBAC forbids ${missing.map((m) => `"${m}"`).join(' and ')} in namespace ${namespace}, which reading node state through a debug pod needs`, 'debug-pod-forbidden', [
      `Ask for a Role in namespace ${namespace} with the rules { apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "delete"] } and { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] }.`,
      `Or use --debug-namespace with a namespace where you have them. Check with: kubectl auth can-i create pods/exec -n ${namespace}`,
    ]);
  }
  let ns: ApiObject | undefined;
  try {
    ns = await session.api.get(RESOURCES.namespaces, undefined, namespace);
  } catch {
    return; // Not allowed to read Namespaces: admission will say so at create time, and is explained then.
  }
  if (ns === undefined) {
    throw environmentError(`namespace ${namespace} for debug pods does not exist`, 'debug-namespace-missing', ['Give an existing namespace with --debug-namespace.']);
  }
  const level = (ns.metadata?.labels as Record<string, string> | undefined)?.['pod-security.kubernetes.io/enforce'];
  if (level === 'baseline' || level === 'restricted') throw podSecurityError(namespace, level);
}
