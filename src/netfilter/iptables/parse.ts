// A parser for `iptables-save` / `ip6tables-save` output (legacy and nft backends) and for the
// `iptables-restore` input kube-proxy writes. It builds a plain tree, dump → table → chain → rule, in
// the manner of kubernetes pkg/util/iptables/testing/parse.go: every rule keeps its raw text and its
// 1-based line, and every error quotes the line. One pass, one tokenizer, no per-rule regular expressions,
// so a node dump of 100,000+ rules parses in linear time.
import type { Finding } from '../../model/finding.js';
import { FACT_FIELDS, ParsedFacts, declineFacts, ScannedFacts, TextFacts, scanFacts, type RuleFacts } from './facts.js';
import { FLAG_OPTIONS, TOP_OPTIONS, WordCursor, isFlagAt, topOptionAt } from './words.js';

export type ParseMode = 'strict' | 'lenient';

export interface ParseOptions {
  mode: ParseMode;
  /**
   * Read each `-A` rule only when it is first used (its target, matches or comment): the dump is split
   * into tables, chains and rule lines, and nothing more. A simulator that walks one packet then parses
   * only the rules the packet reaches. A malformed rule is reported when it is reached (strict: thrown,
   * lenient: a finding appended to the dump's findings, the rule then matching nothing), and jumps to
   * missing chains or loops only where the walk meets them, so whole-dump checks need the default.
   */
  isLazy?: boolean;
  /**
   * With isLazy: read every rule once, at the end of the parse, and check every jump, so that the dump
   * has the findings a full read gives (in line order), while each rule is still tokenized only once
   * (a full read tokenizes a rule twice: to validate it, then when it is used).
   */
  shouldCheckAll?: boolean;
}

/** The tables iptables knows; anything else is reported (strict: an error, lenient: a finding). */
export const IPTABLES_TABLES = ['raw', 'mangle', 'nat', 'filter', 'security'] as const;
export type IptablesTableName = (typeof IPTABLES_TABLES)[number];

/** The built-in chains of each table, as the kernel registers them. */
export const BUILTIN_CHAINS: Record<IptablesTableName, readonly string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

export interface Counters {
  packets: number;
  bytes: number;
}

/** One option of a match module or target: `--dport 80`, `! --mark 0x4000/0x4000`, `--rcheck`. */
export interface RuleOption {
  name: string;
  isNegated: boolean;
  /** The option's arguments; multi-word unquoted comments arrive as several words. */
  values: string[];
}

/** A match of the rule, in the order written. */
export type RuleMatch =
  | { kind: 'source' | 'destination'; isNegated: boolean; address: string }
  | { kind: 'protocol'; isNegated: boolean; protocol: string }
  | { kind: 'in-interface' | 'out-interface'; isNegated: boolean; name: string }
  | { kind: 'fragment'; isNegated: boolean }
  /** `-m NAME --opt …`; options given after `-p tcp` without `-m tcp` land in an implicit module named after the protocol. */
  | { kind: 'module'; module: string; options: RuleOption[] };

/** `-j NAME [options]` (jump or built-in target) or `-g NAME` (goto). */
export interface RuleTarget {
  kind: 'jump' | 'goto';
  name: string;
  options: RuleOption[];
}

export interface IptablesRule {
  table: string;
  chain: string;
  /** 1-based line in the dump. */
  line: number;
  /** The line as written, without its `[packets:bytes]` prefix. */
  raw: string;
  matches: RuleMatch[];
  /** null for a rule without `-j`/`-g`: it only counts packets. */
  target: RuleTarget | null;
  /** The `-m comment --comment` text, when present. */
  comment?: string;
  counters?: Counters;
}

export interface IptablesChain {
  name: string;
  isBuiltin: boolean;
  /** ACCEPT/DROP for a built-in chain; null for a user chain (`-`). */
  policy: string | null;
  /** Line of the `:CHAIN` declaration, or of the first rule when the chain was never declared. */
  line: number;
  rules: IptablesRule[];
  counters?: Counters;
}

export interface IptablesTable {
  name: string;
  line: number;
  chains: IptablesChain[];
  /** Whether the table ended with COMMIT. */
  isCommitted: boolean;
}

export interface IptablesDump {
  tables: IptablesTable[];
  /** 4 or 6 when the addresses in the rules tell; null when nothing does. */
  family: 4 | 6 | null;
  ruleCount: number;
  /** Problems found; in strict mode only those that do not stop the parse (warnings, info). */
  findings: Finding[];
}

/** A malformed dump in strict mode: the message names the line and quotes it. */
export class IptablesParseError extends Error {
  readonly line: number;
  readonly text: string;
  readonly code: string;

  constructor(code: string, message: string, line: number, text: string) {
    super(`line ${line}: ${message}: ${quote(text)}`);
    this.name = 'IptablesParseError';
    this.code = code;
    this.line = line;
    this.text = text;
  }
}

const MAX_QUOTED = 200;

/** The line as an error shows it: long lines are cut, so a hostile million-character line stays readable. */
function quote(text: string): string {
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}… (${text.length} characters)` : text;
}

/** The words of a rule line; `quoted[i]` is 1 when word i was (partly) in quotes, so never an option. */
export interface RuleWords {
  words: string[];
  quoted: Uint8Array | null;
}

/**
 * Splits a rule line into words as iptables-restore does: spaces separate, double quotes group
 * (with `\"` and `\\` escapes inside). Returns null for an unterminated quote.
 */
export function tokenizeRule(line: string): RuleWords | null {
  if (!line.includes('"')) {
    // The common case: no quotes at all, a plain split.
    const words = line.split(' ');
    return { words: words.includes('') ? words.filter((x) => x !== '') : words, quoted: null };
  }
  const words: string[] = [];
  const quotedAt: number[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    let c = line.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    let text = '';
    let isQuoted = false;
    // A word is a run of unquoted parts and "quoted" parts up to the next unquoted blank.
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === 32 || c === 9) break;
      if (c === 34 /* " */) {
        isQuoted = true;
        let j = i + 1;
        let part = '';
        for (;;) {
          const close = line.indexOf('"', j);
          const slash = line.indexOf('\\', j);
          if (close < 0) return null;
          if (slash >= 0 && slash < close) {
            // `\"` and `\\` are escapes inside quotes; any other backslash is literal.
            const next = line[slash + 1];
            part += line.slice(j, slash) + (next === '"' || next === '\\' ? next : '\\' + (next ?? ''));
            j = slash + 2;
            continue;
          }
          part += line.slice(j, close);
          i = close + 1;
          break;
        }
        text += part;
        continue;
      }
      let end = i;
      while (end < n) {
        const e = line.charCodeAt(end);
        if (e === 32 || e === 9 || e === 34) break;
        end++;
      }
      text += line.slice(i, end);
      i = end;
    }
    if (isQuoted) quotedAt.push(words.length);
    words.push(text);
  }
  const quoted = new Uint8Array(words.length);
  for (const q of quotedAt) quoted[q] = 1;
  return { words, quoted };
}

function isOptionWord(w: RuleWords, i: number): boolean {
  const text = w.words[i]!;
  if ((w.quoted !== null && w.quoted[i] === 1) || text.length < 2 || text.charCodeAt(0) !== 45 /* - */) return false;
  const c = text.charCodeAt(1) | 32; // lower-cased letter, or '-' (45 | 32 = 45)
  return c === 45 || (c >= 97 && c <= 122);
}

function isBang(w: RuleWords, i: number): boolean {
  return w.words[i] === '!' && (w.quoted === null || w.quoted[i] !== 1);
}

class RuleSyntaxError extends Error {}

/** Where parseRuleSpec is in the words of a rule (module-level helpers: no closures per rule). */
interface Cursor {
  w: RuleWords;
  i: number;
}

function takeValue(c: Cursor, option: string): string {
  const t = c.w.words[c.i];
  if (t === undefined) throw new RuleSyntaxError(`${option} needs an argument`);
  c.i++;
  return t;
}

/** `-s ! 10.0.0.0/8` (old syntax) puts the negation after the option. */
function negatedAfter(c: Cursor): boolean {
  if (c.i < c.w.words.length && isBang(c.w, c.i)) {
    c.i++;
    return true;
  }
  return false;
}

