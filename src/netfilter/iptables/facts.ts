// The facts of an iptables rule that a reader of kube-proxy's chains asks for: where it jumps, its
// comment, its first -s/-d address and protocol, its destination port, its statistic probability, its
// `-m recent --rcheck` affinity, its addrtype options and its DNAT destination. A rule of a large dump is
// read for them in place, in the dump's own text, making no object and no string but those asked for;
// a rule read already gives them from its matches. Both agree (test/netfilter/iptables/scan-head.test.ts).
import type { ParsedSpec, RuleMatch, RuleOption, RuleTarget } from './parse.js';
import { WordCursor, isFlagAt, topOptionAt } from './words.js';

export interface RuleFacts {
  /** 1-based line in the dump. */
  readonly line: number;
  /** The target's name (`-j`/`-g`), null when the rule has none. */
  target(): string | null;
  /** Whether the target is a goto (`-g`), not a jump. */
  isGoto(): boolean;
  /** Whether the target's name starts with `prefix` (is `prefix`, with isExact), read in place. */
  isTarget(prefix: string, isExact: boolean): boolean;
  /** The `--comment` text (the last one, its words joined by one space), undefined when none. */
  comment(): string | undefined;
  /** The first `-p` not negated, lower-cased; null when none. */
  protocol(): string | null;
  /** The first `-s` (source) or `-d` (destination) not negated, without a /32 or /128 suffix; null when none. */
  address(kind: 'source' | 'destination'): string | null;
  /** Some `-s` is negated (`! -s 10.0.0.0/8`). */
  hasNegatedSource(): boolean;
  /** Some `-s` or `-i`, negated or not. */
  hasSourceOrInInterface(): boolean;
  /** The destination port of the first match module whose `--dport` (else `--destination-port`) is a plain number not negated. */
  dport(): number | null;
  /** The `--probability` of the first statistic match; null when there is none or it is not a number. */
  probability(): number | null;
  /** Whether the first `-m recent` match has `--rcheck`. */
  hasRecentCheck(): boolean;
  /** The `--seconds` of the first `-m recent` match; NaN when none. */
  recentSeconds(): number;
  /** Whether some addrtype match has the option (`src-type` or `dst-type`). */
  hasAddrtype(option: 'src-type' | 'dst-type'): boolean;
  /** The target's first `--to-destination` value (DNAT); null when none. */
  toDestination(): string | null;
}

function withoutHostSuffix(address: string): string {
  return address.replace(/\/(32|128)$/, '');
}

function isDigits(text: string): boolean {
  return /^\d+$/.test(text);
}

function optionNamed(options: readonly RuleOption[], name: string): RuleOption | undefined {
  for (const o of options) if (o.name === name) return o;
  return undefined;
}

/** The facts of a rule read already (its matches, target and comment). */
export class ParsedFacts implements RuleFacts {
  private readonly matches: readonly RuleMatch[];
  private readonly rawTarget: RuleTarget | null;
  private readonly rawComment: string | undefined;

  constructor(
    spec: Pick<ParsedSpec, 'matches' | 'target' | 'comment'>,
    readonly line: number,
  ) {
    this.matches = spec.matches;
    this.rawTarget = spec.target;
    this.rawComment = spec.comment;
  }

  target(): string | null {
    return this.rawTarget?.name ?? null;
  }

  isGoto(): boolean {
    return this.rawTarget?.kind === 'goto';
  }

  isTarget(prefix: string, isExact: boolean): boolean {
    const name = this.rawTarget?.name;
    return name !== undefined && (isExact ? name === prefix : name.startsWith(prefix));
  }

  comment(): string | undefined {
    return this.rawComment;
  }

  protocol(): string | null {
    for (const m of this.matches) if (m.kind === 'protocol' && !m.isNegated) return m.protocol.toLowerCase();
    return null;
  }

  address(kind: 'source' | 'destination'): string | null {
    for (const m of this.matches) if (m.kind === kind && !m.isNegated) return withoutHostSuffix(m.address);
    return null;
  }

  hasNegatedSource(): boolean {
    return this.matches.some((m) => m.kind === 'source' && m.isNegated);
  }

  hasSourceOrInInterface(): boolean {
    return this.matches.some((m) => m.kind === 'source' || m.kind === 'in-interface');
  }

  dport(): number | null {
    for (const m of this.matches) {
      if (m.kind !== 'module') continue;
      const o = optionNamed(m.options, 'dport') ?? optionNamed(m.options, 'destination-port');
      if (o && !o.isNegated && isDigits(o.values[0] ?? '')) return Number(o.values[0]);
    }
    return null;
  }

