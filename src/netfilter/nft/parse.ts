// Reads the text forms of an nftables ruleset, line by line:
// - `nft list ruleset` output: nested `table … { chain … { rule } set … { elements = { … } } }`;
// - an `nft -f` script of commands (`add table/chain/rule/set/map/element …`, `insert rule`, `flush …`),
//   which is what kube-proxy's knftables feeds the kernel and what its unit tests assert.
// Both can mix in one file, as `nft -f` accepts.
import type { Finding } from '../../model/finding.js';
import { braceDepth, tokenize, type Token } from './lexer.js';
import {
  LazyNftChain,
  NftParseError,
  type NftBaseChain,
  type NftChain,
  type NftFamily,
  type NftHook,
  type NftRule,
  type NftRuleset,
  type NftSet,
  type NftTable,
  type NftVerdict,
  type ParseNftOptions,
} from './model.js';
import { parseNftRule, readElements, RuleSyntaxError } from './rule.js';

const FAMILIES = new Set<NftFamily>(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);
const HOOKS = new Set<NftHook>(['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress', 'egress']);
/** Named priorities of the ip/ip6/inet families (nft(8), "PRIORITY"). */
const PRIORITY_NAMES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
/** Longest line knet reads; longer ones are hostile or broken, and reported rather than tokenized. */
const MAX_LINE = 1_000_000;

interface Frame {
  kind: 'table' | 'chain' | 'set' | 'skip';
  table?: NftTable;
  chain?: NftChain;
  set?: NftSet;
}

class TextParser {
  readonly tables = new Map<string, NftTable>();
  readonly findings: Finding[] = [];
  private readonly stack: Frame[] = [];

  constructor(private readonly options: ParseNftOptions) {}

  /** What a lazily read chain reports when its rules are read: the chains and sets they refer to. */
  private readonly onRead = (table: NftTable) => (chain: NftChain, rules: NftRule[]) => checkRuleReferences(table, chain, rules, referenceReporter(this.findings, this.options));

  problem(line: number, message: string, raw: string): void {
    if (this.options.mode === 'strict') throw new NftParseError(`${message}: ${clip(raw)}`, line);
    this.findings.push({ code: 'nft-line-not-understood', severity: 'warning', message: `line ${line}: ${message}`, line, text: clip(raw) });
  }

  table(family: string, name: string, line: number): NftTable {
    const key = `${family} ${name}`;
    let t = this.tables.get(key);
    if (!t) {
      if (!FAMILIES.has(family as NftFamily)) throw new RuleSyntaxError(`unknown family "${family}"`);
      t = { family: family as NftFamily, name, line, chains: new Map(), sets: new Map() };
      this.tables.set(key, t);
    }
    return t;
  }

  chain(table: NftTable, name: string, line: number): NftChain {
    let c = table.chains.get(name);
    if (!c) {
      c = this.options.isLazy === true ? new LazyNftChain(name, line, buildRule, this.onRead(table)) : { name, line, rules: [] };
      table.chains.set(name, c);
    }
    return c;
  }

  /** Appends a rule to a chain: as written to a lazily read chain, parsed to any other. */
  private append(chain: NftChain, raw: string, line: number): void {
    if (chain instanceof LazyNftChain) (chain as LazyNftChain<string>).add(raw, line, mayUpdateSet(raw));
    else chain.rules.push(buildRule(raw, line));
  }