export interface ParsedSpec {
  matches: RuleMatch[];
  target: RuleTarget | null;
  comment?: string;
  /** The first -s/-d address, which tells the dump's IP family. */
  firstAddress?: string;
}

/** Shared empty lists of a validating read; nothing is ever added to them. */
const NO_MATCHES: RuleMatch[] = [];
const NO_OPTIONS: RuleOption[] = [];
/** Never pushed to: the values of an option that is not kept. */
const NO_VALUES: string[] = [];

/**
 * Parses the words of one rule after `-A CHAIN` into matches and a target.
 * Throws RuleSyntaxError with a short reason.
 */
export function parseRuleSpec(w: RuleWords, start: number, isCollecting = true): ParsedSpec {
  // Not collecting (the first, validating read of a dump): only the target and the first address are
  // kept, so a dump of 100,000 rules makes few objects; the matches are built when a rule is visited.
  const matches: RuleMatch[] = isCollecting ? [] : NO_MATCHES;
  let firstAddress: string | undefined;
  let target: RuleTarget | null = null;
  let comment: string | undefined;
  /** Where `--options` go: the last `-m` module, the target, or an implicit protocol module. */
  let current: RuleOption[] | null = null;
  let protocol: string | null = null;
  let pendingNegation = false;
  const c: Cursor = { w, i: start };
  const words = w.words;
  const n = words.length;

  while (c.i < n) {
    const word = words[c.i]!;
    if (isBang(w, c.i)) {
      if (pendingNegation) throw new RuleSyntaxError('two "!" in a row');
      pendingNegation = true;
      c.i++;
      continue;
    }
    if (!isOptionWord(w, c.i)) throw new RuleSyntaxError(`unexpected word "${quote(word)}"`);
    c.i++;
    const top = TOP_OPTIONS[word];
    if (top !== undefined) {
      const isNegated = pendingNegation || (top !== 'match' && top !== 'jump' && top !== 'goto' && top !== 'fragment' && negatedAfter(c));
      pendingNegation = false;
      switch (top) {
        case 'source':
        case 'destination': {
          const address = takeValue(c, word);
          firstAddress ??= address;
          if (isCollecting) matches.push({ kind: top, isNegated, address });
          break;
        }
        case 'protocol':
          protocol = takeValue(c, word).toLowerCase();
          if (isCollecting) matches.push({ kind: 'protocol', isNegated, protocol });
          current = null;
          break;
        case 'in-interface':
        case 'out-interface': {
          const name = takeValue(c, word);
          if (isCollecting) matches.push({ kind: top, isNegated, name });
          break;
        }
        case 'fragment':
          if (isCollecting) matches.push({ kind: 'fragment', isNegated });
          break;
        case 'match': {
          if (isNegated) throw new RuleSyntaxError('"!" cannot negate -m');
          const module = takeValue(c, word);
          const options: RuleOption[] = isCollecting ? [] : NO_OPTIONS;
          if (isCollecting) matches.push({ kind: 'module', module, options });
          current = options;
          break;
        }
        case 'jump':
        case 'goto': {
          if (isNegated) throw new RuleSyntaxError(`"!" cannot negate ${word}`);
          if (target !== null) throw new RuleSyntaxError('more than one target');
          const name = takeValue(c, word);
          target = { kind: top === 'goto' ? 'goto' : 'jump', name, options: [] };
          current = target.options;
          break;
        }
      }
      continue;
    }
    if (word.charCodeAt(1) !== 45) throw new RuleSyntaxError(`unknown option ${word}`);
    // A `--long` option of the current module or target.
    const name = word.slice(2);
    if (current === null) {
      if (protocol === 'tcp' || protocol === 'udp' || protocol === 'sctp' || protocol === 'udplite' || protocol === 'icmp' || protocol === 'icmpv6') {
        // iptables loads the protocol's match implicitly for `-p tcp --dport 80`.
        const options: RuleOption[] = isCollecting ? [] : NO_OPTIONS;
        if (isCollecting) matches.push({ kind: 'module', module: protocol, options });
        current = options;
      } else {
        throw new RuleSyntaxError(`option --${name} belongs to no match module or target`);
      }
    }
    const isNegated = pendingNegation || negatedAfter(c);
    pendingNegation = false;
    const isKept = current !== NO_OPTIONS;
    // Values are only collected for options that are kept: a module read for its target alone allocates nothing here.
    const values: string[] = isKept ? [] : NO_VALUES;
    if (!FLAG_OPTIONS.has(name)) {
      const first = c.i;
      while (c.i < n) {
        if (isBang(w, c.i) || isOptionWord(w, c.i)) break;
        if (isKept) values.push(words[c.i]!);
        c.i++;
      }
      if (c.i === first) throw new RuleSyntaxError(`--${name} needs an argument`);
    }
    if (isKept) current.push({ name, isNegated, values });
    if (isCollecting && name === 'comment') comment = values.join(' ');
  }
  if (pendingNegation) throw new RuleSyntaxError('"!" at the end of the rule negates nothing');
  const spec: ParsedSpec = { matches, target };
  if (comment !== undefined) spec.comment = comment;
  if (firstAddress !== undefined) spec.firstAddress = firstAddress;
  return spec;
}

/** The cursor scanRule reads with (one: a rule is read to its end before the next starts). */
const cursor = new WordCursor();

/**
 * parseRuleSpec(tokenizeRule(raw), specStart, isCollecting) for a well-formed rule, read in place: no
 * list of words is made, only the strings the result holds. Returns null for anything it is not sure
 * of (a malformed rule, an escape inside quotes, a tab): the tokenizing reader then reads it and words
 * the problem. The rule is raw[from, to): a rule of a large dump is best read in the dump's own text,
 * where reading a character is quicker than in a slice of it.
 */
export function scanRule(raw: string, specStart: number, isCollecting: boolean, from = 0, to = raw.length): ParsedSpec | null {
  const c = cursor;
  c.reset(raw, from, to);
  for (let w = 0; w < specStart; w++) {
    if (!c.next()) return null;
    c.i = c.end;
  }
  const matches: RuleMatch[] = isCollecting ? [] : NO_MATCHES;
  let target: RuleTarget | null = null;
  let firstAddress: string | undefined;
  let comment: string | undefined;
  let protocol: string | null = null;
  /** Where `--options` go: null nowhere yet, NO_OPTIONS a match module not kept, else the list. */
  let current: RuleOption[] | null = null;
  let pendingNegation = false;
  while (c.next()) {
    if (c.isBang()) {
      if (pendingNegation) return null;
      pendingNegation = true;
      c.i = c.end;
      continue;
    }
    if (!c.isOption()) return null;
    const wordStart = c.i;
    const wordEnd = c.end;
    c.i = wordEnd;
    const top = topOptionAt(raw, wordStart, wordEnd);
    if (top !== undefined) {
      const isNegated = pendingNegation || (top !== 'match' && top !== 'jump' && top !== 'goto' && top !== 'fragment' && c.bangAfter());
      pendingNegation = false;
      if (top === 'source' || top === 'destination') {
        const address = c.value();
        if (address === null) return null;
        firstAddress ??= address;
        if (isCollecting) matches.push({ kind: top, isNegated, address });
      } else if (top === 'protocol') {
        const v = c.value();
        if (v === null) return null;
        protocol = v.toLowerCase();
        if (isCollecting) matches.push({ kind: 'protocol', isNegated, protocol });
        current = null;
      } else if (top === 'in-interface' || top === 'out-interface') {
        const name = c.value();
        if (name === null) return null;
        if (isCollecting) matches.push({ kind: top, isNegated, name });
      } else if (top === 'fragment') {
        if (isCollecting) matches.push({ kind: 'fragment', isNegated });
      } else if (top === 'match') {
        if (isNegated) return null;
        const module = c.value();
        if (module === null) return null;
        const options: RuleOption[] = isCollecting ? [] : NO_OPTIONS;
        if (isCollecting) matches.push({ kind: 'module', module, options });
        current = options;
      } else {
        if (isNegated || target !== null) return null;
        const name = c.value();
        if (name === null) return null;
        target = { kind: top === 'goto' ? 'goto' : 'jump', name, options: [] };
        current = target.options;
      }
      continue;
    }
    if (raw.charCodeAt(wordStart + 1) !== 45) return null;
    if (current === null) {
      if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp' && protocol !== 'udplite' && protocol !== 'icmp' && protocol !== 'icmpv6') return null;
      const options: RuleOption[] = isCollecting ? [] : NO_OPTIONS;
      if (isCollecting) matches.push({ kind: 'module', module: protocol, options });
      current = options;
    }
    const isNegated = pendingNegation || c.bangAfter();
    pendingNegation = false;
    const isKept = current !== NO_OPTIONS;
    // Values are only collected for options that are kept: a module read for its target alone allocates nothing here.
    const values: string[] = isKept ? [] : NO_VALUES;
    if (!isFlagAt(raw, wordStart, wordEnd)) {
      let count = 0;
      for (;;) {
        const at = c.i;
        if (!c.next() || c.isBang() || c.isOption()) {
          c.i = at;
          break;
        }
        if (isKept) {
          const v = c.text();
          if (v === null) return null;
          values.push(v);
        }
        count++;
        c.i = c.end;
      }
      if (count === 0) return null;
    }
    if (isKept) {
      const name = raw.slice(wordStart + 2, wordEnd);
      current.push({ name, isNegated, values });
      if (isCollecting && name === 'comment') comment = values.join(' ');
    }
  }
  if (pendingNegation || c.isBroken) return null;
  const spec: ParsedSpec = { matches, target };
  if (comment !== undefined) spec.comment = comment;
  if (firstAddress !== undefined) spec.firstAddress = firstAddress;
  return spec;
}