  private module(name: string): RuleOption[] | undefined {
    for (const m of this.matches) if (m.kind === 'module' && m.module === name) return m.options;
    return undefined;
  }

  probability(): number | null {
    const statistic = this.module('statistic');
    if (statistic === undefined) return null;
    const p = Number(optionNamed(statistic, 'probability')?.values[0]);
    return Number.isFinite(p) ? p : null;
  }

  hasRecentCheck(): boolean {
    const recent = this.module('recent');
    return recent !== undefined && optionNamed(recent, 'rcheck') !== undefined;
  }

  recentSeconds(): number {
    const recent = this.module('recent');
    return Number(recent === undefined ? undefined : optionNamed(recent, 'seconds')?.values[0]);
  }

  hasAddrtype(option: 'src-type' | 'dst-type'): boolean {
    return this.matches.some((m) => m.kind === 'module' && m.module === 'addrtype' && optionNamed(m.options, option) !== undefined);
  }

  toDestination(): string | null {
    return this.rawTarget === null ? null : (optionNamed(this.rawTarget.options, 'to-destination')?.values[0] ?? null);
  }
}

/**
 * Where the facts of a rule are, as numbers: FACT_FIELDS numbers per rule, at `base` in an Int32Array.
 * A word's start is kept plus one (0: no such word), so a fresh array holds rules without facts; its
 * end as is. The flags say which words hold quotes (taken out when read) and the facts that are yes/no.
 */
const enum F {
  TargetStart,
  TargetEnd,
  CommentStart,
  CommentEnd,
  /** How many words the comment has. */
  CommentWords,
  ProtocolStart,
  ProtocolEnd,
  SourceStart,
  SourceEnd,
  DestinationStart,
  DestinationEnd,
  DportStart,
  DportEnd,
  ProbabilityStart,
  ProbabilityEnd,
  SecondsStart,
  SecondsEnd,
  ToDestinationStart,
  ToDestinationEnd,
  Flags,
}

export const FACT_FIELDS = 20;

/** Bits of F.Flags: which words hold quotes (Q_), the goto, and the facts that are yes or no. */
const Q_TARGET = 1;
const Q_COMMENT = 2;
const Q_PROTOCOL = 4;
const Q_SOURCE = 8;
const Q_DESTINATION = 16;
const Q_DPORT = 32;
const Q_PROBABILITY = 64;
const Q_SECONDS = 128;
const Q_TO_DESTINATION = 256;
const IS_GOTO = 1 << 9;
const HAS_NEGATED_SOURCE = 1 << 10;
const HAS_SOURCE_OR_IN = 1 << 11;
const HAS_STATISTIC = 1 << 12;
const HAS_RECENT = 1 << 13;
const HAS_RCHECK = 1 << 14;
const HAS_SRC_TYPE = 1 << 15;
const HAS_DST_TYPE = 1 << 16;
/** The rule could not be read in place: read it whole. */
const DECLINED = 1 << 17;

/** Marks the rule at `base` as one whose facts are read from the rule whole (scanFacts declined it, or its text is elsewhere). */
export function declineFacts(data: Int32Array, base: number): void {
  data.fill(0, base, base + FACT_FIELDS);
  data[base + F.Flags] = DECLINED;
}

/**
 * The facts of a rule as numbers in `data` at `base` (see F): read in place from the rule's text,
 * making only the strings asked for. One object serves a whole table: a reader moves it to the next
 * rule (at), so a visitor uses the facts of a rule before it returns.
 */
export class TextFacts implements RuleFacts {
  text = '';
  line = 0;
  base = 0;

  constructor(public data: Int32Array) {}

  /** Points at the rule whose facts are at `base` in `data`, its words in `text`. */
  at(text: string, base: number, line: number): this {
    this.text = text;
    this.base = base;
    this.line = line;
    return this;
  }

  private word(start: F, quoted: number): string | null {
    const d = this.data;
    const b = this.base;
    const from = d[b + start]!;
    if (from === 0) return null;
    const text = this.text.slice(from - 1, d[b + start + 1]);
    return (d[b + F.Flags]! & quoted) !== 0 ? text.replaceAll('"', '') : text;
  }

  private flag(bit: number): boolean {
    return (this.data[this.base + F.Flags]! & bit) !== 0;
  }

  target(): string | null {
    return this.word(F.TargetStart, Q_TARGET);
  }

