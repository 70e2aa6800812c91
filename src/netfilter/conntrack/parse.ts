// Parses conntrack table lines, as printed by `conntrack -L` and by /proc/net/nf_conntrack:
//   tcp      6 431999 ESTABLISHED src=10.244.1.5 dst=10.96.0.1 sport=41234 dport=443 src=172.18.0.2 dst=10.244.1.5 sport=6443 dport=41234 [ASSURED] mark=0 use=1
//   ipv4     2 udp      17 28 src=… dst=… sport=… dport=… [UNREPLIED] src=… … mark=0 zone=0 use=2
// The first src= starts the original tuple, the second src= the reply tuple. Parsing is one
// left-to-right pass over space-separated words: no regular expressions, no backtracking.

import { sameIP } from '../../model/ip.js';

export type ConntrackFlag = 'ASSURED' | 'UNREPLIED' | 'OFFLOAD' | 'HW_OFFLOAD' | 'SEEN_REPLY';

export interface ConntrackTuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** ICMP type, code and id. */
  type?: number;
  code?: number;
  id?: number;
}

export interface ConntrackEntry {
  /** 1-based line number in the input. */
  line: number;
  family: 'ipv4' | 'ipv6';
  protocol: string;
  protocolNumber: number;
  /** Seconds until the entry expires. */
  timeout: number;
  /** TCP/SCTP state (ESTABLISHED, TIME_WAIT…); absent for UDP and ICMP. */
  state?: string;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  flags: ConntrackFlag[];
  mark?: number;
  zone?: number;
  use?: number;
  /** The reply comes from another address than the original destination: the connection was DNATed (a Service). */
  isDnat: boolean;
  /** The reply goes to another address than the original source: the connection was SNATed or masqueraded. */
  isSnat: boolean;
  /** `namespace/name` of the Service whose frontend the original destination is, when Services were given. */
  service?: string;
}

export type ParsedLine = { entry: ConntrackEntry } | { error: string } | null;

const FLAGS = new Set(['[ASSURED]', '[UNREPLIED]', '[OFFLOAD]', '[HW_OFFLOAD]', '[SEEN_REPLY]']);
/** Longer lines are not conntrack output; they are reported, not split. */
const MAX_LINE = 4096;

function toInt(s: string): number | undefined {
  if (s.length === 0 || s.length > 12) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return s.startsWith('0x') ? parseInt(s, 16) || 0 : undefined;
    n = n * 10 + c;
  }
  return n;
}

const KEYS = ['src', 'dst', 'sport', 'dport', 'type', 'code', 'id', 'mark', 'zone', 'use'] as const;
type Key = (typeof KEYS)[number];

/** Which of the keys knet reads is `line[start, eq)`, without slicing it; undefined for the others. */
function keyAt(line: string, start: number, eq: number): Key | undefined {
  const len = eq - start;
  for (const k of KEYS) if (k.length === len && line.startsWith(k, start)) return k;
  return undefined;
}

/** The decimal (or 0x hex) number in `line[from, to)`, read in place; undefined when it is not one. */
function intAt(line: string, from: number, to: number): number | undefined {
  if (to <= from || to - from > 12) return undefined;
  let n = 0;
  for (let j = from; j < to; j++) {
    const c = line.charCodeAt(j) - 48;
    if (c < 0 || c > 9) return toInt(line.slice(from, to));
    n = n * 10 + c;
  }
  return n;
}

/**
 * One line; null for lines that are not entries (blank, the `conntrack v1.4.7 …: N flow entries
 * have been shown.` summary), `{ error }` for a line that should be an entry but is not.
 */
