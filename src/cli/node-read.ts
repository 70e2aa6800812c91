// Reading one kind of node state for the `knet node …` commands, with the errors a user can act on:
// which node, which file, and how to capture it on the node.
import { Flags } from '@oclif/core';
import { debugPodFlags } from './flags.js';
import { closest, inputError } from '../model/errors.js';
import { parseServiceRef } from './refs.js';
import { resolveService } from './resolve.js';
import { buildNodeFilter, summarizeService, type NodeFilter } from '../netfilter/node-filter.js';
import { isIP } from '../model/ip.js';
import type { OpenedCluster } from '../sources/cluster.js';
import { NODE_STATE_COMMANDS, NODE_STATE_FILES, type NodeStateKind } from '../sources/node-state.js';
import { hasErrors, type Finding } from '../model/finding.js';
import { EXIT, KnetError, type ExitCode } from '../model/errors.js';
import { stripControl } from '../model/text.js';
import type { FailedNode } from '../render/node.js';

/** The command that produces each kind of node state, to tell the user how to capture a missing one. */
export const CAPTURE_COMMANDS = Object.fromEntries(Object.entries(NODE_STATE_COMMANDS).map(([k, argv]) => [k, argv.join(' ')])) as Record<NodeStateKind, string>;

export function captureHint(node: string, kind: NodeStateKind): string {
  return `Run \`${CAPTURE_COMMANDS[kind]} > nodes/${node}/${NODE_STATE_FILES[kind]}\` on the node and add it to the snapshot.`;
}

/** The nodes to read: the one named, or with --all-nodes every node that has state in the source. */
export async function selectNodes(opened: OpenedCluster, node: string | undefined, isAllNodes: boolean, command: string, kinds: NodeStateKind[] = []): Promise<string[]> {
  if (node !== undefined && isAllNodes) {
    throw inputError('a node name and --all-nodes cannot be used together', 'conflicting-flags', [`Use one: knet node ${command} NODE, or knet node ${command} --all-nodes.`]);
  }
  const known = await opened.nodeState.listNodes();
  if (isAllNodes) {
    if (known.length === 0) throw inputError(`${opened.origin} has no node state (no nodes/<node>/ directories)`, 'node-state-missing', ['Capture node state into nodes/NODE/ of the snapshot (see `knet node --help`).']);
    if (kinds.length === 0) return known;
    // Every node that has this kind of state; the others are not an error with --all-nodes.
    const having: string[] = [];
    for (const n of known) if ((await opened.nodeState.listKinds(n)).some((k) => kinds.includes(k))) having.push(n);
    if (having.length === 0) {
      throw inputError(`no node in ${opened.origin} has ${kinds.map((k) => NODE_STATE_FILES[k]).join(' or ')}`, 'node-state-missing', [captureHint('NODE', kinds[0]!)]);
    }
    return having;
  }
  if (node === undefined) {
    throw inputError('name a node, or use --all-nodes', 'node-required', known.length ? [nodesWithState(known)] : []);
  }
  if (!known.includes(node)) {
    const names = opened.cluster.nodes.map((n) => n.metadata.name);
    const hint = names.includes(node)
      ? [`Node ${node} exists, but the snapshot has no nodes/${node}/ directory.`, captureHintLine(node)]
      : known.length
        ? [...didYouMean(node, known), nodesWithState(known)]
        : [captureHintLine(node)];
    throw inputError(`node "${node}" has no state in ${opened.origin}`, 'node-not-found', hint);
  }
  return [node];
}

/** The nodes a source has state for, the first ten named (a fleet's list would bury the message). */
function nodesWithState(known: readonly string[]): string {
  const shown = known.slice(0, 10).join(', ');
  return `Nodes with state: ${shown}${known.length > 10 ? `, and ${known.length - 10} more` : ''}`;
}

function didYouMean(node: string, known: readonly string[]): string[] {
  const near = closest(node, known, 3);
  return near.length > 0 ? [`Did you mean ${near.join(' or ')}?`] : [];
}

function captureHintLine(node: string): string {
  return `Capture node state into nodes/${node}/ (e.g. \`iptables-save > nodes/${node}/iptables-save.txt\` on the node).`;
}

/** The whole output of one kind, or an input error naming the file and how to capture it. */
export async function readNodeText(opened: OpenedCluster, node: string, kinds: NodeStateKind[]): Promise<{ text: string; kind: NodeStateKind; source: string }> {
  for (const kind of kinds) {
    const text = await opened.nodeState.read(node, kind);
    if (text !== null) return { text, kind, source: opened.nodeState.describe(node, kind) };
  }
  const first = kinds[0]!;
  throw inputError(`node ${node} has no ${NODE_STATE_FILES[first]} in ${opened.origin} (looked for ${opened.nodeState.describe(node, first)})`, 'node-state-missing', [captureHint(node, first)]);
}

/**
 * The `knet node KIND` loop: for each selected node, the first of `kinds` it has, printed unchanged with
 * --raw, else what `present` makes of it.
 */
export async function presentEachNode<T extends { node: string; source: string; findings: Finding[] }>(
  opened: OpenedCluster,
  selection: { node: string | undefined; isAllNodes: boolean; isRaw: boolean; command: string; concurrency?: number; failed?: FailedNode[] },
  kinds: NodeStateKind[],
  present: (text: string, source: string, node: string) => T,
): Promise<(T | { node: string; source: string; raw: string; findings: Finding[] })[]> {
  const nodes = await selectNodes(opened, selection.node, selection.isAllNodes, selection.command, kinds);
  return forEachNode(
    nodes,
    selection.concurrency ?? 1,
    async (node) => {
      const { text, source } = await readNodeText(opened, node, kinds);
      return selection.isRaw ? { node, source, raw: text, findings: [] } : present(text, source, node);
    },
    selection.failed,
  );
}