  isTarget(prefix: string, isExact: boolean): boolean {
    const d = this.data;
    const b = this.base;
    const from = d[b + F.TargetStart]!;
    if (from === 0) return false;
    if (this.flag(Q_TARGET)) {
      const name = this.target()!;
      return isExact ? name === prefix : name.startsWith(prefix);
    }
    const length = d[b + F.TargetEnd]! - (from - 1);
    return (isExact ? length === prefix.length : length >= prefix.length) && this.text.startsWith(prefix, from - 1);
  }

  comment(): string | undefined {
    const d = this.data;
    const b = this.base;
    if (d[b + F.CommentStart] === 0) return undefined;
    if (d[b + F.CommentWords] === 1) return this.word(F.CommentStart, Q_COMMENT)!;
    // Several words (`--comment two words`): each read as a word, joined by one space.
    const c = new WordCursor();
    c.reset(this.text, d[b + F.CommentStart]! - 1, d[b + F.CommentEnd]!);
    const words: string[] = [];
    while (c.next()) {
      words.push(c.text()!);
      c.i = c.end;
    }
    return words.join(' ');
  }

  protocol(): string | null {
    return this.word(F.ProtocolStart, Q_PROTOCOL)?.toLowerCase() ?? null;
  }

  address(kind: 'source' | 'destination'): string | null {
    const address = kind === 'source' ? this.word(F.SourceStart, Q_SOURCE) : this.word(F.DestinationStart, Q_DESTINATION);
    return address === null ? null : withoutHostSuffix(address);
  }

  hasNegatedSource(): boolean {
    return this.flag(HAS_NEGATED_SOURCE);
  }

  hasSourceOrInInterface(): boolean {
    return this.flag(HAS_SOURCE_OR_IN);
  }

  dport(): number | null {
    const port = this.word(F.DportStart, Q_DPORT);
    return port === null ? null : Number(port);
  }

  probability(): number | null {
    if (!this.flag(HAS_STATISTIC)) return null;
    const p = Number(this.word(F.ProbabilityStart, Q_PROBABILITY) ?? undefined);
    return Number.isFinite(p) ? p : null;
  }

  hasRecentCheck(): boolean {
    return this.flag(HAS_RECENT) && this.flag(HAS_RCHECK);
  }

  recentSeconds(): number {
    return Number(this.flag(HAS_RECENT) ? (this.word(F.SecondsStart, Q_SECONDS) ?? undefined) : undefined);
  }

  hasAddrtype(option: 'src-type' | 'dst-type'): boolean {
    return this.flag(option === 'src-type' ? HAS_SRC_TYPE : HAS_DST_TYPE);
  }

  toDestination(): string | null {
    return this.word(F.ToDestinationStart, Q_TO_DESTINATION);
  }

  /** Where the target's name starts in the text; -1 when the rule has none. */
  get targetStart(): number {
    return this.data[this.base + F.TargetStart]! - 1;
  }

  get targetEnd(): number {
    return this.data[this.base + F.TargetEnd]!;
  }

  /** The target's name holds quotes, so it is not as written in the text (read it with target()). */
  get isTargetQuoted(): boolean {
    return this.flag(Q_TARGET);
  }

  isGoto(): boolean {
    return this.flag(IS_GOTO);
  }

  /** Whether the rule's facts could not be read in place (scanFacts declined it). */
  get isDeclined(): boolean {
    return this.flag(DECLINED);
  }
}

/** Which kind of match module options go to, for the facts that depend on it. */
const enum Module {
  Other,
  /** The first statistic match. */
  Statistic,
  /** The first recent match. */
  Recent,
  Addrtype,
}

/** The cursor scanFacts reads with (one: a rule is read to its end before the next starts). */
const scanCursor = new WordCursor();

/** The current match module's first --dport (at 0) and --destination-port (at 4): start + 1 (0: none), end, quoted, negated. */
const ports = new Int32Array(8);

function addFlags(data: Int32Array, base: number, bits: number): void {
  data[base + F.Flags] = data[base + F.Flags]! | bits;
}

function keepWord(data: Int32Array, base: number, start: F, from: number, to: number, isQuoted: boolean, quotedBit: number): void {
  data[base + start] = from + 1;
  data[base + start + 1] = to;
  if (isQuoted) addFlags(data, base, quotedBit);
}

/** At the end of a match module: its --dport (else --destination-port) is the rule's, when it is a number not negated and the rule has none yet. */
function closeModule(data: Int32Array, base: number, text: string): void {
  if (data[base + F.DportStart] === 0) {
    const k = ports[0] !== 0 ? 0 : 4;
    if (ports[k] !== 0 && ports[k + 3] === 0) {
      const from = ports[k]! - 1;
      const to = ports[k + 1]!;
      const isQuoted = ports[k + 2] === 1;
      if (isQuoted ? isDigits(text.slice(from, to).replaceAll('"', '')) : isDigitsAt(text, from, to)) keepWord(data, base, F.DportStart, from, to, isQuoted, Q_DPORT);
    }
  }
  ports[0] = 0;
  ports[4] = 0;
}

