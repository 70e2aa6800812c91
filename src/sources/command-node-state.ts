// Node state read by running the capture commands on the node itself: in a debug pod (live), in the
// pods of a short-lived DaemonSet, or on the machine knet runs on (--local). How a command reaches the
// node is a runner's business; what is run, and how the iptables backend is chosen, is decided here once.
import { StringDecoder } from 'node:string_decoder';
import { chooseBackend } from '../netfilter/iptables/kube-view.js';
import { NODE_STATE_COMMANDS, type NodeStateKind, type NodeStateSource } from './node-state.js';

/** What one command on a node gave: its exit code and stderr (stdout went to the sink it was given). */
export interface CommandResult {
  code: number;
  stderr: string;
}

/** Runs one program (argv, no shell) on a node, streaming its stdout. */
export interface NodeCommandRunner {
  /** Never rejects for a non-zero exit (that is the result); rejects when the node cannot be reached. */
  run(node: string, argv: readonly string[], onStdout: (chunk: Buffer) => void): Promise<CommandResult>;
  /** How the node is reached, for messages: `debug pod on node X`, `this machine`. */
  where(node: string): string;
  /** Removes whatever the runner made (pods, DaemonSets); safe to call twice. */
  close(): Promise<void>;
}

/** The kinds a command-backed source offers: everything a capture can give. */
export const COMMAND_KINDS: readonly NodeStateKind[] = [
  'iptables-save',
  'ip6tables-save',
  'iptables-legacy-save',
  'iptables-nft-save',
  'ip6tables-legacy-save',
  'ip6tables-nft-save',
  'nft-ruleset',
  'nft-ruleset-json',
  'ipvsadm',
  'ipset',
  'conntrack',
  'ip-route',
  'ip-addr',
];

const BACKENDS = {
  'iptables-save': { legacy: 'iptables-legacy-save', nft: 'iptables-nft-save' },
  'ip6tables-save': { legacy: 'ip6tables-legacy-save', nft: 'ip6tables-nft-save' },
} as const satisfies Partial<Record<NodeStateKind, { legacy: NodeStateKind; nft: NodeStateKind }>>;

/** Splits streamed text into lines as the snapshot reader does (CRLF tolerated, no final empty line). */
function* splitLines(text: string, isLast: boolean): Generator<string, string> {
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    yield text.slice(start, end);
    start = nl + 1;
  }
  const rest = text.slice(start);
  if (isLast && rest) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
  return isLast ? '' : rest;
}

// Lines already in memory, through the same async interface as streamed ones.
// eslint-disable-next-line @typescript-eslint/require-await
async function* toAsync(lines: Iterable<string>): AsyncGenerator<string> {
  yield* lines;
}

/**
 * A NodeStateSource that runs each kind's capture command on the node once per command run (outputs
 * are kept for the next read), and `iptables-save` as kube-proxy's iptables-wrapper sees it: both the
 * legacy and the nft backend are read, and the one kube-proxy would use is returned.
 */
export class CommandNodeState implements NodeStateSource {
  private readonly cache = new Map<string, Promise<string | null>>();
  private readonly failures = new Map<string, string>();

  constructor(
    private readonly runner: NodeCommandRunner,
    private readonly nodes: () => Promise<string[]>,
  ) {}

  listNodes(): Promise<string[]> {
    return this.nodes();
  }

  listKinds(_node: string): Promise<NodeStateKind[]> {
    return Promise.resolve([...COMMAND_KINDS]);
  }

  describe(node: string, kind: NodeStateKind): string {
    const failed = this.failures.get(`${node}\0${kind}`);
    return `\`${NODE_STATE_COMMANDS[kind].join(' ')}\` through ${this.runner.where(node)}${failed ? ` (${failed})` : ''}`;
  }

  read(node: string, kind: NodeStateKind): Promise<string | null> {
    const key = `${node}\0${kind}`;
    let text = this.cache.get(key);
    if (text === undefined) {
      text = kind === 'iptables-save' || kind === 'ip6tables-save' ? this.readChosenBackend(node, kind) : this.capture(node, kind);
      this.cache.set(key, text);
    }
    return text;
  }

  /** The output as it arrives, line by line, without holding all of it (conntrack on a busy node). */
  lines(node: string, kind: NodeStateKind): Promise<AsyncIterable<string> | null> {
    const cached = this.cache.get(`${node}\0${kind}`);
    if (cached !== undefined) {
      return cached.then((text) => (text === null ? null : toAsync(splitLines(text, true))));
    }
    return Promise.resolve(this.streamLines(node, kind));
  }

  private async *streamLines(node: string, kind: NodeStateKind): AsyncGenerator<string> {
    const decoder = new StringDecoder('utf8');
    const chunks: string[] = [];
    let wake: (() => void) | undefined;
    let isDone = false;
    let failure: Error | undefined;
    const running = this.runner
      .run(node, NODE_STATE_COMMANDS[kind], (chunk) => {
        chunks.push(decoder.write(chunk));
        wake?.();
      })
      .then(
        (r) => {
          if (r.code !== 0) failure = this.failed(node, kind, r);
        },
        (err: unknown) => {
          failure = err instanceof Error ? err : new Error(String(err));
        },
      )
      .finally(() => {
        isDone = true;
        wake?.();
      });
    let rest = '';
    for (;;) {
      while (chunks.length > 0) {
        const it = splitLines(rest + chunks.shift()!, false);
        let r = it.next();
        for (; !r.done; r = it.next()) yield r.value;
        rest = r.value;
      }
      if (isDone) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    await running;
    if (failure !== undefined) throw failure;
    rest += decoder.end();
    if (rest) yield* splitLines(rest, true);
  }

  private failed(node: string, kind: NodeStateKind, r: CommandResult): Error {
    const said = r.stderr.trim().split('\n').slice(-2).join(' ');
    return new Error(`\`${NODE_STATE_COMMANDS[kind].join(' ')}\` on node ${node} exited ${r.code}${said ? `: ${said}` : ''}`);
  }

  /** The whole output, or null when the command is missing or fails there (no IPVS module, no nft). */
  private async capture(node: string, kind: NodeStateKind): Promise<string | null> {
    const chunks: Buffer[] = [];
    const r = await this.runner.run(node, NODE_STATE_COMMANDS[kind], (chunk) => chunks.push(chunk));
    if (r.code !== 0) {
      const said = r.stderr.trim().split('\n').slice(-2).join(' ');
      this.failures.set(`${node}\0${kind}`, `exit ${r.code}${said ? `: ${said}` : ''}`);
      return null;
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private async readChosenBackend(node: string, kind: keyof typeof BACKENDS): Promise<string | null> {
    const { legacy, nft } = BACKENDS[kind];
    const [legacyDump, nftDump] = await Promise.all([this.read(node, legacy), this.read(node, nft)]);
    if (legacyDump === null && nftDump === null) {
      // Neither backend binary is there: the plain command, whichever backend it is built for.
      return this.capture(node, kind);
    }
    return chooseBackend(legacyDump, nftDump).backend === 'legacy' ? legacyDump : nftDump;
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
