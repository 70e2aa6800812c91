// Node state into a snapshot being saved: nodes/<node>/<file>, the layout every node command reads
// with --snapshot, so that a snapshot taken live replays offline with the same answers.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NODE_STATE_FILES, type NodeStateKind, type NodeStateSource } from '../node-state.js';
import type { SavedFile } from './save-snapshot.js';

/** The kinds saved per node: the chosen iptables backend as iptables-save.txt, and everything else. */
const SAVED_KINDS: readonly NodeStateKind[] = ['iptables-save', 'ip6tables-save', 'nft-ruleset', 'nft-ruleset-json', 'ipvsadm', 'ipset', 'conntrack', 'ip-route', 'ip-addr'];

/** Each backend's own dump is kept only when both hold rules: two rule sets on one node is worth seeing. */
const BACKEND_PAIRS: readonly [NodeStateKind, NodeStateKind][] = [
  ['iptables-legacy-save', 'iptables-nft-save'],
  ['ip6tables-legacy-save', 'ip6tables-nft-save'],
];

export const NODE_STATE_KIND = 'NodeState';

export interface NodeStateSaved {
  node: string;
  files: string[];
  /** Kinds the node had nothing of (no IPVS module, no nft), with what the source said. */
  missing: { kind: NodeStateKind; reason: string }[];
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** Reads every kind of each node from `source` and writes what it has under `dir`/nodes/<node>/. */
export async function saveNodeState(source: NodeStateSource, nodes: readonly string[], dir: string, concurrency: number, onNode?: (node: string) => void): Promise<{ files: SavedFile[]; nodes: NodeStateSaved[] }> {
  const perNode = new Map<string, NodeStateSaved>();
  const files: SavedFile[] = [];
  await forEachLimit(nodes, concurrency, async (node) => {
    const saved: NodeStateSaved = { node, files: [], missing: [] };
    perNode.set(node, saved);
    const nodeDir = join(dir, 'nodes', node);
    await mkdir(nodeDir, { recursive: true });
    const put = async (kind: NodeStateKind, text: string): Promise<void> => {
      const file = `nodes/${node}/${NODE_STATE_FILES[kind]}`;
      await writeFile(join(nodeDir, NODE_STATE_FILES[kind]), text);
      saved.files.push(file);
      files.push({ file, kind: NODE_STATE_KIND, count: 0 });
    };
    for (const kind of SAVED_KINDS) {
      const text = await source.read(node, kind);
      if (text === null) saved.missing.push({ kind, reason: source.describe(node, kind) });
      else await put(kind, text);
    }
    for (const pair of BACKEND_PAIRS) {
      const texts = await Promise.all(pair.map((k) => source.read(node, k)));
      if (texts.every((t) => t !== null && t.trim() !== '')) for (const [i, k] of pair.entries()) await put(k, texts[i]!);
    }
    onNode?.(node);
  });
  return { files, nodes: nodes.map((n) => perNode.get(n)!) };
}
