// The parsed form of an nftables ruleset (`nft list ruleset`, `nft -j list ruleset`, or an `nft -f`
// script of `add …` commands as kube-proxy's knftables writes it). Every rule keeps its raw text
// and its line, so that a simulated path can quote what it crossed.
import type { Finding } from '../../model/finding.js';

export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

export type NftHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';

export type NftVerdict =
  | { kind: 'accept' | 'drop' | 'reject' | 'return' | 'continue' }
  | { kind: 'jump' | 'goto'; target: string };

/** One selector of a match or a map key: `ip daddr`, `meta l4proto`, `th dport`, `ct state`, `fib saddr type`… */
export interface NftSelector {
  /** Normalised name, e.g. `ip daddr`, `meta mark`, `fib saddr type`. */
  name: string;
  /** `meta mark & 0x4000` style bit mask applied before comparing. */
  mask?: number;
}

/** A right-hand value: literal atoms (IP, CIDR, range, number, name), an anonymous set, or a named set. */
export type NftValue = { kind: 'atoms'; atoms: string[][] } | { kind: 'set-ref'; name: string };

export type NftStatement =
  | { kind: 'match'; left: NftSelector[]; op: '==' | '!=' | '<' | '>' | '<=' | '>='; right: NftValue }
  | { kind: 'vmap'; left: NftSelector[]; map: { kind: 'set-ref'; name: string } | { kind: 'inline'; elements: NftElement[] } }
  | { kind: 'numgen'; mod: number; offset: number; elements: NftElement[] }
  /** `meta random & M < T`: how iptables-nft prints `-m statistic --mode random`; matches with this probability. */
  | { kind: 'random'; probability: number; text: string }
  | { kind: 'verdict'; verdict: NftVerdict }
  | { kind: 'dnat'; address: string; port?: number; text: string }
  | { kind: 'snat'; text: string }
  | { kind: 'masquerade'; text: string }
  | { kind: 'mark-set'; op: 'set' | 'or' | 'xor' | 'and'; value: number; text: string }
  | { kind: 'set-update'; set: string; text: string }
  | { kind: 'noop'; text: string }
  | { kind: 'unsupported'; text: string; reason: string };

export interface NftRule {
  /** The rule's text as written in the dump (for JSON input: rendered back to nft syntax). */
  raw: string;
  /** 1-based line in the dump (for JSON input: the position of the rule object in the `nftables` array). */
  line: number;
  statements: NftStatement[];
  comment?: string;
}

export interface NftBaseChain {
  type: string;
  hook: NftHook;
  priority: number;
  policy: 'accept' | 'drop';
}

export interface NftChain {
  name: string;
  line: number;
  base?: NftBaseChain;
  comment?: string;
  rules: NftRule[];
}

export interface NftElement {
  /** Key parts, one per concatenated field; each part an atom (IP, CIDR, `a-b` range, number or name). */
  key: string[];
  /** For verdict maps. */
  verdict?: NftVerdict;
  /** For data maps (not verdicts): the data as text. */
  data?: string;
  comment?: string;
}

export interface NftSet {
  name: string;
  kind: 'set' | 'map';
  line: number;
  keyTypes: string[];
  /** `verdict` for verdict maps, the data type for other maps. */
  dataType?: string;
  flags: string[];
  comment?: string;
  /** The set's `timeout` in seconds (kube-proxy's affinity sets), when it has one. */
  timeoutSeconds?: number;
  elements: NftElement[];
}

export interface NftTable {
  family: NftFamily;
  name: string;
  line: number;
  comment?: string;
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
}

export interface NftRuleset {
  /** `text` for `nft list ruleset` or an `nft -f` script, `json` for `nft -j list ruleset`. */
  format: 'text' | 'json';
  tables: NftTable[];
  /** Lenient-mode problems: lines not understood, references to missing chains or sets. */
  findings: Finding[];
}

export interface ParseNftOptions {
  /** strict: the first problem is an error quoting its line; lenient: a finding, and parsing goes on. */
  mode: 'strict' | 'lenient';
  /**
   * Read each chain's rules only when the chain is first used: tables, chains (with their hooks) and sets
   * are read, each rule is kept as it was written until then. A simulator that walks one packet parses
   * only the chains the packet reaches. Jumps to missing chains and lookups of missing sets are then
   * reported for the rules read (strict: thrown, lenient: findings appended to the ruleset's), so
   * whole-dump checks need the default.
   */
  isLazy?: boolean;
}

/**
 * A chain of a lazily read ruleset: its rules are kept as written (a line of text, or a JSON object) and
 * read when `rules` is first asked for; `onRead` then checks what they refer to.
 */
export class LazyNftChain<T> implements NftChain {
  base?: NftBaseChain;
  comment?: string;
  /**
   * Whether a rule of the chain may add to or update a named set, judged from the unread rules: a
   * session-affinity lookup reads only such chains to find the endpoint that records a client.
   */
  mayUpdateSet = false;
  private items: T[] = [];
  private itemLines: number[] = [];
  private made: NftRule[] | null = null;

  constructor(
    readonly name: string,
    public line: number,
    private readonly read: (item: T, line: number) => NftRule,
    private readonly onRead: (chain: NftChain, rules: NftRule[]) => void,
  ) {}

  /** Appends a rule as written; it is read with the others when the chain is first used. */
  add(item: T, line: number, mayUpdateSet: boolean): void {
    if (mayUpdateSet) this.mayUpdateSet = true;
    if (this.made !== null) {
      const rule = this.read(item, line);
      this.made.push(rule);
      this.onRead(this, [rule]);
      return;
    }
    this.items.push(item);
    this.itemLines.push(line);
  }

  get rules(): NftRule[] {
    if (this.made === null) {
      const made = this.items.map((item, i) => this.read(item, this.itemLines[i]!));
      this.made = made;
      this.items = [];
      this.itemLines = [];
      this.onRead(this, made);
    }
    return this.made;
  }

  set rules(rules: NftRule[]) {
    this.made = rules;
    this.items = [];
    this.itemLines = [];
  }

  toJSON(): NftChain {
    // The key order of an eagerly read chain.
    const out: NftChain = { name: this.name, line: this.line, rules: this.rules };
    if (this.base !== undefined) out.base = this.base;
    if (this.comment !== undefined) out.comment = this.comment;
    return out;
  }
}

/** A parse problem in strict mode, with the line it is on. */
export class NftParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'NftParseError';
  }
}

export function tableId(t: Pick<NftTable, 'family' | 'name'>): string {
  return `${t.family} ${t.name}`;
}