/**
 * What every rule read from a dump is: its table, chain, line, text and counters held, its matches and
 * comment read from the text when first asked for. ParsedRule and LazyRule differ only in how they read
 * it (and when the target is known), so that the two cannot disagree on the rest.
 */
abstract class TextRule implements IptablesRule {
  counters?: Counters;

  constructor(
    readonly table: string,
    readonly chain: string,
    readonly line: number,
    readonly raw: string,
    protected readonly specStart: number,
    counters: Counters | null,
  ) {
    if (counters !== null) this.counters = counters;
  }

  abstract readonly target: RuleTarget | null;

  /** The whole rule read from its text (matches, target, comment), once. */
  protected abstract parsed(): ParsedSpec;

  get matches(): RuleMatch[] {
    return this.parsed().matches;
  }

  get comment(): string | undefined {
    return this.parsed().comment;
  }

  toJSON(): Omit<IptablesRule, never> {
    const out: IptablesRule = { table: this.table, chain: this.chain, line: this.line, raw: this.raw, matches: this.matches, target: this.target };
    const comment = this.comment;
    if (comment !== undefined) out.comment = comment;
    if (this.counters !== undefined) out.counters = this.counters;
    return out;
  }
}

/** A rule of a dump: text, line and target held; matches and comment parsed again on first access. */
class ParsedRule extends TextRule {
  private spec: ParsedSpec | undefined;

  constructor(
    table: string,
    chain: string,
    line: number,
    raw: string,
    specStart: number,
    readonly target: RuleTarget | null,
    counters: Counters | null,
  ) {
    super(table, chain, line, raw, specStart, counters);
  }

  protected parsed(): ParsedSpec {
    // The text was valid when the dump was read, so this parse succeeds.
    this.spec ??= scanRule(this.raw, this.specStart, true) ?? parseRuleSpec(tokenizeRule(this.raw)!, this.specStart);
    return this.spec;
  }
}

/** A rule of a lazily read dump: only its text and line are held until it is first used. */
class LazyRule extends TextRule {
  private spec: ParsedSpec | undefined;
  /** The target alone, read without building the matches (most rules of a dump are only asked where they jump); undefined until read. */
  private known: RuleTarget | null | undefined;

  constructor(
    table: string,
    chain: string,
    line: number,
    raw: string,
    specStart: number,
    counters: Counters | null,
    private readonly onProblem: (code: string, message: string, line: number, raw: string) => void,
    /** Where `raw` starts in the dump's text, when it is all of text[from, from + raw.length); else -1. */
    private readonly from: number,
    private readonly text: string,
  ) {
    super(table, chain, line, raw, specStart, counters);
  }

  private read(isCollecting: boolean): ParsedSpec {
    // Read in the dump's own text when the rule is all of a line there (quicker than in a slice).
    const spec =
      this.from >= 0
        ? readRuleText(this.text, this.from, this.from + this.raw.length, this.specStart, this.line, isCollecting, this.onProblem)
        : readRuleText(this.raw, 0, this.raw.length, this.specStart, this.line, isCollecting, this.onProblem);
    if (spec === UNREADABLE || isCollecting) this.spec = spec;
    return spec;
  }

  protected parsed(): ParsedSpec {
    return this.spec ?? this.read(true);
  }

  get target(): RuleTarget | null {
    if (this.spec !== undefined) return this.spec.target;
    if (this.known === undefined) this.known = this.read(false).target;
    return this.known;
  }
}

/** `! -p all`: what a rule that could not be read is left with, so that it never matches. */
const NEVER_MATCH: RuleMatch = { kind: 'protocol', isNegated: true, protocol: 'all' };

/** A rule that could not be read: lenient readers keep it as one that matches nothing and jumps nowhere. */
const UNREADABLE: ParsedSpec = { matches: [NEVER_MATCH], target: null };

/**
 * Reads the rule source[from, to) of a lazily read dump from `specStart` on (all of it, or only its
 * target and first address when not collecting): in place (scanRule), else tokenized. A malformed rule
 * is reported at its line and read as UNREADABLE.
 */
function readRuleText(source: string, from: number, to: number, specStart: number, line: number, isCollecting: boolean, onProblem: ProblemReport): ParsedSpec {
  const scanned = scanRule(source, specStart, isCollecting, from, to);
  if (scanned !== null) return scanned;
  const raw = from === 0 && to === source.length ? source : source.slice(from, to);
  const tokens = tokenizeRule(raw);
  if (tokens === null) {
    onProblem('iptables-bad-rule', 'unterminated quote', line, raw);
    return UNREADABLE;
  }
  try {
    return parseRuleSpec(tokens, specStart, isCollecting);
  } catch (err) {
    if (!(err instanceof RuleSyntaxError)) throw err;
    onProblem('iptables-bad-rule', err.message, line, raw);
    return UNREADABLE;
  }
}

function parseCounters(text: string): Counters | null {
  // "[12:3456]"
  if (text.length < 5 || text[0] !== '[' || text[text.length - 1] !== ']') return null;
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const packets = Number(text.slice(1, colon));
  const bytes = Number(text.slice(colon + 1, -1));
  if (!Number.isInteger(packets) || !Number.isInteger(bytes) || packets < 0 || bytes < 0) return null;
  return { packets, bytes };
}

/** The blank-separated words of `text` from `from` on (a split without a regular expression). */
function splitWords(text: string, from: number): string[] {
  const out: string[] = [];
  const n = text.length;
  let i = from;
  while (i < n) {
    let c = text.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && (c = text.charCodeAt(i)) !== 32 && c !== 9) i++;
    out.push(text.slice(start, i));
  }
  return out;
}

const V6_HINT = /^[0-9a-fA-F:]*:[0-9a-fA-F:.]*(\/\d+)?$/;

/**
 * Parses a dump. Strict mode throws IptablesParseError on the first malformed line; lenient mode
 * records a Finding (with the line) for each problem and keeps what it could read.
 */