  parse(text: string): void {
    let pending = '';
    let pendingLine = 0;
    // The open braces of `pending`, counted line by line as it grows: counting over the whole gathered
    // text at every line made a 10,000-element map quadratic (a minute for one kube-proxy dump).
    let pendingDepth = 0;
    let lineNo = 0;
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end);
      start = end + 1;
      lineNo++;
      if (line.length > MAX_LINE) {
        this.problem(lineNo, `line is ${line.length} characters long`, line);
        continue;
      }
      if (pending) {
        pending += '\n' + line;
        pendingDepth += braceDepth(line);
        if (pendingDepth > 0) continue;
        this.statement(pending, pendingLine);
        pending = '';
        continue;
      }
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith('#')) continue;
      // A set's `elements = { … }` and a command's `{ … }` may span lines: gather until braces close,
      // but a block opener (`table x {`, `chain y {`) is a statement of its own.
      const depth = braceDepth(trimmed);
      if (depth > 0 && (!/\{\s*(#.*)?$/.test(trimmed) || /^elements\b/.test(trimmed))) {
        pending = trimmed;
        pendingLine = lineNo;
        pendingDepth = depth;
        continue;
      }
      if (depth > 0 && /^(add|create|insert|replace)\s/.test(trimmed)) {
        pending = trimmed;
        pendingLine = lineNo;
        pendingDepth = depth;
        continue;
      }
      this.statement(trimmed, lineNo);
    }
    if (pending) this.problem(pendingLine, 'unterminated `{`', pending);
    if (this.stack.length > 0) this.problem(lineNo, 'the input ends inside a block (missing `}`)', '');
  }

  private statement(text: string, line: number): void {
    try {
      this.statementOrThrow(text, line);
    } catch (err) {
      if (err instanceof NftParseError) throw err;
      if (err instanceof RuleSyntaxError) this.problem(line, err.message, text);
      else throw err;
    }
  }

  private statementOrThrow(text: string, line: number): void {
    const top = this.stack[this.stack.length - 1];
    // Fast paths for the bulk of a big ruleset (rules), so that each rule is tokenized once, by the rule parser.
    if (top?.kind === 'chain' && !/^(type|policy|comment|\})[\s;]/.test(text) && text !== '}') {
      this.inChainRule(top.chain!, text, line);
      return;
    }
    if (!top && (text.startsWith('add rule ') || text.startsWith('insert rule '))) {
      const w = text.split(' ', 7);
      if (w.length >= 6 && w.slice(1, 6).every(Boolean) && !['position', 'index', 'handle'].includes(w[5]!)) {
        const table = this.table(w[2]!, w[3]!, line);
        const c = table.chains.get(w[4]!);
        if (!c) throw new RuleSyntaxError(`rule for chain "${w[4]!}", which was not added before`);
        const raw = text.slice(w.slice(0, 5).join(' ').length + 1);
        if (w[0] === 'insert') c.rules.unshift(buildRule(raw, line));
        else this.append(c, raw, line);
        return;
      }
    }
    const tokens = tokenize(text);
    const first = tokens[0]?.text;
    if (first === undefined) return;
    if (first === '}') {
      if (!top) throw new RuleSyntaxError('`}` without an open block');
      this.stack.pop();
      if (tokens.length > 1) this.statementOrThrow(text.slice(tokens[1]!.start), line);
      return;
    }
    if (top?.kind === 'skip') {
      if (text.trimEnd().endsWith('{')) this.stack.push({ kind: 'skip' });
      return;
    }
    if (!top) return this.topLevel(tokens, text, line);
    if (top.kind === 'table') return this.inTable(top.table!, tokens, text, line);
    if (top.kind === 'chain') return this.inChain(top.chain!, tokens, text, line);
    if (top.kind === 'set') return this.inSet(top.set!, tokens, line);
  }

  private topLevel(tokens: Token[], text: string, line: number): void {
    const w = tokens.map((t) => t.text);
    if (w[0] === 'table') {
      const t = this.table(w[1] ?? '', w[2] ?? '', line);
      if (w[3] === '{') this.stack.push({ kind: 'table', table: t });
      return;
    }
    const verb = w[0]!;
    if (verb === 'flush' && w[1] === 'ruleset') {
      this.tables.clear();
      return;
    }
    if (!['add', 'create', 'insert', 'replace', 'flush', 'delete', 'destroy'].includes(verb)) {
      throw new RuleSyntaxError(`"${verb}" is not an nft command or block`);
    }
    const object = w[1];
    if (object === 'table') {
      const t = this.table(w[2] ?? '', w[3] ?? '', line);
      if (verb === 'flush' || verb === 'delete' || verb === 'destroy') {
        t.chains.clear();
        t.sets.clear();
        if (verb !== 'flush') this.tables.delete(`${t.family} ${t.name}`);
      } else {
        const c = optionValue(w, 'comment');
        if (c !== undefined) t.comment = c;
      }
      return;
    }
    if (object === 'element' && verb === 'delete') {
      this.problem(line, 'deleting set elements is not modelled', text);
      return;
    }
    const table = this.table(w[2] ?? '', w[3] ?? '', line);
    const name = w[4];
    if (!name) throw new RuleSyntaxError(`${verb} ${object ?? ''}: missing a name`);
    switch (object) {
      case 'chain': {
        if (verb === 'delete' || verb === 'destroy') {
          table.chains.delete(name);
          return;
        }
        const c = this.chain(table, name, line);
        if (verb === 'flush') c.rules = [];
        else this.chainOptions(c, w.slice(5), text);
        return;
      }
      case 'rule': {
        if (verb === 'delete' || verb === 'destroy' || verb === 'replace') {
          this.problem(line, `${verb} rule by handle is not modelled`, text);
          return;
        }
        const c = table.chains.get(name);
        if (!c) throw new RuleSyntaxError(`rule for chain "${name}", which was not added before`);
        // `add rule … CHAIN [position|index|handle N] STATEMENTS`
        let at = 5;
        if (['position', 'index', 'handle'].includes(w[5] ?? '')) at = 7;
        const rest = tokens[at] ? text.slice(tokens[at]!.start) : '';
        if (verb === 'insert') c.rules.unshift(buildRule(rest, line));
        else this.append(c, rest, line);
        return;
      }
      case 'set':
      case 'map': {
        if (verb === 'delete' || verb === 'destroy') {
          table.sets.delete(name);
          return;
        }
        let s = table.sets.get(name);
        if (!s) {
          s = { name, kind: object, line, keyTypes: [], flags: [], elements: [] };
          table.sets.set(name, s);
        }
        if (verb === 'flush') s.elements = [];
        else if (tokens[5]?.text === '{') this.setOptions(s, text.slice(tokens[5].start + 1, text.lastIndexOf('}')), line);
        return;
      }
      case 'element': {
        const s = table.sets.get(name);
        if (!s) throw new RuleSyntaxError(`element for set "${name}", which was not added before`);
        s.elements.push(...readElementsFrom(tokens.slice(5)));
        return;
      }
      default:
        throw new RuleSyntaxError(`${verb} ${object ?? ''} is not modelled`);
    }
  }

  private inTable(table: NftTable, tokens: Token[], text: string, line: number): void {
    const w = tokens.map((t) => t.text);
    const kind = w[0];
    if ((kind === 'chain' || kind === 'set' || kind === 'map') && w[1] !== undefined) {
      if (kind === 'chain') this.stack.push({ kind: 'chain', chain: this.chain(table, w[1], line) });
      else {
        const s: NftSet = { name: w[1], kind, line, keyTypes: [], flags: [], elements: [] };
        table.sets.set(w[1], s);
        this.stack.push({ kind: 'set', set: s });
      }
      return;
    }
    if (kind === 'comment') {
      table.comment = w[1];
      return;
    }
    // flowtables, counters, quotas, ct helpers, secmarks: not what kube-proxy uses.
    if (text.trimEnd().endsWith('{')) {
      this.stack.push({ kind: 'skip' });
      this.problem(line, `table ${table.family} ${table.name}: \`${kind ?? ''}\` blocks are not modelled`, text);
      return;
    }
    throw new RuleSyntaxError(`unexpected \`${kind ?? ''}\` in table ${table.family} ${table.name}`);
  }

  private inChain(chain: NftChain, tokens: Token[], text: string, line: number): void {
    const first = tokens[0]!.text;
    if (first === 'type' && tokens.some((t) => t.text === 'hook')) {
      this.chainOptions(chain, tokens.map((t) => t.text), text);
      return;
    }
    if (first === 'policy') {
      const p = tokens[1]?.text;
      if (chain.base && (p === 'accept' || p === 'drop')) chain.base.policy = p;
      return;
    }
    if (first === 'comment' && tokens.length === 2) {
      chain.comment = tokens[1]!.text;
      return;
    }
    this.inChainRule(chain, text, line);
  }

  private inChainRule(chain: NftChain, text: string, line: number): void {
    // `nft -a` appends `# handle N`; the tokenizer drops it as a comment, and so does the raw text.
    const raw = text.includes('# handle') ? text.replace(/\s+# handle \d+\s*$/, '') : text;
    this.append(chain, raw, line);
  }

  private inSet(set: NftSet, tokens: Token[], line: number): void {
    const w = tokens.map((t) => t.text);
    if (w[0] === 'elements' && w[1] === '=') {
      set.elements.push(...readElementsFrom(tokens.slice(2)));
      return;
    }
    this.setOption(set, w, line);
  }

  /** `{ type filter hook prerouting priority -110 ; policy accept ; comment "…" ; }` or the bare words. */
  private chainOptions(chain: NftChain, w: string[], text: string): void {
    const words = w.filter((x) => x !== '{' && x !== '}');
    const hookAt = words.indexOf('hook');
    const typeAt = words.indexOf('type');
    const comment = optionValue(words, 'comment');
    if (comment !== undefined) chain.comment = comment;
    if (hookAt < 0) return;
    const hook = words[hookAt + 1] as NftHook;
    if (!HOOKS.has(hook)) throw new RuleSyntaxError(`unknown hook "${hook}"`);
    const prAt = words.indexOf('priority');
    const prWords: string[] = [];
    for (let i = prAt + 1; prAt >= 0 && i < words.length && words[i] !== ';' && words[i] !== 'policy'; i++) prWords.push(words[i]!);
    const priority = parsePriority(prWords);
    if (priority === null) throw new RuleSyntaxError(`priority "${prWords.join(' ')}" is not understood in: ${clip(text)}`);
    const policy = words[words.indexOf('policy') + 1];
    const base: NftBaseChain = {
      type: typeAt >= 0 ? (words[typeAt + 1] ?? 'filter') : 'filter',
      hook,
      priority,
      policy: policy === 'drop' ? 'drop' : 'accept',
    };
    chain.base = base;
  }

  private setOptions(set: NftSet, body: string, line: number): void {
    // `type a . b : verdict ; flags x,y ; timeout 10800s ; comment "…" ; elements = { … } ;`
    let depth = 0;
    let part = '';
    const parts: string[] = [];
    for (const ch of body) {
      if (ch === '{') depth++;
      if (ch === '}') depth--;
      if (ch === ';' && depth === 0) {
        parts.push(part);
        part = '';
      } else part += ch;
    }
    parts.push(part);
    for (const p of parts) {
      const tokens = tokenize(p);
      if (tokens.length === 0) continue;
      if (tokens[0]!.text === 'elements') set.elements.push(...readElementsFrom(tokens.slice(2)));
      else this.setOption(set, tokens.map((t) => t.text), line);
    }
  }

  private setOption(set: NftSet, w: string[], _line: number): void {
    const words = w.filter((x) => x !== ';');
    switch (words[0]) {
      case 'type':
      case 'typeof': {
        const colon = words.indexOf(':');
        const key = colon >= 0 ? words.slice(1, colon) : words.slice(1);
        set.keyTypes = key.filter((x) => x !== '.');
        if (colon >= 0) set.dataType = words[colon + 1];
        return;
      }
      case 'flags':
        set.flags = words.slice(1).filter((x) => x !== ',');
        return;
      case 'comment':
        set.comment = words[1];
        return;
      case 'timeout': {
        const seconds = parseNftDuration(words[1] ?? '');
        if (seconds !== null) set.timeoutSeconds = seconds;
        return;
      }
      case 'size':
      case 'policy':
      case 'gc-interval':
      case 'counter':
      case 'auto-merge':
        return;
      default:
        throw new RuleSyntaxError(`set ${set.name}: \`${words[0] ?? ''}\` is not understood`);
    }
  }
}