/**
 * Errors that concern one node only (its debug pod never ran, an exec into it failed, timed out or
 * lost its connection, or the --daemonset deadline passed before it answered): with --all-nodes the other nodes are still read. Anything else (RBAC, Pod
 * Security, an interrupt, bad input) is the same for every node and ends the command.
 */
const NODE_FAILURES = new Set(['debug-pod-failed', 'debug-pod-gone', 'debug-exec-timeout', 'debug-exec-failed', 'debug-exec-lost', 'daemonset-deadline']);

/**
 * The exit code of a `knet node …` report: 1 when a node read holds an error finding (a problem found
 * outranks an incomplete read), else 3 when --all-nodes could not read some node, else 0.
 */
export function nodeReportExitCode(report: { nodes: readonly { findings: Finding[] }[]; failedNodes?: readonly FailedNode[] }): ExitCode {
  if (report.nodes.some((n) => hasErrors(n.findings))) return EXIT.problem;
  return (report.failedNodes?.length ?? 0) > 0 ? EXIT.environment : EXIT.ok;
}

/**
 * Reads nodes with at most `concurrency` at once (each live node is a debug pod and a few execs), in
 * the order given whatever order they finish in, with a counter on stderr when it is a terminal.
 * Given `failed` (--all-nodes), a node that cannot be read (NODE_FAILURES) is recorded there and named
 * on stderr, and the others are still read; its result is left out.
 */
export async function forEachNode<R>(nodes: readonly string[], concurrency: number, fn: (node: string) => Promise<R>, failed?: FailedNode[]): Promise<R[]> {
  const out = new Array<R | undefined>(nodes.length);
  const failures: (FailedNode | undefined)[] = new Array<FailedNode | undefined>(nodes.length);
  const isTty = process.stderr.isTTY && nodes.length > 1;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < nodes.length) {
      const i = next++;
      try {
        out[i] = await fn(nodes[i]!);
      } catch (err) {
        if (failed === undefined || !(err instanceof KnetError) || !NODE_FAILURES.has(err.code)) throw err;
        failures[i] = { node: nodes[i]!, code: err.code, reason: err.message, suggestions: err.suggestions };
        if (isTty) process.stderr.write('\r\x1b[K');
        process.stderr.write(stripControl(`Error: node ${nodes[i]!} not read: ${err.message}`) + '\n' + err.suggestions.map((s) => `  ${stripControl(s)}\n`).join(''));
      }
      done++;
      if (isTty) process.stderr.write(`\r\x1b[KRead ${done}/${nodes.length} nodes`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, nodes.length)) }, worker));
  } finally {
    if (isTty) process.stderr.write('\r\x1b[K');
  }
  // In the order the nodes were given, whatever order they failed in.
  for (const f of failures) if (f !== undefined) failed?.push(f);
  return out.filter((r, i) => failures[i] === undefined) as R[];
}

/** The output of one kind as a stream: raw chunks where the source has them (filtered before decoding), else lines. */
export async function readNodeLines(opened: OpenedCluster, node: string, kind: NodeStateKind): Promise<{ lines: AsyncIterable<string | Uint8Array>; source: string }> {
  const lines = opened.nodeState.chunks ? await opened.nodeState.chunks(node, kind) : await opened.nodeState.lines(node, kind);
  if (lines === null) {
    throw inputError(`node ${node} has no ${NODE_STATE_FILES[kind]} in ${opened.origin} (looked for ${opened.nodeState.describe(node, kind)})`, 'node-state-missing', [captureHint(node, kind)]);
  }
  return { lines, source: opened.nodeState.describe(node, kind) };
}

/** The flags every `knet node KIND` command shares. */
export const nodeCommandFlags = {
  'all-nodes': Flags.boolean({ description: 'Every node that has state in the source.' }),
  concurrency: Flags.integer({ description: 'With --all-nodes: how many nodes are read at once.', default: 4, min: 1, max: 64 }),
  ...debugPodFlags,
  service: Flags.string({ description: "Only what concerns this Service (NS/NAME or svc/NAME): its IPs, ports, NodePorts and endpoints." }),
  ip: Flags.string({ description: 'Only what mentions this IP address.' }),
  port: Flags.integer({ description: 'Only what mentions this port.', min: 0, max: 65535 }),
  raw: Flags.boolean({
    description:
      'Print the command output unchanged: to a file or a pipe with its control characters as they are; to a terminal with them shown as \\xNN, so that escape sequences in it cannot act on the terminal.',
  }),
};

/** --service/--ip/--port → a filter; the Service is resolved in the cluster (with "did you mean"). */
export function filterFromFlags(opened: OpenedCluster, flags: { service?: string; ip?: string; port?: number; namespace?: string }): NodeFilter {
  if (flags.ip !== undefined && !isIP(flags.ip)) {
    throw inputError(`--ip "${flags.ip}" is not an IP address`, 'bad-ip', ['Give an IPv4 or IPv6 address, e.g. --ip 10.96.0.10.']);
  }
  const service = flags.service === undefined ? undefined : summarizeService(opened.cluster, resolveService(opened.cluster, parseServiceRef(flags.service), flags.namespace ?? opened.namespace));
  return buildNodeFilter({ ...(service ? { service } : {}), ...(flags.ip !== undefined ? { ip: flags.ip } : {}), ...(flags.port !== undefined ? { port: flags.port } : {}) });
}