export function parseIptablesSave(text: string, options: ParseOptions = { mode: 'strict' }): IptablesDump {
  if (options.isLazy === true) {
    const lazy = readLazily(text, options.mode, options.shouldCheckAll === true);
    if (lazy !== null) return lazy;
  }
  const isStrict = options.mode === 'strict';
  const findings: Finding[] = [];
  const tables: IptablesTable[] = [];
  let table: IptablesTable | null = null;
  let chainIndex = new Map<string, IptablesChain>();
  let family: 4 | 6 | null = null;
  let ruleCount = 0;

  const problem = (code: string, message: string, line: number, raw: string, severity: 'error' | 'warning' = 'error'): void => {
    if (isStrict && severity === 'error') throw new IptablesParseError(code, message, line, raw);
    findings.push({ code, severity, message: `line ${line}: ${message}: ${quote(raw)}`, line });
  };

  const chainOf = (name: string, line: number): IptablesChain => {
    let chain = chainIndex.get(name);
    if (chain === undefined) {
      const tableName = table!.name as IptablesTableName;
      const isBuiltin = BUILTIN_CHAINS[tableName]?.includes(name) ?? false;
      chain = { name, isBuiltin, policy: isBuiltin ? 'ACCEPT' : null, line, rules: [] };
      chainIndex.set(name, chain);
      table!.chains.push(chain);
    }
    return chain;
  };

  let pos = 0;
  let lineNo = 0;
  let lastLine = 0;
  const len = text.length;
  while (pos <= len) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = len;
    let raw = text.slice(pos, end);
    pos = end + 1;
    lineNo++;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (end === len && raw === '') break;
    const first = raw.charCodeAt(0);
    // Blank lines and `# Generated by iptables-save …` comments.
    if (raw === '' || first === 35 /* # */) continue;
    const line = raw.trim();
    if (line === '') continue;
    lastLine = lineNo;
    if (line[0] === '*') {
      const name = line.slice(1).trim();
      if (table !== null && !table.isCommitted) {
        problem('iptables-missing-commit', `table "${table.name}" (line ${table.line}) has no COMMIT before the next table`, lineNo, raw);
      }
      if (name === '' || /\s/.test(name)) {
        problem('iptables-bad-table', 'a table line is "*NAME"', lineNo, raw);
        table = null;
        continue;
      }
      if (!(IPTABLES_TABLES as readonly string[]).includes(name)) {
        problem('iptables-unknown-table', `unknown table "${name}" (iptables has ${IPTABLES_TABLES.join(', ')})`, lineNo, raw);
      }
      const existing = tables.find((t) => t.name === name);
      if (existing) {
        // iptables-restore accepts the same table twice (a second transaction); rules add up.
        table = existing;
        table.isCommitted = false;
        chainIndex = new Map(table.chains.map((c) => [c.name, c]));
      } else {
        table = { name, line: lineNo, chains: [], isCommitted: false };
        tables.push(table);
        chainIndex = new Map();
      }
      continue;
    }
    if (line === 'COMMIT') {
      if (table === null) problem('iptables-rule-outside-table', 'COMMIT outside a table', lineNo, raw);
      else table.isCommitted = true;
      continue;
    }
    if (table === null || table.isCommitted) {
      problem('iptables-rule-outside-table', 'this line is outside a table (no "*table" before it, or after its COMMIT)', lineNo, raw);
      continue;
    }
    if (line[0] === ':') {
      // ":CHAIN POLICY [packets:bytes]"
      const parts = splitWords(line, 1);
      const name = parts[0] ?? '';
      if (name === '' || parts.length < 2) {
        problem('iptables-bad-chain', 'a chain line is ":CHAIN POLICY [packets:bytes]"', lineNo, raw);
        continue;
      }
      const chain = chainOf(name, lineNo);
      chain.line = lineNo;
      const policy = parts[1]!;
      chain.policy = policy === '-' ? null : policy;
      if (policy !== '-' && policy !== 'ACCEPT' && policy !== 'DROP') {
        problem('iptables-bad-chain', `chain policy must be ACCEPT, DROP or "-", not "${policy}"`, lineNo, raw);
      }
      if (parts[2] !== undefined) {
        const counters = parseCounters(parts[2]);
        if (counters) chain.counters = counters;
      }
      continue;
    }
    let body = line;
    let counters: Counters | null = null;
    if (body[0] === '[') {
      const close = body.indexOf(']');
      counters = close > 0 ? parseCounters(body.slice(0, close + 1)) : null;
      if (counters === null) {
        problem('iptables-bad-rule', 'bad "[packets:bytes]" counters', lineNo, raw);
        continue;
      }
      body = body.slice(close + 1).trimStart();
    }
    const tokens = tokenizeRule(body);
    if (tokens === null) {
      problem('iptables-bad-rule', 'unterminated quote', lineNo, raw);
      continue;
    }
    const command = tokens.words[0] ?? '';
    const chainName = tokens.words[1];
    if (command === '-A' || command === '--append' || command === '-I' || command === '--insert') {
      if (chainName === undefined) {
        problem('iptables-bad-rule', `${command} needs a chain name`, lineNo, raw);
        continue;
      }
      let specStart = 2;
      let insertAt: number | null = null;
      if ((command === '-I' || command === '--insert') && tokens.words[2] !== undefined && /^\d+$/.test(tokens.words[2])) {
        insertAt = Number(tokens.words[2]);
        specStart = 3;
      } else if (command === '-I' || command === '--insert') {
        insertAt = 1;
      }
      let spec: ReturnType<typeof parseRuleSpec>;
      try {
        spec = parseRuleSpec(tokens, specStart, false);
      } catch (err) {
        if (!(err instanceof RuleSyntaxError)) throw err;
        problem('iptables-bad-rule', err.message, lineNo, raw);
        continue;
      }
      const chain = chainOf(chainName, lineNo);
      // The rule keeps its text and target; its matches are read again when first asked for, so a
      // dump of 100,000+ rules holds few objects (the simulator visits a small part of it).
      const rule = new ParsedRule(table.name, chainName, lineNo, body, specStart, spec.target, counters);
      if (insertAt === null) chain.rules.push(rule);
      else chain.rules.splice(Math.max(0, insertAt - 1), 0, rule);
      ruleCount++;
      if (family === null && spec.firstAddress !== undefined) family = V6_HINT.test(spec.firstAddress) ? 6 : 4;
      continue;
    }
    if (command === '-N' || command === '--new-chain') {
      if (chainName === undefined) problem('iptables-bad-chain', '-N needs a chain name', lineNo, raw);
      else chainOf(chainName, lineNo);
      continue;
    }
    if (command === '-X' || command === '--delete-chain') {
      // kube-proxy deletes stale chains in its restore input; a delete of a chain still jumped to is caught below.
      if (chainName !== undefined) {
        const chain = chainIndex.get(chainName);
        if (chain) {
          chainIndex.delete(chainName);
          table.chains.splice(table.chains.indexOf(chain), 1);
        }
      }
      continue;
    }
    if (command === '-F' || command === '--flush') {
      if (chainName === undefined) for (const c of table.chains) c.rules = [];
      else {
        const chain = chainIndex.get(chainName);
        if (chain) chain.rules = [];
      }
      continue;
    }
    problem('iptables-bad-line', 'not a table, chain, rule or COMMIT line', lineNo, raw);
  }
  if (table !== null && !table.isCommitted) {
    problem('iptables-missing-commit', `table "${table.name}" (line ${table.line}) has no COMMIT: the dump may be truncated`, lastLine, `*${table.name}`);
  }
  checkJumps(tables, problem);
  return { tables, family, ruleCount, findings };
}

/** Targets the kernel provides; any other `-j NAME` must be a chain of the same table. */
export const BUILTIN_TARGETS = new Set([
  'ACCEPT', 'DROP', 'REJECT', 'RETURN', 'QUEUE', 'NFQUEUE', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP',
  'MARK', 'CONNMARK', 'CONNSECMARK', 'SECMARK', 'LOG', 'NFLOG', 'ULOG', 'TRACE', 'NOTRACK', 'CT', 'TPROXY', 'TCPMSS',
  'TOS', 'DSCP', 'TTL', 'HL', 'ECN', 'CLASSIFY', 'CHECKSUM', 'AUDIT', 'SET', 'IDLETIMER', 'LED', 'HMARK', 'CLUSTERIP',
  'TEE', 'SYNPROXY', 'RATEEST', 'TCPOPTSTRIP', 'NPTv6', 'MIRROR',
]);