function readElementsFrom(tokens: Token[]): NftSet['elements'] {
  let i = 0;
  return readElements({
    peek: (k = 0) => tokens[i + k]?.text,
    next: () => {
      const t = tokens[i++];
      if (!t) throw new RuleSyntaxError('unexpected end of elements');
      return t.text;
    },
  });
}

function optionValue(words: string[], key: string): string | undefined {
  const at = words.indexOf(key);
  return at >= 0 ? words[at + 1] : undefined;
}

/** `-110`, `filter`, `dstnat - 10`, `srcnat + 5`. */
export function parsePriority(words: string[]): number | null {
  if (words.length === 0) return 0;
  const base = /^-?\d+$/.test(words[0]!) ? Number(words[0]) : PRIORITY_NAMES[words[0]!];
  if (base === undefined) return null;
  if (words.length === 1) return base;
  const n = Number(words[2]);
  if ((words[1] === '+' || words[1] === '-') && Number.isFinite(n)) return words[1] === '+' ? base + n : base - n;
  // nft also prints `dstnat -10` in some versions.
  const glued = Number(words[1]);
  return Number.isFinite(glued) ? base + glued : null;
}

/**
 * Whether a rule as written may add to or update a named set (`update @set { ip saddr }`): a cheap look
 * at the text that never misses one (it may say yes to a rule that does not).
 */