export function parseConntrackLine(line: string, lineNo: number): ParsedLine {
  if (line.length > MAX_LINE) return { error: `line is ${line.length} characters long` };
  // Words are found with indexOf and read in place: no array of words, no key strings (a million
  // lines are parsed when every entry must be checked for staleness).
  const n = line.length;
  let i = 0;
  let start = 0;
  const nextWord = (): boolean => {
    while (i < n && line.charCodeAt(i) === 32) i++;
    if (i >= n) return false;
    start = i;
    const sp = line.indexOf(' ', i);
    i = sp < 0 ? n : sp;
    return true;
  };
  const word = (): string => line.slice(start, i);
  if (!nextWord()) return null;
  let first = word();
  if (first.startsWith('conntrack')) return null;
  let family: 'ipv4' | 'ipv6' = 'ipv4';
  if (first === 'ipv4' || first === 'ipv6') {
    family = first;
    nextWord(); // the family number
    if (!nextWord()) return { error: 'truncated after the address family' };
    first = word();
  }
  const protocol = first;
  const protocolNumber = nextWord() ? toInt(word()) : undefined;
  const timeout = nextWord() ? toInt(word()) : undefined;
  if (protocolNumber === undefined || timeout === undefined) return { error: 'expected "PROTOCOL NUMBER TIMEOUT" at the start' };
  let original: ConntrackTuple | undefined;
  let reply: ConntrackTuple | undefined;
  const flags: ConntrackFlag[] = [];
  let state: string | undefined;
  let mark: number | undefined;
  let zone: number | undefined;
  let use: number | undefined;
  while (nextWord()) {
    const eq = line.indexOf('=', start);
    if (eq < 0 || eq >= i) {
      const w = word();
      if (FLAGS.has(w)) flags.push(w.slice(1, -1) as ConntrackFlag);
      else if (original === undefined && state === undefined) {
        const c = w.charCodeAt(0);
        if (c >= 65 && c <= 90) state = w;
      }
      // other bare words (e.g. secctx labels) are ignored
      continue;
    }
    const t = reply ?? original;
    // The key is compared in place (no string made for it); numbers are read in place too.
    const key = keyAt(line, start, eq);
    switch (key) {
      case 'src':
        if (reply) return { error: 'more than two src= tuples' };
        if (original) reply = { src: line.slice(eq + 1, i), dst: '' };
        else original = { src: line.slice(eq + 1, i), dst: '' };
        break;
      case 'dst':
        if (!t) return { error: 'dst= before src=' };
        t.dst = line.slice(eq + 1, i);
        break;
      case 'sport':
        if (t) t.sport = intAt(line, eq + 1, i);
        break;
      case 'dport':
        if (t) t.dport = intAt(line, eq + 1, i);
        break;
      case 'type':
        if (t) t.type = intAt(line, eq + 1, i);
        break;
      case 'code':
        if (t) t.code = intAt(line, eq + 1, i);
        break;
      case 'id':
        if (t) t.id = intAt(line, eq + 1, i);
        break;
      case 'mark':
        mark = intAt(line, eq + 1, i);
        break;
      case 'zone':
        zone = intAt(line, eq + 1, i);
        break;
      case 'use':
        use = intAt(line, eq + 1, i);
        break;
      default:
        break; // secctx=, labels=, delta-time=, packets=, bytes=… are not needed
    }
  }
  if (!original?.dst || !reply?.dst) {
    return { error: 'expected an original and a reply tuple (src= dst= … src= dst= …)' };
  }
  if (original.src.includes(':')) family = 'ipv6';
  const entry: ConntrackEntry = {
    line: lineNo,
    family,
    protocol,
    protocolNumber,
    timeout,
    original,
    reply,
    flags,
    // Both tuples of one line are printed alike; only a hand-made line mixes forms of one IPv6 address.
    isDnat: reply.src !== original.dst && (family === 'ipv4' || !sameIP(reply.src, original.dst)),
    isSnat: reply.dst !== original.src && (family === 'ipv4' || !sameIP(reply.dst, original.src)),
  };
  if (state !== undefined) entry.state = state;
  if (mark !== undefined) entry.mark = mark;
  if (zone !== undefined) entry.zone = zone;
  if (use !== undefined) entry.use = use;
  return { entry };
}
