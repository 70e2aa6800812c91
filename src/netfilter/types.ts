// The shape every netfilter simulator (iptables, nftables, IPVS) returns. `knet rules trace --json`
// prints a TraceResult; `knet trace` composes it. See docs/cli.md for the contract fields.
import type { Finding } from '../model/finding.js';
import type { NodeRouting } from './routes/index.js';

export type L4Protocol = 'tcp' | 'udp' | 'sctp' | 'icmp';

/** Where the packet enters: from a pod (or the wire) through PREROUTING, or made by the node (OUTPUT). */
export type Hook = 'prerouting' | 'output';

export type ConnState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';

export interface Packet {
  src: string;
  dst: string;
  protocol: L4Protocol;
  sport?: number;
  dport?: number;
  hook: Hook;
  /** Interface the packet arrives on (prerouting) or leaves by; unknown unless told. */
  inInterface?: string;
  outInterface?: string;
  /** Initial packet mark (fwmark). */
  mark?: number;
  /** Conntrack state assumed; NEW unless told otherwise. */
  ctState?: ConnState;
}

export type Verdict = 'accept' | 'drop' | 'reject';

/** One rule crossed: the explanation of an outcome is the list of rules it matched. */
export interface PathStep {
  /** iptables table (nat, filter…) or nft `family table` (e.g. `ip kube-proxy`). */
  table: string;
  chain: string;
  /** The rule's raw text as it appears in the dump. */
  rule: string;
  /** 1-based line in the dump. */
  line: number;
  /** What this step did, in words: "jump", "DNAT to 10.0.0.5:80", "probability 0.5 taken". */
  effect?: string;
}

export interface Outcome {
  /** Probability of this outcome, 0..1; all outcomes of one trace sum to 1. */
  probability: number;
  /** `unknown` when the packet reached something knet does not model (named in `notModelled`). */
  verdict: Verdict | 'unknown';
  /** The DNAT destination "IP:PORT" (IPv6 as "[IP]:PORT"), or null. */
  dnat: string | null;
  /** Whether the packet was marked for masquerade (KUBE-MARK-MASQ) or hit MASQUERADE/SNAT. */
  masquerade: boolean;
  path: PathStep[];
  /** The final packet mark, when it changed. */
  mark?: number;
  /** A rule whose target or match knet does not simulate, when that decided this outcome. */
  notModelled?: { table: string; chain: string; rule: string; line: number; reason: string };
  /** For IPVS outcomes: the real server chosen. */
  realServer?: string;
}

export interface TraceResult {
  verdict: Verdict | 'unknown';
  outcomes: Outcome[];
  /** The dump format simulated: `iptables`, `nftables`, `ipvs`. */
  format: string;
  packet: Packet;
  /** What the simulation took for granted (connection state NEW, local addresses, ...), in words. */
  assumptions: string[];
  findings: Finding[];
}

/** The overall verdict: accept when any outcome accepts; else the most likely of drop/reject; unknown if nothing decided. */
export function overallVerdict(outcomes: readonly Outcome[]): Verdict | 'unknown' {
  if (outcomes.some((o) => o.verdict === 'accept')) return 'accept';
  const weight = new Map<string, number>();
  for (const o of outcomes) weight.set(o.verdict, (weight.get(o.verdict) ?? 0) + o.probability);
  const drop = weight.get('drop') ?? 0;
  const reject = weight.get('reject') ?? 0;
  if (drop === 0 && reject === 0) return 'unknown';
  return reject >= drop ? 'reject' : 'drop';
}

/**
 * Answers `-m set --match-set NAME FLAGS` (and nft set lookups backed by ipsets): whether the packet's
 * fields named by `flags` (e.g. ["dst", "dst"]) are in set NAME; undefined when the set is unknown.
 */
export type IpsetLookup = (setName: string, packet: Packet, flags: readonly string[]) => boolean | undefined;

/** What every simulator is told besides the packet. */
export interface SimulateOptions {
  /** The node's own addresses, for `-m addrtype --dst-type LOCAL` and `fib daddr type local`. */
  localIPs: readonly string[];
  /** ipset contents, for `-m set` (IPVS mode); without it such rules are "not modelled". */
  ipsets?: IpsetLookup;
  /** Upper bound on rules evaluated per outcome, against jump loops and hostile dumps. */
  maxSteps?: number;
  /**
   * Endpoints ("IP:PORT") the client already has ClientIP session affinity to: `-m recent --rcheck`
   * (iptables) and affinity-set lookups (nftables) match for them. Without it, a new client is assumed.
   */
  affinity?: readonly string[];
  /**
   * The node's routes and addresses (`ip route`, `ip addr`): when given, the input interface comes from
   * the route back to the source and the output interface from a route lookup of the destination after
   * DNAT, as the kernel does, unless the packet names them (`inInterface`, `outInterface`).
   */
  routing?: NodeRouting;
}
