// One command in a pod's container over the API server's exec subresource (WebSocket, channel
// protocols v5/v4), through client-node's WebSocketHandler (its kubeconfig authentication and TLS).
// client-node 1.4's Exec class is not used: given a v5 close frame it throws from the socket's message
// handler, and it never reports a connection that ends without a status. Here every channel is handled,
// the status channel is required, and silence is bounded by a timeout of knet's own.
import { PassThrough } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import { environmentError } from '../../model/errors.js';
import type { CommandResult } from '../command-node-state.js';
import { formatDuration } from './duration.js';

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

/** The channel-3 status object the API server sends when the command ends. */
interface ExecStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** The exit code of a channel-3 status: 0 on Success, else the `ExitCode` cause (client-go reads it so). */
export function exitCodeOfStatus(status: ExecStatus): number | { error: string } {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (status.reason === 'NonZeroExitCode' && cause?.message !== undefined && /^\d+$/.test(cause.message)) return Number(cause.message);
  return { error: status.message ?? status.reason ?? 'the command failed' };
}

export function execPath(target: ExecTarget, argv: readonly string[]): string {
  const query = new URLSearchParams();
  for (const arg of argv) query.append('command', arg);
  query.set('container', target.container);
  query.set('stdout', 'true');
  query.set('stderr', 'true');
  return `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/exec?${query.toString()}`;
}

/**
 * Runs argv in the container; stdout chunks go to `onStdout` as they arrive. Resolves with the exit
 * code once the status channel says the command ended; rejects when the exec cannot start (403, the pod
 * is gone), when the connection ends without a status, when nothing arrives for `idleTimeoutMs`, or
 * with the signal's reason when `signal` aborts (the connection is then closed).
 */
export async function execInPod(
  kubeConfig: KubeConfig,
  target: ExecTarget,
  argv: readonly string[],
  onStdout: (chunk: Buffer) => void,
  idleTimeoutMs: number,
  signal?: AbortSignal,
): Promise<CommandResult> {
  if (signal?.aborted === true) throw signal.reason;
  // Not re-exported by the package's index in 1.4; the package has no exports map, so the file is public.
  const { WebSocketHandler } = await import('@kubernetes/client-node/dist/web-socket-handler.js');
  // The handler ends these streams on a v5 close frame; they are knet's own, never process.stdout.
  const streams = { stdin: new PassThrough(), stdout: new PassThrough().resume(), stderr: new PassThrough().resume() };
  const handler = new WebSocketHandler(kubeConfig, undefined, streams);
  const where = `pod ${target.namespace}/${target.pod}`;
  const what = `\`${argv.join(' ')}\` in ${where}`;
  const stderr: Buffer[] = [];
  let settle: { resolve: (r: CommandResult) => void; reject: (e: Error) => void } | undefined;
  const ended = new Promise<CommandResult>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Settled early (a timeout or an abort while connecting) before anything awaits it: not unhandled.
  ended.catch(() => undefined);
  let isSettled = false;
  const finish = (outcome: CommandResult | Error): void => {
    if (isSettled) return;
    isSettled = true;
    if (outcome instanceof Error) settle!.reject(outcome);
    else settle!.resolve(outcome);
  };
  let timer: NodeJS.Timeout | undefined;
  const idle = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      finish(environmentError(`${what}: no answer for ${formatDuration(idleTimeoutMs)}`, 'debug-exec-timeout', [
        'The API server or the kubelet of that node is not relaying the exec stream. Raise --exec-timeout on a slow link, or check the node: kubectl get node -o wide.',
      ]));
      socket?.close();
    }, idleTimeoutMs);
  };
  let socket: Awaited<ReturnType<typeof handler.connect>> | undefined;
  idle();
  const onAbort = (): void => {
    finish(signal!.reason instanceof Error ? signal!.reason : new Error(String(signal!.reason)));
    socket?.close();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    socket = await handler.connect(execPath(target, argv), null, (channel: number, data: Buffer) => {
      idle();
      if (channel === 1) onStdout(Buffer.from(data));
      else if (channel === 2) stderr.push(Buffer.from(data));
      else if (channel === 3) {
        let status: ExecStatus;
        try {
          status = JSON.parse(data.toString('utf8')) as ExecStatus;
        } catch {
          status = { message: `unreadable status "${data.toString('utf8').slice(0, 80)}"` };
        }
        const code = exitCodeOfStatus(status);
        if (typeof code === 'number') finish({ code, stderr: Buffer.concat(stderr).toString('utf8') });
        else finish(environmentError(`${what} failed: ${code.error}`, 'debug-exec-failed', ['Check the container of that pod: kubectl describe pod.']));
        return false;
      }
      // Channel 255 (v5 close of one stream) and anything else: nothing to do; the status decides.
      return true;
    });
  } catch (err) {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    // Aborted while connecting: the abort's reason, not the connection's error.
    if (isSettled) return ended;
    const message = (err as { message?: string }).message ?? String(err);
    const code = /Unexpected server response: (\d+)/.exec(message)?.[1];
    if (code === '403') {
      throw environmentError(`RBAC forbids exec into ${where} (403 Forbidden)`, 'debug-exec-forbidden', [
        `Ask for a Role in namespace ${target.namespace} with the rule { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] }.`,
        `Check with: kubectl auth can-i create pods/exec -n ${target.namespace}`,
      ], err);
    }
    if (code === '404') throw environmentError(`${where} is gone: exec answered 404`, 'debug-pod-gone', ['It was deleted, or its node went away; run the command again.'], err);
    throw environmentError(`cannot exec into ${where}: ${message}`, 'debug-exec-failed', ['Check that the API server allows WebSocket upgrades (a proxy in between may not).'], err);
  }
  socket.addEventListener('close', () => {
    // v1–v3 never send a status; a lost connection or a deleted pod neither: never wait for it forever.
    finish(environmentError(`${what}: the connection closed before the command's exit status arrived`, 'debug-exec-lost', [
      'The pod may have been deleted or reached its deadline, or the API server restarted; run the command again.',
    ]));
  });
  try {
    return await ended;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close();
  }
}
