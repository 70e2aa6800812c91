// `knet trace --probe`: a real TCP connection attempt from inside the source pod. knet adds an ephemeral
// container to the pod (PATCH pods/NAME/ephemeralcontainers, as `kubectl debug` does), waits for the
// kubelet to run it, and runs the attempts in it over exec. A container of the pod shares the pod's
// network namespace: its address (what NetworkPolicy matches), its routes, its conntrack zone and its
// DNS configuration. A debug pod would have its own address; one with hostNetwork tests the node.
// Ephemeral containers cannot be removed from a pod: the container is named knet-probe-<random>,
// carries KNET_MANAGED_BY=knet in its environment, runs `sleep` for a bounded time, and exits.
import { randomBytes } from 'node:crypto';
import { environmentError, KnetError } from '../../model/errors.js';
import type { SourceOptions } from '../cluster.js';
import type { LiveSession } from './cluster.js';
import { canI, STUCK_WAITING_REASONS } from './debug-pod.js';
import { formatDuration } from './duration.js';
import { execInPod } from './exec.js';
import { RESOURCES } from './resources.js';

export const PROBE_CONTAINER_PREFIX = 'knet-probe-';
/** The environment variable that marks knet's ephemeral containers (they cannot carry labels of their own). */
export const PROBE_MARKER_ENV = 'KNET_MANAGED_BY';

export interface ProbeOptions {
  image: string;
  /** Per attempt: how long a connect may take before it counts as dropped. */
  connectTimeoutSeconds: number;
  /** How long the container may take to run (image pull included). */
  startTimeoutMs: number;
  /** How long the exec may stay silent. */
  execTimeoutMs: number;
  pollMs?: number;
}

/**
 * One line per address, `knet-probe IP PORT EXIT-CODE MESSAGE`: bash's /dev/tcp under timeout(1) tells a
 * refusal (exit 1, "Connection refused") from silence (exit 124); nc -z is the fallback in images without
 * bash. Arguments: the timeout in seconds, then IP PORT pairs.
 */
const PROBE_SCRIPT = `t=$1; shift
while [ "$#" -ge 2 ]; do
  ip=$1; port=$2; shift 2
  if command -v bash >/dev/null 2>&1; then
    out=$(timeout "$t" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$ip" "$port" 2>&1); rc=$?
  elif command -v nc >/dev/null 2>&1; then
    out=$(timeout "$t" nc -z "$ip" "$port" 2>&1); rc=$?
  else
    out='neither bash nor nc in the image'; rc=127
  fi
  echo "knet-probe $ip $port $rc $(echo "$out" | tr '\\n' ' ')"
done
`;

/** An address to connect to. */
export interface ProbeAddress {
  ip: string;
  port: number;
}

/** What the probe printed (one `knet-probe …` line per address), and where it ran. */
export interface ProbeOutput {
  container: string;
  /** `NS/NAME`. */
  pod: string;
  image: string;
  output: string;
}

export function probeArgv(targets: readonly ProbeAddress[], timeoutSeconds: number): string[] {
  return ['sh', '-c', PROBE_SCRIPT, 'knet-probe', String(timeoutSeconds), ...targets.flatMap((t) => [t.ip, String(t.port)])];
}

export function probeContainerName(): string {
  return `${PROBE_CONTAINER_PREFIX}${randomBytes(3).toString('hex')}`;
}

/**
 * The ephemeral container: no capabilities, not root, no privilege escalation, the runtime's seccomp
 * profile, so that even a namespace enforcing Pod Security "restricted" admits it (a TCP connect needs
 * no privilege). Its `sleep` outlives the attempts and then ends, and the container with it.
 */