const BUILTIN_TARGETS_BY_LENGTH: string[][] = [];
for (const name of BUILTIN_TARGETS) (BUILTIN_TARGETS_BY_LENGTH[name.length] ??= []).push(name);

/** Whether text[start, end) is one of BUILTIN_TARGETS, compared in place. */
function isBuiltinTargetAt(text: string, start: number, end: number): boolean {
  const candidates = BUILTIN_TARGETS_BY_LENGTH[end - start];
  if (candidates === undefined) return false;
  for (const name of candidates) if (text.startsWith(name, start)) return true;
  return false;
}

/**
 * A jump to a chain the table does not have fails in iptables-restore, and so does a set of jumps that
 * forms a loop ("Too many links"); report either at the rule's line. One pass resolves every jump to a
 * chain number, then an iterative depth-first walk over those numbers looks for a loop.
 */
function checkJumps(tables: IptablesTable[], problem: (code: string, message: string, line: number, raw: string) => void): void {
  for (const t of tables) {
    const indexOf = new Map<string, number>();
    for (let i = 0; i < t.chains.length; i++) indexOf.set(t.chains[i]!.name, i);
    // edges[i]: for chain i, pairs of (rule position, callee chain number).
    const edges: number[][] = [];
    for (const chain of t.chains) {
      const out: number[] = [];
      const rules = chain.rules;
      for (let r = 0; r < rules.length; r++) {
        const rule = rules[r]!;
        const target = rule.target;
        if (target === null || BUILTIN_TARGETS.has(target.name)) continue;
        const callee = indexOf.get(target.name);
        if (callee === undefined) {
          problem('iptables-missing-chain', `${target.kind === 'goto' ? 'goto' : 'jump'} to "${target.name}", which is neither a chain of table "${t.name}" nor a known target`, rule.line, rule.raw);
        } else out.push(r, callee);
      }
      edges.push(out);
    }
    checkLoops(t, edges, problem);
  }
}

function checkLoops(t: IptablesTable, edges: number[][], problem: (code: string, message: string, line: number, raw: string) => void): void {
  // One list of jumps per chain: t.chains is only made to word a loop.
  const state = new Uint8Array(edges.length); // 0 unseen, 1 on the current path, 2 done
  const stackChain: number[] = [];
  const stackEdge: number[] = [];
  for (let start = 0; start < edges.length; start++) {
    if (state[start] !== 0) continue;
    stackChain.push(start);
    stackEdge.push(0);
    state[start] = 1;
    while (stackChain.length > 0) {
      const top = stackChain.length - 1;
      const chain = stackChain[top]!;
      const e = stackEdge[top]!;
      const out = edges[chain]!;
      if (e >= out.length) {
        state[chain] = 2;
        stackChain.pop();
        stackEdge.pop();
        continue;
      }
      stackEdge[top] = e + 2;
      const callee = out[e + 1]!;
      if (state[callee] === 1) {
        const rule = t.chains[chain]!.rules[out[e]!]!;
        const cycle = [...stackChain.slice(stackChain.indexOf(callee)), callee].map((i) => t.chains[i]!.name).join(' → ');
        problem('iptables-jump-loop', `the jumps of table "${t.name}" form a loop (${cycle}), which the kernel refuses`, rule.line, rule.raw);
        return;
      }
      if (state[callee] === 0) {
        state[callee] = 1;
        stackChain.push(callee);
        stackEdge.push(0);
      }
    }
  }
}

// ── Reading lazily: tables, chains and where their rules are; rules parsed when reached ──────────

type ProblemReport = (code: string, message: string, line: number, raw: string) => void;

