// The exec subresource of the test API server, as kube-apiserver and the kubelet serve it over
// WebSocket: channel 1 stdout, 2 stderr, 3 the status (Success, or Failure/NonZeroExitCode with the
// exit code in details.causes), then the server closes. The command runs FOR REAL, inside a network
// namespace the test made (`ip netns exec NS argv`): a debug pod's hostNetwork, with a real kernel's
// netfilter tables and conntrack entries behind it. Only the container runtime is not real.
import { spawn, type ChildProcess } from 'node:child_process';
import type { WebSocket } from 'ws';
import type { RecordedRequest, SubresourceHandler } from './api-server.js';

/** The channel protocols kube-apiserver speaks for exec, best first. */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export interface NetnsExecOptions {
  /** The namespace a pod's commands run in (its node's "host network"). */
  namespaceFor: (req: RecordedRequest) => string;
  /** Every command asked for, in order (argv), for assertions. */
  log?: string[][];
  /** Commands started and not yet ended, so that a test can end them. */
  running?: Set<ChildProcess>;
}

function frame(channel: number, data: Buffer | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channel]), payload]);
}

/** The status object a real API server sends on channel 3 for an exit code. */
export function execStatus(code: number, argv: readonly string[]): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** An exec handler that runs `command=` argv in the network namespace `namespaceFor` picks. */
export function netnsExec(options: NetnsExecOptions): { protocols: string[]; handle: SubresourceHandler } {
  return {
    protocols: EXEC_PROTOCOLS,
    handle(req: RecordedRequest, ws: WebSocket) {
      const argv = req.query.getAll('command');
      options.log?.push(argv);
      const ns = options.namespaceFor(req);
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      options.running?.add(child);
      child.stdout.on('data', (d: Buffer) => ws.send(frame(1, d)));
      child.stderr.on('data', (d: Buffer) => ws.send(frame(2, d)));
      let isDone = false;
      const done = (code: number): void => {
        if (isDone) return;
        isDone = true;
        options.running?.delete(child);
        ws.send(frame(3, JSON.stringify(execStatus(code, argv))), () => ws.close(1000));
      };
      // `close`, not `exit`: every byte of stdout has been sent before the status.
      child.on('close', (code, signal) => done(code ?? (signal ? 128 + 9 : 1)));
      child.on('error', (err) => {
        ws.send(frame(2, `${err.message}\n`));
        done(127);
      });
      ws.on('close', () => {
        if (!isDone) child.kill('SIGKILL');
      });
    },
  };
}

/** An exec that accepts the connection and never says anything: the API server or kubelet hanging. */
export function silentExec(): { protocols: string[]; handle: SubresourceHandler } {
  return { protocols: EXEC_PROTOCOLS, handle: () => undefined };
}

/** What a scripted exec answers for one command: its output and exit code, or null to never answer. */
export type ScriptedAnswer = { code: number; stdout?: string; stderr?: string } | null;

/**
 * An exec that answers from a script instead of running anything (no root, no kernel): the same
 * frames and status a real API server sends. `answer` sees the argv and the request (its `name` is the
 * pod's, which names the node it runs on).
 */
export function scriptedExec(answer: (argv: string[], req: RecordedRequest) => ScriptedAnswer): { protocols: string[]; handle: SubresourceHandler } {
  return {
    protocols: EXEC_PROTOCOLS,
    handle(req: RecordedRequest, ws: WebSocket) {
      const argv = req.query.getAll('command');
      const a = answer(argv, req);
      if (a === null) return;
      if (a.stdout) ws.send(frame(1, a.stdout));
      if (a.stderr) ws.send(frame(2, a.stderr));
      ws.send(frame(3, JSON.stringify(execStatus(a.code, argv))), () => ws.close(1000));
    },
  };
}
