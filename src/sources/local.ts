// --local: the capture commands run on the machine knet runs on (a node, over ssh or in a node shell),
// through execa, exactly as a debug pod runs them in the node's network namespace.
import { hostname } from 'node:os';
import { CommandNodeState, type CommandResult, type NodeCommandRunner } from './command-node-state.js';

export class LocalRunner implements NodeCommandRunner {
  async run(_node: string, argv: readonly string[], onStdout: (chunk: Buffer) => void): Promise<CommandResult> {
    const { execa } = await import('execa');
    const [file = '', ...args] = argv;
    const child = execa(file, args, { reject: false, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', encoding: 'buffer', buffer: { stdout: false, stderr: true } });
    child.stdout.on('data', (chunk: Buffer) => onStdout(chunk));
    const result = await child;
    const stderr = Buffer.from(result.stderr ?? new Uint8Array()).toString('utf8');
    // A missing program (ENOENT) is like a node without that tool: no state of that kind.
    return { code: result.exitCode ?? (result.failed ? 127 : 0), stderr: stderr || (result.failed && result.exitCode === undefined ? (result.shortMessage ?? '') : '') };
  }

  where(_node: string): string {
    return 'this machine (--local)';
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** This machine's node state; its one node is named after the host, as the kubelet names its node. */
export function localNodeState(): CommandNodeState {
  return new CommandNodeState(new LocalRunner(), () => Promise.resolve([process.env.KNET_NODE_NAME ?? hostname()]));
}