/** What String.prototype.trimEnd removes, among the characters below 128 (the rest are left to it). */
function isTrailingBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** FNV-1a over the characters text[start, end). */
function hashRange(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A table of a lazily read dump. Its chains are kept as numbers (where the name is in the text, where
 * the declaration line is, and runs of consecutive `-A` lines), found by a hash of the name's characters,
 * so reading a dump of 60,000 chains makes neither strings nor objects per chain; a chain becomes an
 * IptablesChain when it is first asked for.
 */
class LazyTable implements IptablesTable {
  isCommitted = false;
  // Per chain slot.
  private readonly nameStart: number[] = [];
  private readonly nameEnd: number[] = [];
  private readonly hashes: number[] = [];
  /** Line start, end and number of the `:CHAIN POLICY` declaration; -1 when none. */
  private readonly declStart: number[] = [];
  private readonly declEnd: number[] = [];
  private readonly declLine: number[] = [];
  private readonly firstRun: number[] = [];
  private readonly lastRun: number[] = [];
  // Per run of consecutive rule lines of one chain.
  private readonly runStart: number[] = [];
  private readonly runEnd: number[] = [];
  private readonly runLine: number[] = [];
  private readonly runNext: number[] = [];
  /** The row (see keepFacts) of the run's first rule line, and how many rule lines it has. */
  private readonly runFirstRow: number[] = [];
  private readonly runRows: number[] = [];
  /** Open addressing: slot + 1, 0 for empty. */
  private buckets = new Int32Array(1024);
  private readonly made: (IptablesChain | undefined)[] = [];
  private all: IptablesChain[] | null = null;

  constructor(
    readonly name: string,
    readonly line: number,
    private readonly text: string,
    private readonly onProblem: ProblemReport,
  ) {}

  /** The slot of the chain named text[start, end), or -1. */
  private findRange(start: number, end: number, h: number): number {
    const mask = this.buckets.length - 1;
    for (let b = h & mask; ; b = (b + 1) & mask) {
      const v = this.buckets[b]!;
      if (v === 0) return -1;
      if (this.hashes[v - 1] === h && sameRange(this.text, this.nameStart[v - 1]!, this.nameEnd[v - 1]!, start, end)) return v - 1;
    }
  }

  /** The slot of the chain named text[start, end), made when new. */
  slotOfRange(start: number, end: number): number {
    const h = hashRange(this.text, start, end);
    const found = this.findRange(start, end, h);
    if (found !== -1) return found;
    const slot = this.nameStart.length;
    this.nameStart.push(start);
    this.nameEnd.push(end);
    this.hashes.push(h);
    this.declStart.push(-1);
    this.declEnd.push(-1);
    this.declLine.push(-1);
    this.firstRun.push(-1);
    this.lastRun.push(-1);
    if ((slot + 1) * 2 > this.buckets.length) this.grow();
    else this.place(slot);
    return slot;
  }

  private place(slot: number): void {
    const mask = this.buckets.length - 1;
    let b = this.hashes[slot]! & mask;
    while (this.buckets[b] !== 0) b = (b + 1) & mask;
    this.buckets[b] = slot + 1;
  }

  private grow(): void {
    this.buckets = new Int32Array(this.buckets.length * 2);
    for (let slot = 0; slot < this.nameStart.length; slot++) this.place(slot);
  }

  /** The slot of the chain called `name`, or -1. */
  slotOfName(name: string): number {
    const h = hashRange(name, 0, name.length);
    const mask = this.buckets.length - 1;
    for (let b = h & mask; ; b = (b + 1) & mask) {
      const v = this.buckets[b]!;
      if (v === 0) return -1;
      const slot = v - 1;
      if (this.hashes[slot] === h && this.nameEnd[slot]! - this.nameStart[slot]! === name.length && this.text.startsWith(name, this.nameStart[slot])) return slot;
    }
  }

  /** Records a declaration; false when the chain was declared before (left to the full reader). */
  declare(slot: number, start: number, end: number, line: number): boolean {
    if (this.declLine[slot] !== -1) return false;
    this.declStart[slot] = start;
    this.declEnd[slot] = end;
    this.declLine[slot] = line;
    return true;
  }

  /** Adds the rule line text[start, end) at `line`; extends the chain's last run when it is the next line. */
  addRule(slot: number, start: number, end: number, line: number): void {
    const row = this.ruleLines++;
    const last = this.lastRun[slot]!;
    if (last !== -1 && this.runEnd[last] === start - 1) {
      this.runEnd[last] = end;
      this.runRows[last] = this.runRows[last]! + 1;
      return;
    }
    const run = this.runStart.length;
    this.runStart.push(start);
    this.runEnd.push(end);
    this.runLine.push(line);
    this.runNext.push(-1);
    this.runFirstRow.push(row);
    this.runRows.push(1);
    if (last === -1) this.firstRun[slot] = run;
    else this.runNext[last] = run;
    this.lastRun[slot] = run;
  }

  hasChain(name: string): boolean {
    return this.slotOfName(name) !== -1;
  }

  chainNamed(name: string): IptablesChain | undefined {
    const slot = this.slotOfName(name);
    return slot === -1 ? undefined : this.chainAt(slot);
  }

  private chainAt(slot: number): IptablesChain {
    let chain = this.made[slot];
    if (chain !== undefined) return chain;
    const text = this.text;
    const name = text.slice(this.nameStart[slot], this.nameEnd[slot]);
    const isBuiltin = BUILTIN_CHAINS[this.name as IptablesTableName]?.includes(name) ?? false;
    const firstRun = this.firstRun[slot]!;
    const declLine = this.declLine[slot]!;
    chain = new LazyChain(name, isBuiltin, declLine !== -1 ? declLine : this.runLine[firstRun]!, () => this.rulesOf(slot, name));
    const declared = this.readDeclaration(slot, this.ruleProblem);
    if (declared !== null) {
      chain.policy = declared.policy;
      if (declared.counters !== null) chain.counters = declared.counters;
    }
    this.made[slot] = chain;
    return chain;
  }

  /** The chain's `:CHAIN POLICY [packets:bytes]` line, checked as the full reader checks it; null when it has none or it is malformed. */
  private readDeclaration(slot: number, report: ProblemReport): { policy: string | null; counters: Counters | null } | null {
    const declLine = this.declLine[slot]!;
    if (declLine === -1) return null;
    const raw = this.text.slice(this.declStart[slot], this.declEnd[slot]).replace(/\r$/, '');
    const parts = splitWords(raw, 1);
    if (parts.length < 2) {
      report('iptables-bad-chain', 'a chain line is ":CHAIN POLICY [packets:bytes]"', declLine, raw);
      return null;
    }
    const policy = parts[1]!;
    if (policy !== '-' && policy !== 'ACCEPT' && policy !== 'DROP') report('iptables-bad-chain', `chain policy must be ACCEPT, DROP or "-", not "${policy}"`, declLine, raw);
    return { policy: policy === '-' ? null : policy, counters: parts[2] === undefined ? null : parseCounters(parts[2]) };
  }

  /** Whether the chain has no declaration or a plain one (`:NAME ACCEPT|DROP|- …`), which readDeclaration would find nothing wrong with: read in place. */
  private isPlainDeclaration(slot: number): boolean {
    const text = this.text;
    const end = this.declEnd[slot]!;
    if (this.declLine[slot] === -1) return true;
    let i = this.declStart[slot]! + 1;
    while (i < end && text.charCodeAt(i) !== 32 && text.charCodeAt(i) !== 9) i++;
    if (i >= end || text.charCodeAt(i) !== 32) return false;
    const from = ++i;
    while (i < end && text.charCodeAt(i) !== 32 && text.charCodeAt(i) !== 9 && !(text.charCodeAt(i) === 13 && i === end - 1)) i++;
    const length = i - from;
    return (length === 1 && text.charCodeAt(from) === 45) || (length === 6 && text.startsWith('ACCEPT', from)) || (length === 4 && text.startsWith('DROP', from));
  }

  /**
   * Calls `visit` with each rule line of the chain in `slot`: its line number, then either (null, null,
   * from, to) for a plain line, the rule being text[from, to) (no string made for it), or (its text
   * without the counters, the counters, -1, -1). A line with malformed counters is reported and left out.
   */
  private eachRuleLine(slot: number, visit: (line: number, body: string | null, counters: Counters | null, from: number, to: number) => void): void {
    const text = this.text;
    for (let run = this.firstRun[slot]!; run !== -1; run = this.runNext[run]!) {
      const end = this.runEnd[run]!;
      let line = this.runLine[run]!;
      for (let pos = this.runStart[run]!; pos < end; line++) {
        let lineEnd = text.indexOf('\n', pos);
        if (lineEnd < 0 || lineEnd > end) lineEnd = end;
        const start = pos;
        pos = lineEnd + 1;
        let to = lineEnd;
        while (to > start && isTrailingBlank(text.charCodeAt(to - 1))) to--;
        if (text.charCodeAt(start) !== 91 /* [ */ && (to === start || text.charCodeAt(to - 1) < 128)) {
          visit(line, null, null, start, to);
          continue;
        }
        let body = text.slice(start, lineEnd).trimEnd();
        let counters: Counters | null = null;
        if (body.charCodeAt(0) === 91 /* [ */) {
          const close = body.indexOf(']');
          counters = parseCounters(body.slice(0, close + 1));
          if (counters === null) {
            this.ruleProblem('iptables-bad-rule', 'bad "[packets:bytes]" counters', line, body);
            continue;
          }
          body = body.slice(close + 1).trimStart();
        }
        visit(line, body, counters, -1, -1);
      }
    }
  }

  private rulesOf(slot: number, name: string): IptablesRule[] {
    const rules: IptablesRule[] = [];
    const text = this.text;
    this.eachRuleLine(slot, (line, body, counters, from, to) => rules.push(new LazyRule(this.name, name, line, body ?? text.slice(from, to), 2, counters, this.ruleProblem, from, text)));
    return rules;
  }

  /**
   * Calls `visit` with the facts of each rule of the chain called `name`, in order, making no rule: as
   * keepFacts kept them when the dump was checked whole, else read from the text (the facts object is
   * reused: a visitor reads it before returning). False when there is no such chain.
   */
  eachFacts(name: string, visit: (facts: RuleFacts) => void): boolean {
    const slot = this.slotOfName(name);
    if (slot === -1) return false;
    const kept = this.kept;
    if (kept === null) {
      this.eachRuleLine(slot, (line, body, _counters, from, to) => this.readFacts(line, body, from, to, visit));
      return true;
    }
    this.eachKeptFacts(kept, slot, visit);
    return true;
  }

  private eachKeptFacts(kept: TextFacts, slot: number, visit: (facts: RuleFacts) => void): void {
    const text = this.text;
    const wholeRows = this.wholeRows;
    for (let run = this.firstRun[slot]!; run !== -1; run = this.runNext[run]!) {
      const first = this.runFirstRow[run]!;
      const end = first + this.runRows[run]!;
      for (let row = first; row < end; row++) {
        const whole = wholeRows.size === 0 ? undefined : wholeRows.get(row);
        if (whole === undefined) visit(kept.at(text, row * FACT_FIELDS, this.rowLine[row]!));
        else if (whole !== null) visit(whole);
      }
    }
  }

  /**
   * eachFacts of the chain `rule` (facts this table kept) jumps to, by the jump resolveJumps resolved:
   * no lookup by name. undefined when the rule is not one of those kept facts.
   */
  eachCalleeFacts(rule: RuleFacts, visit: (facts: RuleFacts) => void): boolean | undefined {
    const kept = this.kept;
    if (kept === null || rule !== kept || this.rowCallee === null) return undefined;
    const slot = this.rowCallee[kept.base / FACT_FIELDS]!;
    if (slot === -1) return false;
    this.eachKeptFacts(kept, slot, visit);
    return true;
  }

  /** Per row, the chain its rule jumps to (-1: none, a built-in target or a missing chain), once resolveJumps ran. */
  private rowCallee: Int32Array | null = null;

  /** The facts of one rule line (as eachRuleLine gives it), read from its text. */
  private readFacts(line: number, body: string | null, from: number, to: number, visit: (facts: RuleFacts) => void): void {
    const source = body ?? this.text;
    const start = body === null ? from : 0;
    const end = body === null ? to : body.length;
    if (this.scanned.scan(source, start, end, 2, line)) visit(this.scanned);
    else visit(new ParsedFacts(readRuleText(source, start, end, 2, line, true, this.ruleProblem), line));
  }

  private readonly scanned = new ScannedFacts();
  /** How many rule lines the table has: the next row. */
  private ruleLines = 0;
  /** The facts keepFacts read, FACT_FIELDS numbers per row (rule line, in the dump's order); null when it did not run. */
  private kept: TextFacts | null = null;
  /** Per row: the line number, and where the line starts in the text. */
  private rowLine = new Int32Array(0);
  private rowStart = new Int32Array(0);
  /** Rows not read in place: their facts read whole, or null for a line that is no rule (bad counters). */
  private readonly wholeRows = new Map<number, RuleFacts | null>();

  /**
   * Reads the facts of the rule line text[start, lineEnd) just added (addRule) and keeps them as numbers,
   * reporting it when it is malformed: one read of each rule for the whole-dump check and for the
   * readers of kube-proxy's chains (eachFacts), with no object made for it.
   */
  keepFacts(start: number, lineEnd: number, line: number): void {
    const row = this.ruleLines - 1;
    if (this.kept === null || (row + 1) * FACT_FIELDS > this.kept.data.length) this.growRows(row + 1);
    const data = this.kept!.data;
    this.rowLine[row] = line;
    this.rowStart[row] = start;
    const text = this.text;
    let to = lineEnd;
    while (to > start && isTrailingBlank(text.charCodeAt(to - 1))) to--;
    let from = start;
    if (text.charCodeAt(start) === 91 /* [ */) {
      const close = text.indexOf(']', start);
      if (parseCounters(text.slice(start, close + 1)) === null) {
        this.ruleProblem('iptables-bad-rule', 'bad "[packets:bytes]" counters', line, text.slice(start, lineEnd).trimEnd());
        this.wholeRows.set(row, null);
        return;
      }
      // readLazily made sure "] -A " follows.
      from = close + 2;
    }
    const base = row * FACT_FIELDS;
    if ((to === from || text.charCodeAt(to - 1) < 128) && scanFacts(text, from, to, 2, data, base)) return;
    // Read whole: a rule scanFacts declines, or one ending in a character String.prototype.trimEnd may take.
    declineFacts(data, base);
    const body = this.bodyOf(row);
    this.wholeRows.set(row, new ParsedFacts(readRuleText(body, 0, body.length, 2, line, true, this.ruleProblem), line));
  }

  private growRows(rows: number): void {
    const size = Math.max(1024, rows * 2);
    const data = new Int32Array(size * FACT_FIELDS);
    const rowLine = new Int32Array(size);
    const rowStart = new Int32Array(size);
    if (this.kept !== null) {
      data.set(this.kept.data);
      rowLine.set(this.rowLine);
      rowStart.set(this.rowStart);
    }
    this.kept = new TextFacts(data);
    this.rowLine = rowLine;
    this.rowStart = rowStart;
  }

  /** The rule in `row` as a rule object holds it: its line without the trailing blanks and the counters. */
  private bodyOf(row: number): string {
    const start = this.rowStart[row]!;
    let lineEnd = this.text.indexOf('\n', start);
    if (lineEnd < 0) lineEnd = this.text.length;
    const body = this.text.slice(start, lineEnd).trimEnd();
    return body.charCodeAt(0) === 91 /* [ */ ? body.slice(body.indexOf(']') + 1).trimStart() : body;
  }

  /** Problems of single rules are reported once: by checkAll when it ran (it reads them all), else when each is first read. */
  private readonly ruleProblem: ProblemReport = (code, message, line, raw) => {
    if (!this.isAllChecked) this.onProblem(code, message, line, raw);
  };

  private isAllChecked = false;

  /**
   * After keepFacts read every rule: resolves every jump to a chain number, without making the rules or
   * their names (a whole-dump check of 200,000 rules then leaves nothing behind for the collector).
   * Reports each malformed declaration, returns the jumps per chain (pairs of rule position and callee
   * chain number, as checkJumps makes them), and reports the jumps to chains the table lacks through
   * `missing`, to come after.
   */
  resolveJumps(missing: ProblemReport): number[][] {
    const count = this.nameStart.length;
    // Every declaration first, as making every chain would report them; no chain object is made.
    for (let slot = 0; slot < count; slot++) if (this.made[slot] === undefined && !this.isPlainDeclaration(slot)) this.readDeclaration(slot, this.onProblem);
    const edges: number[][] = [];
    const text = this.text;
    if (this.kept === null) this.growRows(0);
    const facts = this.kept!;
    const wholeRows = this.wholeRows;
    const rowCallee = new Int32Array(this.ruleLines).fill(-1);
    // The chain jumped to last: kube-proxy's endpoint chains all start with a jump to KUBE-MARK-MASQ.
    let lastStart = -1;
    let lastEnd = -1;
    let lastCallee = -1;
    for (let slot = 0; slot < count; slot++) {
      const out: number[] = [];
      let position = 0;
      for (let run = this.firstRun[slot]!; run !== -1; run = this.runNext[run]!) {
        const first = this.runFirstRow[run]!;
        const end = first + this.runRows[run]!;
        for (let row = first; row < end; row++) {
          const whole = wholeRows.size === 0 ? undefined : wholeRows.get(row);
          if (whole === null) continue;
          const r = position++;
          const f = whole ?? facts.at(text, row * FACT_FIELDS, this.rowLine[row]!);
          let callee: number;
          if (whole === undefined && !facts.isTargetQuoted) {
            // The name compared where it is in the text, no string made.
            const start = facts.targetStart;
            const stop = facts.targetEnd;
            if (start < 0 || isBuiltinTargetAt(text, start, stop)) continue;
            if (lastStart >= 0 && sameRange(text, lastStart, lastEnd, start, stop)) callee = lastCallee;
            else {
              callee = this.findRange(start, stop, hashRange(text, start, stop));
              lastStart = start;
              lastEnd = stop;
              lastCallee = callee;
            }
          } else {
            const name = f.target();
            if (name === null || BUILTIN_TARGETS.has(name)) continue;
            callee = this.slotOfName(name);
          }
          if (callee === -1) {
            missing('iptables-missing-chain', `${f.isGoto() ? 'goto' : 'jump'} to "${f.target()!}", which is neither a chain of table "${this.name}" nor a known target`, f.line, this.bodyOf(row));
            continue;
          }
          out.push(r, callee);
          rowCallee[row] = callee;
        }
      }
      edges.push(out);
    }
    this.rowCallee = rowCallee;
    this.isAllChecked = true;
    return edges;
  }

  get chains(): IptablesChain[] {
    this.all ??= this.nameStart.map((_, slot) => this.chainAt(slot));
    return this.all;
  }

  set chains(chains: IptablesChain[]) {
    this.all = chains;
  }

  toJSON(): IptablesTable {
    return { name: this.name, line: this.line, chains: this.chains, isCommitted: this.isCommitted };
  }
}

/** A chain of a lazily read dump: its rules are made when first asked for. */
class LazyChain implements IptablesChain {
  policy: string | null;
  counters?: Counters;
  private made: IptablesRule[] | null = null;

  constructor(
    readonly name: string,
    readonly isBuiltin: boolean,
    public line: number,
    private readonly make: () => IptablesRule[],
  ) {
    this.policy = isBuiltin ? 'ACCEPT' : null;
  }

  get rules(): IptablesRule[] {
    this.made ??= this.make();
    return this.made;
  }

  set rules(rules: IptablesRule[]) {
    this.made = rules;
  }

  toJSON(): IptablesChain {
    const out: IptablesChain = { name: this.name, isBuiltin: this.isBuiltin, policy: this.policy, line: this.line, rules: this.rules };
    if (this.counters !== undefined) out.counters = this.counters;
    return out;
  }
}

function sameRange(text: string, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let i = 0; i < aEnd - a; i++) if (text.charCodeAt(a + i) !== text.charCodeAt(b + i)) return false;
  return true;
}

