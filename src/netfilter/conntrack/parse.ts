// Parses conntrack table lines, as printed by `conntrack -L` and by /proc/net/nf_conntrack:
//   tcp      6 431999 ESTABLISHED src=10.244.1.5 dst=10.96.0.1 sport=41234 dport=443 src=172.18.0.2 dst=10.244.1.5 sport=6443 dport=41234 [ASSURED] mark=0 use=1
//   ipv4     2 udp      17 28 src=… dst=… sport=… dport=… [UNREPLIED] src=… … mark=0 zone=0 use=2
// The first src= starts the original tuple, the second src= the reply tuple. Parsing is one
// left-to-right pass over space-separated words, read in place: no string made for a line, a word or
// a key (a million lines are parsed when every entry must be checked for staleness). The usual shape
// (TCP and UDP, as above) is first read by one anchored regular expression, compiled to machine code
// by V8 and several times faster than reading it character by character in JavaScript; the words
// after it, and every line of another shape, go through the general word loop.

import { Buffer } from 'node:buffer';
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
/** Words that recur on every line: the shared string is used, not a new one for each line. */
const PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', 'sctp', 'udplite', 'dccp', 'gre', 'unknown'];
const STATES = ['ESTABLISHED', 'TIME_WAIT', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSE', 'NONE', 'CLOSED'];

function sameAt(line: string, at: number, word: string): boolean {
  if (at + word.length > line.length) return false;
  for (let j = 0; j < word.length; j++) if (line.charCodeAt(at + j) !== word.charCodeAt(j)) return false;
  return true;
}

function skipSpaces(line: string, from: number, to: number): number {
  let i = from;
  while (i < to && line.charCodeAt(i) === 32) i++;
  return i;
}

function wordEnd(line: string, from: number, to: number): number {
  let i = from;
  while (i < to && line.charCodeAt(i) !== 32) i++;
  return i;
}

function knownWord(line: string, from: number, to: number, words: readonly string[]): string {
  for (const w of words) if (w.length === to - from && sameAt(line, from, w)) return w;
  return line.slice(from, to);
}

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

type Key = 'src' | 'dst' | 'sport' | 'dport' | 'type' | 'code' | 'id' | 'mark' | 'zone' | 'use';

/** Which of the keys knet reads is `line[start, eq)`, without slicing it; undefined for the others. */
function keyAt(line: string, start: number, eq: number): Key | undefined {
  // By length and first letter, then one comparison: this runs for ten words of every line.
  let k: Key | undefined;
  switch (eq - start) {
    case 2:
      k = 'id';
      break;
    case 3: {
      const c = line.charCodeAt(start);
      k = c === 115 ? 'src' : c === 100 ? 'dst' : 'use';
      break;
    }
    case 4: {
      const c = line.charCodeAt(start);
      k = c === 116 ? 'type' : c === 99 ? 'code' : c === 109 ? 'mark' : 'zone';
      break;
    }
    case 5:
      k = line.charCodeAt(start) === 115 ? 'sport' : 'dport';
      break;
    default:
      return undefined;
  }
  return sameAt(line, start, k) ? k : undefined;
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
 * TCP and UDP lines: family and its number, protocol, its number, timeout, a state, the original
 * tuple, flags, the reply tuple, flags, mark, zone, use. Every part is as strict as the word
 * loop reads it (numbers of at most 12 digits, values up to the next space), so a line it matches is
 * read as the loop would; anything else (ICMP, extra words, odd spacing) is left to the loop.
 */
export const USUAL_CONNTRACK_LINE =
  / *(?:ipv([46]) +\d+ +)?(?!conntrack)([a-z][a-z0-9]*) +(\d{1,12}) +(\d{1,12}) +(?:([A-Z][A-Z_]*) +)?src=([^ \n]+) +dst=([^ \n]+) +sport=(\d{1,12}) +dport=(\d{1,12}) +((?:\[[A-Z_]+\] +)*)src=([^ \n]+) +dst=([^ \n]+) +sport=(\d{1,12}) +dport=(\d{1,12})((?: +\[[A-Z_]+\])*)(?: +mark=(\d{1,12}))?(?: +zone=(\d{1,12}))?(?: +use=(\d{1,12}))?(?=[ \r\n]|$)/y;

/** What the word loop has read so far of one line. */
interface Draft {
  original: ConntrackTuple | undefined;
  reply: ConntrackTuple | undefined;
  flags: ConntrackFlag[];
  state: string | undefined;
  mark: number | undefined;
  zone: number | undefined;
  use: number | undefined;
}

/**
 * One line; null for lines that are not entries (blank, the `conntrack v1.4.7 …: N flow entries
 * have been shown.` summary), `{ error }` for a line that should be an entry but is not.
 */
export function parseConntrackLine(line: string, lineNo: number): ParsedLine {
  return parseConntrackText(line, 0, line.length, lineNo);
}

/**
 * The same for the line `text[from, to)` (without its newline): a chunk of many lines is decoded once
 * and its lines are read where they lie.
 */
export function parseConntrackText(line: string, from: number, to: number, lineNo: number): ParsedLine {
  if (to - from > MAX_LINE) return { error: `line is ${to - from} characters long` };
  USUAL_CONNTRACK_LINE.lastIndex = from;
  const m = USUAL_CONNTRACK_LINE.exec(line);
  if (m !== null && USUAL_CONNTRACK_LINE.lastIndex <= to) {
    const flags: ConntrackFlag[] = [];
    if (m[10]) addFlags(m[10], flags);
    if (m[15]) addFlags(m[15], flags);
    const protocol = m[2]!;
    const draft: Draft = {
      original: { src: m[6]!, dst: m[7]!, sport: decimal(m[8]!), dport: decimal(m[9]!) },
      reply: { src: m[11]!, dst: m[12]!, sport: decimal(m[13]!), dport: decimal(m[14]!) },
      flags,
      state: m[5],
      mark: m[16] === undefined ? undefined : decimal(m[16]),
      zone: m[17] === undefined ? undefined : decimal(m[17]),
      use: m[18] === undefined ? undefined : decimal(m[18]),
    };
    const error = readWords(line, USUAL_CONNTRACK_LINE.lastIndex, to, draft);
    if (error !== undefined) return { error };
    return toEntry(draft, lineNo, m[1] === '6' ? 'ipv6' : 'ipv4', knownWord(protocol, 0, protocol.length, PROTOCOLS), decimal(m[3]!), decimal(m[4]!));
  }
  return parseConntrackWords(line, from, to, lineNo);
}

/** The general path, word by word, for every shape; exported so that tests hold the fast path to it. */
export function parseConntrackWords(line: string, from: number, to: number, lineNo: number): ParsedLine {
  if (to - from > MAX_LINE) return { error: `line is ${to - from} characters long` };
  // Words are scanned with charCodeAt in local variables: no closure (its variables would live in a
  // context object), no indexOf call per word (a call costs more than these few characters).
  let start = skipSpaces(line, from, to);
  if (start >= to) return null;
  let i = wordEnd(line, start, to);
  if (sameAt(line, start, 'conntrack')) return null;
  let family: 'ipv4' | 'ipv6' = 'ipv4';
  if (i - start === 4 && (sameAt(line, start, 'ipv4') || sameAt(line, start, 'ipv6'))) {
    family = line.charCodeAt(start + 3) === 52 ? 'ipv4' : 'ipv6';
    start = skipSpaces(line, wordEnd(line, skipSpaces(line, i, to), to), to); // past the family number
    if (start >= to) return { error: 'truncated after the address family' };
    i = wordEnd(line, start, to);
  }
  const protocol = knownWord(line, start, i, PROTOCOLS);
  start = skipSpaces(line, i, to);
  i = wordEnd(line, start, to);
  const protocolNumber = intAt(line, start, i);
  start = skipSpaces(line, i, to);
  i = wordEnd(line, start, to);
  const timeout = intAt(line, start, i);
  if (protocolNumber === undefined || timeout === undefined) return { error: 'expected "PROTOCOL NUMBER TIMEOUT" at the start' };
  const draft: Draft = { original: undefined, reply: undefined, flags: [], state: undefined, mark: undefined, zone: undefined, use: undefined };
  const error = readWords(line, i, to, draft);
  if (error !== undefined) return { error };
  return toEntry(draft, lineNo, family, protocol, protocolNumber, timeout);
}

function addFlags(words: string, flags: ConntrackFlag[]): void {
  for (const w of words.split(' ')) if (FLAGS.has(w)) flags.push(w.slice(1, -1) as ConntrackFlag);
}

/** A run of at most 12 decimal digits, already checked to be one. */
function decimal(digits: string): number {
  let n = 0;
  for (let j = 0; j < digits.length; j++) n = n * 10 + digits.charCodeAt(j) - 48;
  return n;
}

/** The words of `line[i, to)` after the header: tuples, flags, state, mark, zone, use; an error, or undefined. */
function readWords(line: string, i: number, to: number, d: Draft): string | undefined {
  for (;;) {
    const start = skipSpaces(line, i, to);
    if (start >= to) return undefined;
    let eq = -1;
    for (i = start; i < to; i++) {
      const c = line.charCodeAt(i);
      if (c === 32) break;
      if (c === 61 && eq < 0) eq = i;
    }
    if (eq < 0) {
      const c = line.charCodeAt(start);
      if (c === 91) {
        const w = line.slice(start, i);
        if (FLAGS.has(w)) d.flags.push(w.slice(1, -1) as ConntrackFlag);
      } else if (d.original === undefined && d.state === undefined && c >= 65 && c <= 90) {
        d.state = knownWord(line, start, i, STATES);
      }
      // other bare words (e.g. secctx labels) are ignored
      continue;
    }
    const t = d.reply ?? d.original;
    // The key is compared in place (no string made for it); numbers are read in place too.
    switch (keyAt(line, start, eq)) {
      case 'src':
        if (d.reply) return 'more than two src= tuples';
        if (d.original) d.reply = { src: line.slice(eq + 1, i), dst: '' };
        else d.original = { src: line.slice(eq + 1, i), dst: '' };
        break;
      case 'dst':
        if (!t) return 'dst= before src=';
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
        d.mark = intAt(line, eq + 1, i);
        break;
      case 'zone':
        d.zone = intAt(line, eq + 1, i);
        break;
      case 'use':
        d.use = intAt(line, eq + 1, i);
        break;
      default:
        break; // secctx=, labels=, delta-time=, packets=, bytes=… are not needed
    }
  }
}

function toEntry(d: Draft, lineNo: number, family: 'ipv4' | 'ipv6', protocol: string, protocolNumber: number, timeout: number): ParsedLine {
  const { original, reply } = d;
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
    flags: d.flags,
    // Both tuples of one line are printed alike; only a hand-made line mixes forms of one IPv6 address.
    isDnat: reply.src !== original.dst && (family === 'ipv4' || !sameIP(reply.src, original.dst)),
    isSnat: reply.dst !== original.src && (family === 'ipv4' || !sameIP(reply.dst, original.src)),
  };
  if (d.state !== undefined) entry.state = d.state;
  if (d.mark !== undefined) entry.mark = d.mark;
  if (d.zone !== undefined) entry.zone = d.zone;
  if (d.use !== undefined) entry.use = d.use;
  return { entry };
}

/**
 * A copy of `s` that holds no reference to the text it was cut from. V8 makes a substring of 13
 * characters or more a view into its parent: an entry kept from a chunk decoded whole would keep the
 * whole chunk alive, and a thousand entries kept from a million lines, the whole file.
 */
function ownCopy(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

/** Gives the entry's texts their own memory (see ownCopy): for entries kept past the line they came from. */
export function detachEntry(e: ConntrackEntry): ConntrackEntry {
  for (const t of [e.original, e.reply]) {
    t.src = ownCopy(t.src);
    t.dst = ownCopy(t.dst);
  }
  if (e.state !== undefined) e.state = ownCopy(e.state);
  e.protocol = ownCopy(e.protocol);
  return e;
}