/**
 * Reads the facts of the rule text[from, to) from word `specStart` on (after `-A CHAIN`) into `data` at
 * `base` (FACT_FIELDS numbers, all 0 on entry). False for anything it is not sure of, as scanRule
 * declines (a malformed rule, a tab, an escape inside quotes): the caller then reads the rule whole.
 * True only for a rule the tokenizing reader reads the same.
 */
export function scanFacts(text: string, from: number, to: number, specStart: number, data: Int32Array, base: number): boolean {
  const c = scanCursor;
  c.reset(text, from, to);
  ports[0] = 0;
  ports[4] = 0;
  for (let w = 0; w < specStart; w++) {
    if (!c.next()) return false;
    c.i = c.end;
  }
  /** Where `--options` go: 0 nowhere yet (after -p), 1 a match module, 2 the target. */
  let current = 0;
  let module = Module.Other;
  let isImplicitAllowed = false;
  let hasTarget = false;
  let isStatisticSeen = false;
  let isRecentSeen = false;
  let pendingNegation = false;
  while (c.next()) {
    if (c.isBang()) {
      if (pendingNegation) return false;
      pendingNegation = true;
      c.i = c.end;
      continue;
    }
    if (!c.isOption()) return false;
    const wordStart = c.i;
    const wordEnd = c.end;
    c.i = wordEnd;
    const top = topOptionAt(text, wordStart, wordEnd);
    if (top !== undefined) {
      const isNegated = pendingNegation || (top !== 'match' && top !== 'jump' && top !== 'goto' && top !== 'fragment' && c.bangAfter());
      pendingNegation = false;
      if (top === 'fragment') continue;
      // Every other top-level option takes the next word, whatever it is.
      if (!c.next() || c.isEscaped) return false;
      const start = c.i;
      const end = c.end;
      const isQuoted = c.isQuoted;
      c.i = end;
      if (top === 'source') {
        addFlags(data, base, isNegated ? HAS_SOURCE_OR_IN | HAS_NEGATED_SOURCE : HAS_SOURCE_OR_IN);
        if (!isNegated && data[base + F.SourceStart] === 0) keepWord(data, base, F.SourceStart, start, end, isQuoted, Q_SOURCE);
      } else if (top === 'destination') {
        if (!isNegated && data[base + F.DestinationStart] === 0) keepWord(data, base, F.DestinationStart, start, end, isQuoted, Q_DESTINATION);
      } else if (top === 'in-interface') {
        addFlags(data, base, HAS_SOURCE_OR_IN);
      } else if (top === 'protocol') {
        if (current === 1) closeModule(data, base, text);
        current = 0;
        if (!isNegated && data[base + F.ProtocolStart] === 0) keepWord(data, base, F.ProtocolStart, start, end, isQuoted, Q_PROTOCOL);
        isImplicitAllowed = isImplicitProtocol(text, start, end, isQuoted);
      } else if (top === 'match') {
        if (isNegated) return false;
        if (current === 1) closeModule(data, base, text);
        current = 1;
        module = Module.Other;
        if (isWord(text, start, end, isQuoted, 'statistic')) {
          if (!isStatisticSeen) module = Module.Statistic;
          isStatisticSeen = true;
          addFlags(data, base, HAS_STATISTIC);
        } else if (isWord(text, start, end, isQuoted, 'recent')) {
          if (!isRecentSeen) module = Module.Recent;
          isRecentSeen = true;
          addFlags(data, base, HAS_RECENT);
        } else if (isWord(text, start, end, isQuoted, 'addrtype')) module = Module.Addrtype;
      } else if (top === 'jump' || top === 'goto') {
        if (isNegated || hasTarget) return false;
        if (current === 1) closeModule(data, base, text);
        hasTarget = true;
        current = 2;
        keepWord(data, base, F.TargetStart, start, end, isQuoted, Q_TARGET);
        if (top === 'goto') addFlags(data, base, IS_GOTO);
      }
      continue;
    }
    if (text.charCodeAt(wordStart + 1) !== 45) return false;
    if (current === 0) {
      // `-p tcp --dport 80`: the protocol's match, loaded implicitly.
      if (!isImplicitAllowed) return false;
      current = 1;
      module = Module.Other;
    }
    const isNegated = pendingNegation || c.bangAfter();
    pendingNegation = false;
    let first = -1;
    let firstEnd = -1;
    let isFirstQuoted = false;
    let last = -1;
    let count = 0;
    if (!isFlagAt(text, wordStart, wordEnd)) {
      for (;;) {
        const at = c.i;
        if (!c.next() || c.isBang() || c.isOption()) {
          c.i = at;
          break;
        }
        if (c.isEscaped) return false;
        if (count === 0) {
          first = c.i;
          firstEnd = c.end;
          isFirstQuoted = c.isQuoted;
        }
        last = c.end;
        count++;
        c.i = c.end;
      }
      if (count === 0) return false;
    }
    const nameStart = wordStart + 2;
    if (isWord(text, nameStart, wordEnd, false, 'comment')) {
      keepWord(data, base, F.CommentStart, first, last, isFirstQuoted, Q_COMMENT);
      data[base + F.CommentWords] = count;
    } else if (current === 2) {
      if (data[base + F.ToDestinationStart] === 0 && isWord(text, nameStart, wordEnd, false, 'to-destination')) keepWord(data, base, F.ToDestinationStart, first, firstEnd, isFirstQuoted, Q_TO_DESTINATION);
    } else if (isWord(text, nameStart, wordEnd, false, 'dport')) {
      if (ports[0] === 0) keepPort(0, first, firstEnd, isFirstQuoted, isNegated);
    } else if (isWord(text, nameStart, wordEnd, false, 'destination-port')) {
      if (ports[4] === 0) keepPort(4, first, firstEnd, isFirstQuoted, isNegated);
    } else if (module === Module.Statistic) {
      if (data[base + F.ProbabilityStart] === 0 && isWord(text, nameStart, wordEnd, false, 'probability')) keepWord(data, base, F.ProbabilityStart, first, firstEnd, isFirstQuoted, Q_PROBABILITY);
    } else if (module === Module.Recent) {
      if (isWord(text, nameStart, wordEnd, false, 'rcheck')) addFlags(data, base, HAS_RCHECK);
      else if (data[base + F.SecondsStart] === 0 && isWord(text, nameStart, wordEnd, false, 'seconds')) keepWord(data, base, F.SecondsStart, first, firstEnd, isFirstQuoted, Q_SECONDS);
    } else if (module === Module.Addrtype) {
      if (isWord(text, nameStart, wordEnd, false, 'src-type')) addFlags(data, base, HAS_SRC_TYPE);
      else if (isWord(text, nameStart, wordEnd, false, 'dst-type')) addFlags(data, base, HAS_DST_TYPE);
    }
  }
  if (pendingNegation || c.isBroken) return false;
  if (current === 1) closeModule(data, base, text);
  return true;
}