export function mayUpdateSet(raw: string): boolean {
  return raw.includes('@') && /\b(update|add)\s+@/.test(raw);
}

export function buildRule(raw: string, line: number): NftRule {
  const text = raw.trim();
  try {
    const parsed = parseNftRule(text);
    return { raw: text, line, ...parsed };
  } catch (err) {
    if (!(err instanceof RuleSyntaxError)) throw err;
    // A rule knet cannot read still takes its place in the chain: reaching it is a not-modelled outcome.
    return { raw: text, line, statements: [{ kind: 'unsupported', text, reason: err.message }] };
  }
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}… (${s.length} characters)` : s;
}

export function parseNftText(text: string, options: ParseNftOptions): NftRuleset {
  const p = new TextParser(options);
  p.parse(text);
  const ruleset: NftRuleset = { format: 'text', tables: [...p.tables.values()], findings: p.findings };
  checkReferences(ruleset, options);
  return ruleset;
}

type ReferenceReport = (line: number, message: string, code: 'nft-missing-chain' | 'nft-missing-set') => void;

/** A reference problem: thrown in strict mode, a finding appended to `findings` otherwise. */
export function referenceReporter(findings: Finding[], options: ParseNftOptions): ReferenceReport {
  return (line, message, code) => {
    if (options.mode === 'strict') throw new NftParseError(message, line);
    findings.push({ code, severity: 'warning', message: `line ${line}: ${message}`, line });
  };
}

/**
 * Jumps to chains and lookups of sets that do not exist: an error in strict mode, a finding otherwise.
 * In a lazily read ruleset, the rules of a chain are checked when they are read.
 */
export function checkReferences(ruleset: NftRuleset, options: ParseNftOptions): void {
  const problem = referenceReporter(ruleset.findings, options);
  for (const t of ruleset.tables) {
    for (const c of t.chains.values()) if (!(c instanceof LazyNftChain)) checkRuleReferences(t, c, c.rules, problem);
    for (const s of t.sets.values()) {
      for (const e of s.elements) {
        if (e.verdict && 'target' in e.verdict && !t.chains.has(e.verdict.target)) {
          problem(s.line, `map ${s.name} sends ${e.key.join(' . ')} to "${e.verdict.target}", which does not exist in table ${t.family} ${t.name}`, 'nft-missing-chain');
        }
      }
    }
  }
}

/** The jumps and set lookups of some rules of chain `c` that lead nowhere in table `t`. */
export function checkRuleReferences(t: NftTable, c: NftChain, rules: readonly NftRule[], problem: ReferenceReport): void {
  const checkVerdict = (v: NftVerdict | undefined, line: number): void => {
    if (v && 'target' in v && !t.chains.has(v.target)) problem(line, `chain ${c.name} jumps to "${v.target}", which does not exist in table ${t.family} ${t.name}`, 'nft-missing-chain');
  };
  const checkSet = (name: string, line: number): void => {
    if (!t.sets.has(name)) problem(line, `chain ${c.name} looks up @${name}, which does not exist in table ${t.family} ${t.name}`, 'nft-missing-set');
  };
  for (const r of rules) {
    for (const s of r.statements) {
      if (s.kind === 'verdict') checkVerdict(s.verdict, r.line);
      else if (s.kind === 'numgen') for (const e of s.elements) checkVerdict(e.verdict, r.line);
      else if (s.kind === 'vmap') {
        if (s.map.kind === 'set-ref') checkSet(s.map.name, r.line);
        else for (const e of s.map.elements) checkVerdict(e.verdict, r.line);
      } else if (s.kind === 'match' && s.right.kind === 'set-ref') checkSet(s.right.name, r.line);
    }
  }
}

/** An nft duration, `10800s` as knftables writes it or `3h` / `1d2h3m4s` as `nft list` prints it, in seconds. */
export function parseNftDuration(text: string): number | null {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (m === null || text === '') return null;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}
