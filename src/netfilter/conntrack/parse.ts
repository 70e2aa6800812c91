// Parses conntrack table lines, as printed by `conntrack -L` and by /proc/net/nf_conntrack:
//   tcp      6 431999 ESTABLISHED src=10.244.1.5 dst=10.96.0.1 sport=41234 dport=443 src=172.18.0.2 dst=10.244.1.5 sport=6443 dport=41234 [ASSURED] mark=0 use=1
//   ipv4     2 udp      17 28 src=… dst=… sport=… dport=… [UNREPLIED] src=… … mark=0 zone=0 use=2
// The first src= starts the original tuple, the second src= the reply tuple. Parsing is one
// left-to-right pass over space-separated words: no regular expressions, no backtracking.

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

/**
 * One line; null for lines that are not entries (blank, the `conntrack v1.4.7 …: N flow entries
 * have been shown.` summary), `{ error }` for a line that should be an entry but is not.
 */
export function parseConntrackLine(line: string, lineNo: number): ParsedLine {
  if (line.length > MAX_LINE) return { error: `line is ${line.length} characters long` };
  const words = line.split(' ');
  let i = 0;
  const nextWord = (): string | undefined => {
    while (i < words.length && words[i] === '') i++;
    return words[i++];
  };
  let first = nextWord();
  if (first === undefined) return null;
  if (first === 'conntrack' || first.startsWith('conntrack')) return null;
  let family: 'ipv4' | 'ipv6' = 'ipv4';
  if (first === 'ipv4' || first === 'ipv6') {
    family = first;
    nextWord(); // the family number
    first = nextWord();
    if (first === undefined) return { error: 'truncated after the address family' };
  }
  const protocol = first;
  const protocolNumber = toInt(nextWord() ?? '');
  const timeout = toInt(nextWord() ?? '');
  if (protocolNumber === undefined || timeout === undefined) return { error: 'expected "PROTOCOL NUMBER TIMEOUT" at the start' };
  const tuples: Partial<ConntrackTuple>[] = [];
  const flags: ConntrackFlag[] = [];
  let state: string | undefined;
  let mark: number | undefined;
  let zone: number | undefined;
  let use: number | undefined;
  for (let w = nextWord(); w !== undefined; w = nextWord()) {
    const eq = w.indexOf('=');
    if (eq < 0) {
      if (FLAGS.has(w)) flags.push(w.slice(1, -1) as ConntrackFlag);
      else if (tuples.length === 0 && state === undefined && w.length > 0 && w[0]! >= 'A' && w[0]! <= 'Z') state = w;
      // other bare words (e.g. secctx labels) are ignored
      continue;
    }
    const key = w.slice(0, eq);
    const value = w.slice(eq + 1);
    if (key === 'src') {
      if (tuples.length === 2) return { error: 'more than two src= tuples' };
      tuples.push({ src: value });
      continue;
    }
    const t = tuples[tuples.length - 1];
    switch (key) {
      case 'dst':
        if (!t) return { error: 'dst= before src=' };
        t.dst = value;
        break;
      case 'sport':
      case 'dport':
      case 'type':
      case 'code':
      case 'id':
        if (t) t[key] = toInt(value);
        break;
      case 'mark':
        mark = toInt(value);
        break;
      case 'zone':
        zone = toInt(value);
        break;
      case 'use':
        use = toInt(value);
        break;
      default:
        break; // secctx=, labels=, delta-time=, packets=, bytes=… are not needed
    }
  }
  const [original, reply] = tuples;
  if (!original?.dst || !reply?.dst || original.src === undefined || reply.src === undefined) {
    return { error: 'expected an original and a reply tuple (src= dst= … src= dst= …)' };
  }
  if (original.src.includes(':')) family = 'ipv6';
  const entry: ConntrackEntry = {
    line: lineNo,
    family,
    protocol,
    protocolNumber,
    timeout,
    original: original as ConntrackTuple,
    reply: reply as ConntrackTuple,
    flags,
    isDnat: reply.src !== original.dst,
    isSnat: reply.dst !== original.src,
  };
  if (state !== undefined) entry.state = state;
  if (mark !== undefined) entry.mark = mark;
  if (zone !== undefined) entry.zone = zone;
  if (use !== undefined) entry.use = use;
  return { entry };
}