function keepPort(k: number, from: number, to: number, isQuoted: boolean, isNegated: boolean): void {
  ports[k] = from + 1;
  ports[k + 1] = to;
  ports[k + 2] = isQuoted ? 1 : 0;
  ports[k + 3] = isNegated ? 1 : 0;
}

/** The facts of one rule at a time, read in place: scan() fills them, the RuleFacts methods read them. */
export class ScannedFacts extends TextFacts {
  constructor() {
    super(new Int32Array(FACT_FIELDS));
  }

  /** Reads the rule text[from, to) (see scanFacts); false when it declines. */
  scan(text: string, from: number, to: number, specStart: number, line: number): boolean {
    this.data.fill(0);
    this.at(text, 0, line);
    return scanFacts(text, from, to, specStart, this.data, 0);
  }
}

function isWord(text: string, start: number, end: number, isQuoted: boolean, word: string): boolean {
  if (isQuoted) return text.slice(start, end).replaceAll('"', '') === word;
  return end - start === word.length && text.startsWith(word, start);
}

function isDigitsAt(text: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const ch = text.charCodeAt(i);
    if (ch < 48 || ch > 57) return false;
  }
  return true;
}

function lowerAscii(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

const IMPLICIT_PROTOCOLS = ['tcp', 'udp', 'sctp', 'udplite', 'icmp', 'icmpv6'];

/** Whether `-p` text[start, end) names a protocol whose match iptables loads for options given after it alone (-p TCP is tcp). */
function isImplicitProtocol(text: string, start: number, end: number, isQuoted: boolean): boolean {
  if (isQuoted) return IMPLICIT_PROTOCOLS.includes(text.slice(start, end).replaceAll('"', '').toLowerCase());
  for (const p of IMPLICIT_PROTOCOLS) {
    if (end - start !== p.length) continue;
    let i = 0;
    while (i < p.length && lowerAscii(text.charCodeAt(start + i)) === p.charCodeAt(i)) i++;
    if (i === p.length) return true;
  }
  return false;
}
