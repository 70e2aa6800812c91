/**
 * Node state as plain command output, one kind per file. The snapshot layout stores each under
 * `nodes/<node>/<file>`; a live source runs the command in a debug pod on the node.
 */
export const NODE_STATE_FILES = {
  'iptables-save': 'iptables-save.txt',
  'ip6tables-save': 'ip6tables-save.txt',
  /** When both backends' dumps were taken, kube-proxy's iptables-wrapper picks the one with more rules. */
  'iptables-legacy-save': 'iptables-legacy-save.txt',
  'iptables-nft-save': 'iptables-nft-save.txt',
  'ip6tables-legacy-save': 'ip6tables-legacy-save.txt',
  'ip6tables-nft-save': 'ip6tables-nft-save.txt',
  'nft-ruleset': 'nft-ruleset.txt',
  'nft-ruleset-json': 'nft-ruleset.json',
  ipvsadm: 'ipvsadm.txt',
  ipset: 'ipset.txt',
  conntrack: 'conntrack.txt',
  'ip-route': 'ip-route.txt',
  'ip-addr': 'ip-addr.txt',
} as const;

export type NodeStateKind = keyof typeof NODE_STATE_FILES;

/** The narrow interface node-state consumers need; snapshot and debug-pod sources implement it. */
export interface NodeStateSource {
  /** Names of the nodes that have any state here. */
  listNodes(): Promise<string[]>;
  /** Which kinds of state this node has. */
  listKinds(node: string): Promise<NodeStateKind[]>;
  /** The whole output, or null when this node has none of that kind. */
  read(node: string, kind: NodeStateKind): Promise<string | null>;
  /** The output line by line, for outputs too large to hold (conntrack); null when absent. */
  lines(node: string, kind: NodeStateKind): Promise<AsyncIterable<string> | null>;
  /**
   * The raw bytes in chunks, for outputs filtered before they are decoded (conntrack); null when
   * absent. Optional: a source without it is read through `lines`.
   */
  chunks?(node: string, kind: NodeStateKind): Promise<AsyncIterable<Uint8Array> | null>;
  /** Where the data came from, for messages (a file path, or `debug pod on NODE`). */
  describe(node: string, kind: NodeStateKind): string;
}

/**
 * The program that produces each kind, as argv (no shell): what a debug pod or `--local` runs, and
 * what a user runs on the node to capture a missing file.
 */
export const NODE_STATE_COMMANDS: Record<NodeStateKind, readonly string[]> = {
  'iptables-save': ['iptables-save'],
  'ip6tables-save': ['ip6tables-save'],
  'iptables-legacy-save': ['iptables-legacy-save'],
  'iptables-nft-save': ['iptables-nft-save'],
  'ip6tables-legacy-save': ['ip6tables-legacy-save'],
  'ip6tables-nft-save': ['ip6tables-nft-save'],
  'nft-ruleset': ['nft', 'list', 'ruleset'],
  'nft-ruleset-json': ['nft', '-j', 'list', 'ruleset'],
  ipvsadm: ['ipvsadm', '-Ln'],
  ipset: ['ipset', 'list'],
  conntrack: ['conntrack', '-L'],
  'ip-route': ['ip', 'route', 'show', 'table', 'all'],
  'ip-addr': ['ip', 'addr'],
};