/** The family of a lazily read dump, from the first `-s` or `-d` address in its text. */
function familyOfText(text: string): 4 | 6 | null {
  let at = -1;
  for (const needle of [' -s ', ' -d ']) {
    const i = text.indexOf(needle);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  if (at < 0) return null;
  let from = at + 4;
  if (text.startsWith('! ', from)) from += 2;
  let to = from;
  while (to < text.length && text.charCodeAt(to) > 32) to++;
  return V6_HINT.test(text.slice(from, to)) ? 6 : 4;
}

/**
 * Reads the shape of a plain dump (tables, `:CHAIN` declarations, `-A` rules, COMMIT), leaving every
 * rule unparsed. Returns null for anything else (`-I`, `-X`, `-F`, a table given twice, a malformed
 * structure): the full reader then handles and reports it.
 */
function readLazily(text: string, mode: ParseMode, shouldCheckAll: boolean): IptablesDump | null {
  const findings: Finding[] = [];
  const isStrict = mode === 'strict';
  const problem: ProblemReport = (code, message, line, raw) => {
    if (isStrict) throw new IptablesParseError(code, message, line, raw);
    findings.push({ code, severity: 'error', message: `line ${line}: ${message}: ${quote(raw)}`, line });
  };
  const tables: LazyTable[] = [];
  let table: LazyTable | null = null;
  let ruleCount = 0;
  let lastSlot = -1;
  let lastEnd = -2;
  let lastNameStart = 0;
  let lastNameEnd = 0;
  let pos = 0;
  let lineNo = 0;
  const len = text.length;
  while (pos < len) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = len;
    lineNo++;
    const start = pos;
    pos = end + 1;
    const first = text.charCodeAt(start);
    if (first === 45 /* - */ || first === 91 /* [ */) {
      if (table === null || table.isCommitted) return null;
      let at = start;
      if (first === 91) {
        const close = text.indexOf('] ', start);
        if (close < 0 || close > end) return null;
        at = close + 2;
      }
      if (!text.startsWith('-A ', at)) return null;
      const nameStart = at + 3;
      const nameEnd = text.indexOf(' ', nameStart);
      if (nameEnd <= nameStart || nameEnd >= end) return null;
      // Consecutive rules of one chain: the name is compared in place, no lookup.
      const slot = lastSlot !== -1 && lastEnd === start - 1 && sameRange(text, lastNameStart, lastNameEnd, nameStart, nameEnd) ? lastSlot : table.slotOfRange(nameStart, nameEnd);
      table.addRule(slot, start, end, lineNo);
      if (shouldCheckAll) table.keepFacts(start, end, lineNo);
      lastSlot = slot;
      lastEnd = end;
      lastNameStart = nameStart;
      lastNameEnd = nameEnd;
      ruleCount++;
      continue;
    }
    lastSlot = -1;
    if (first === 58 /* : */) {
      if (table === null || table.isCommitted) return null;
      let nameEnd = start + 1;
      while (nameEnd < end && text.charCodeAt(nameEnd) !== 32 && text.charCodeAt(nameEnd) !== 9) nameEnd++;
      if (nameEnd === start + 1 || nameEnd >= end) return null;
      if (!table.declare(table.slotOfRange(start + 1, nameEnd), start, end, lineNo)) return null;
      continue;
    }
    const line = text.slice(start, end).trim();
    if (line === '' || line.charCodeAt(0) === 35 /* # */) continue;
    if (line.charCodeAt(0) === 42 /* * */) {
      const name = line.slice(1);
      if (table !== null && !table.isCommitted) return null;
      if (!(IPTABLES_TABLES as readonly string[]).includes(name) || tables.some((t) => t.name === name)) return null;
      table = new LazyTable(name, lineNo, text, problem);
      tables.push(table);
      continue;
    }
    if (line === 'COMMIT' && table !== null && !table.isCommitted) {
      table.isCommitted = true;
      continue;
    }
    return null;
  }
  if (table !== null && !table.isCommitted) return null;
  if (shouldCheckAll) {
    // Each rule was read as it came (a malformed one reported then); the full reader reports those in
    // line order, then, table by table, the jumps to missing chains and the loops.
    const later: { table: LazyTable; edges: number[][]; missing: [string, string, number, string][] }[] = [];
    for (const t of tables) {
      const missing: [string, string, number, string][] = [];
      later.push({ table: t, edges: t.resolveJumps((...args) => missing.push(args)), missing });
    }
    findings.sort((a, b) => (a.line as number) - (b.line as number));
    for (const { table, edges, missing } of later) {
      for (const args of missing) problem(...args);
      checkLoops(table, edges, problem);
    }
  }
  return { tables, family: familyOfText(text), ruleCount, findings };
}