export function probeContainer(name: string, options: ProbeOptions, targets: number): Record<string, unknown> {
  const lifetime = Math.ceil(options.execTimeoutMs / 1000) + targets * options.connectTimeoutSeconds + 30;
  return {
    name,
    image: options.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['sleep', String(lifetime)],
    env: [{ name: PROBE_MARKER_ENV, value: 'knet' }],
    stdin: false,
    tty: false,
    terminationMessagePolicy: 'File',
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
      runAsUser: 65534,
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

interface ContainerState {
  running?: unknown;
  waiting?: { reason?: string; message?: string };
  terminated?: { reason?: string; exitCode?: number; message?: string };
}

/** Running, or why it never will be (null: still starting). */
export function ephemeralOutcome(status: unknown, name: string): { isRunning: true } | { isRunning: false; reason: string } | null {
  const statuses = (status as { ephemeralContainerStatuses?: { name?: string; state?: ContainerState }[] } | undefined)?.ephemeralContainerStatuses ?? [];
  const state = statuses.find((s) => s.name === name)?.state;
  if (!state) return null;
  if (state.running !== undefined) return { isRunning: true };
  if (state.terminated) return { isRunning: false, reason: `it ended (${state.terminated.reason ?? 'terminated'}, exit code ${state.terminated.exitCode ?? '?'})${state.terminated.message ? `: ${state.terminated.message}` : ''}` };
  const waiting = state.waiting;
  if (waiting?.reason !== undefined && STUCK_WAITING_REASONS.has(waiting.reason)) return { isRunning: false, reason: `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` };
  return null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** RBAC first: adding the container and exec into it (WebSocket exec is `create` on new servers, `get` on old ones). */
async function checkProbeAccess(session: LiveSession, namespace: string): Promise<void> {
  const [patch, createExec, getExec] = await Promise.all([
    canI(session, namespace, 'patch', 'ephemeralcontainers'),
    canI(session, namespace, 'create', 'exec'),
    canI(session, namespace, 'get', 'exec'),
  ]);
  const missing: string[] = [];
  if (patch === false) missing.push('patch pods/ephemeralcontainers');
  if (createExec === false && getExec === false) missing.push('create pods/exec (and get pods/exec)');
  if (missing.length === 0) return;
  throw environmentError(`RBAC forbids ${missing.map((m) => `"${m}"`).join(' and ')} in namespace ${namespace}, which --probe needs to connect from inside the source pod`, 'probe-forbidden', [
    `Ask for a Role in namespace ${namespace} with the rules { apiGroups: [""], resources: ["pods/ephemeralcontainers"], verbs: ["patch"] } and { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] }.`,
    `Check with: kubectl auth can-i patch pods/ephemeralcontainers -n ${namespace}; or trace without --probe.`,
  ]);
}

function explainPatchFailure(err: unknown, where: string): unknown {
  if (!(err instanceof KnetError)) return err;
  if (/violates PodSecurity/i.test(err.message)) {
    return environmentError(`Pod Security admission refused the probe container in ${where}: ${err.message.replace(/^.*?forbidden: /, '')}`, 'probe-rejected', ['The probe container runs as non-root with no capabilities; the namespace policy still refused it: trace without --probe.']);
  }
  if (err.code === 'api-not-found') {
    return environmentError(`${where} is gone, or the API server does not serve pods/ephemeralcontainers (Kubernetes before 1.23)`, 'probe-unavailable', ['Trace without --probe.']);
  }
  return err;
}

/**
 * Adds the probe container to the source pod, waits for it to run, and tries each target from inside
 * the pod's network namespace. The container cannot be removed afterwards: it exits on its own.
 */
export async function probeFromPod(session: LiveSession, pod: { namespace: string; name: string }, targets: readonly ProbeAddress[], options: ProbeOptions): Promise<ProbeOutput> {
  const where = `pod ${pod.namespace}/${pod.name}`;
  await checkProbeAccess(session, pod.namespace);
  const name = probeContainerName();
  try {
    await session.api.patchSubresource(RESOURCES.pods, pod.namespace, pod.name, 'ephemeralcontainers', { spec: { ephemeralContainers: [probeContainer(name, options, targets.length)] } });
  } catch (err) {
    throw explainPatchFailure(err, where);
  }
  const deadline = Date.now() + options.startTimeoutMs;
  for (;;) {
    const current = await session.api.get(RESOURCES.pods, pod.namespace, pod.name);
    if (current === undefined) throw environmentError(`${where} disappeared while its probe container ${name} was starting`, 'probe-failed', ['Run the trace again.']);
    const outcome = ephemeralOutcome(current.status, name);
    if (outcome?.isRunning) break;
    if (outcome && !outcome.isRunning) {
      const isPull = /ImagePull|ErrImage|InvalidImageName/.test(outcome.reason);
      throw environmentError(`the probe container ${name} in ${where} never ran: ${outcome.reason}`, 'probe-failed', [
        isPull ? `The node could not pull ${options.image}: point --image (or KNET_DEBUG_IMAGE) at a registry the nodes reach, with sh, bash (or nc) and timeout in it.` : `Check the pod: kubectl describe pod -n ${pod.namespace} ${pod.name}`,
        'Ephemeral containers cannot be removed: it stays in the pod spec, not running.',
      ]);
    }
    if (Date.now() >= deadline) {
      throw environmentError(`the probe container ${name} in ${where} was not running after ${formatDuration(options.startTimeoutMs)}`, 'probe-failed', [
        'Raise --pod-timeout for a slow image pull; the container exits on its own once it ran.',
      ]);
    }
    await sleep(options.pollMs ?? 250);
  }
  const chunks: Buffer[] = [];
  const result = await execInPod(session.kubeConfig.kubeConfig, { namespace: pod.namespace, pod: pod.name, container: name }, probeArgv(targets, options.connectTimeoutSeconds), (c) => chunks.push(c), options.execTimeoutMs);
  const output = Buffer.concat(chunks).toString('utf8');
  if (result.code !== 0 && !/^knet-probe /m.test(output)) {
    throw environmentError(`the probe in ${where} failed (exit code ${result.code}): ${result.stderr.trim().slice(0, 200) || 'no output'}`, 'probe-failed', ['The probe image needs sh, timeout and bash (or nc): point --image at one that has them.']);
  }
  return { container: name, pod: `${pod.namespace}/${pod.name}`, image: options.image, output };
}

/** The probe with the image and timeouts the debug pod flags give (`--image`, `--pod-timeout`, `--exec-timeout`). */
export async function probeLive(source: SourceOptions, pod: { namespace: string; name: string }, targets: readonly ProbeAddress[], connectTimeoutSeconds: number): Promise<ProbeOutput> {
  const { connectLive, debugPodOptions } = await import('./cluster.js');
  const session = await connectLive(source);
  const settings = debugPodOptions(session, source);
  return probeFromPod(session, pod, targets, { image: settings.image, connectTimeoutSeconds, startTimeoutMs: settings.startTimeoutMs, execTimeoutMs: settings.execTimeoutMs });
}