/** A lazily read table's chains by name: a lookup makes only the chain asked for; a walk over all makes them all. */
class LazyChainIndex extends Map<string, IptablesChain> {
  private isComplete = false;

  constructor(private readonly table: LazyTable) {
    super();
  }

  private complete(): void {
    if (this.isComplete) return;
    this.isComplete = true;
    for (const c of this.table.chains) super.set(c.name, c);
  }

  override get(name: string): IptablesChain | undefined {
    return this.isComplete ? super.get(name) : this.table.chainNamed(name);
  }

  override has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  override get size(): number {
    this.complete();
    return super.size;
  }

  override keys(): MapIterator<string> {
    this.complete();
    return super.keys();
  }

  override values(): MapIterator<IptablesChain> {
    this.complete();
    return super.values();
  }

  override entries(): MapIterator<[string, IptablesChain]> {
    this.complete();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[string, IptablesChain]> {
    return this.entries();
  }

  override forEach(callback: (value: IptablesChain, key: string, map: Map<string, IptablesChain>) => void, thisArg?: unknown): void {
    this.complete();
    super.forEach(callback, thisArg);
  }

  override set(name: string, chain: IptablesChain): this {
    this.complete();
    return super.set(name, chain);
  }

  override delete(name: string): boolean {
    this.complete();
    return super.delete(name);
  }
}

/** Index of a dump's chains by table and name, built once per dump and cached. */
const indexCache = new WeakMap<IptablesDump, Map<string, Map<string, IptablesChain>>>();

export function chainIndexOf(dump: IptablesDump): Map<string, Map<string, IptablesChain>> {
  let index = indexCache.get(dump);
  if (index === undefined) {
    index = new Map(dump.tables.map((t) => [t.name, t instanceof LazyTable ? new LazyChainIndex(t) : new Map(t.chains.map((c) => [c.name, c]))]));
    indexCache.set(dump, index);
  }
  return index;
}

export function findChain(dump: IptablesDump, table: string, chain: string): IptablesChain | undefined {
  return chainIndexOf(dump).get(table)?.get(chain);
}

/**
 * Calls `visit` with the facts of each rule of a chain, in order (see RuleFacts): read in place for a
 * lazily read dump, making no rule; from the rules for any other. False when the table has no such chain.
 * The facts object may be reused from one rule to the next: a visitor reads it before it returns.
 */
export function eachRuleFacts(dump: IptablesDump, table: string, chain: string, visit: (facts: RuleFacts) => void): boolean {
  for (const t of dump.tables) if (t.name === table && t instanceof LazyTable) return t.eachFacts(chain, visit);
  const c = findChain(dump, table, chain);
  if (c === undefined) return false;
  for (const rule of c.rules) visit(new ParsedFacts(rule, rule.line));
  return true;
}

/**
 * eachRuleFacts of the chain `rule` jumps to (a rule of `table` given by eachRuleFacts, read before it
 * returns): by the jump the whole-dump check resolved, when it did, else by the target's name. False
 * when the rule jumps to no chain the table has.
 */
export function eachTargetFacts(dump: IptablesDump, table: string, rule: RuleFacts, visit: (facts: RuleFacts) => void): boolean {
  for (const t of dump.tables) {
    if (t.name !== table || !(t instanceof LazyTable)) continue;
    const followed = t.eachCalleeFacts(rule, visit);
    if (followed !== undefined) return followed;
  }
  const target = rule.target();
  return target !== null && eachRuleFacts(dump, table, target, visit);
}

/** Whether the table has the chain, without making it. */
export function hasChain(dump: IptablesDump, table: string, chain: string): boolean {
  for (const t of dump.tables) if (t.name === table && t instanceof LazyTable) return t.hasChain(chain);
  return findChain(dump, table, chain) !== undefined;
}

/** The option of a module match or target, by name. */
export function optionOf(options: readonly RuleOption[], name: string): RuleOption | undefined {
  for (const o of options) if (o.name === name) return o;
  return undefined;
}
