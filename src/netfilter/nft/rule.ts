// Turns the tokens of one nft rule into statements the simulator understands. Only what
// kube-proxy's nftables mode (and common hand-written base chains) use is modelled; anything else
// becomes an `unsupported` statement naming what it is, so that the simulator can stop there and say so.
import type { NftElement, NftSelector, NftStatement, NftValue, NftVerdict } from './model.js';
import { tokenize, type Token } from './lexer.js';

/** Selectors knet can evaluate on a packet, by their first word(s). */
const PAYLOAD_FIELDS: Record<string, readonly string[]> = {
  ip: ['saddr', 'daddr', 'protocol'],
  ip6: ['saddr', 'daddr', 'nexthdr'],
  th: ['dport', 'sport'],
  tcp: ['dport', 'sport'],
  udp: ['dport', 'sport'],
  sctp: ['dport', 'sport'],
  meta: ['l4proto', 'mark', 'iifname', 'oifname', 'iif', 'oif', 'nfproto', 'protocol'],
  ct: ['state'],
};
/** Short forms nft prints without `meta`. */
const BARE_META = new Set(['mark', 'iifname', 'oifname', 'iif', 'oif', 'l4proto']);
const VERDICT_WORDS = new Set(['accept', 'drop', 'reject', 'return', 'continue', 'jump', 'goto']);
const RELATIONAL = new Set(['==', '!=', '<', '>', '<=', '>=', 'eq', 'ne', 'lt', 'gt', 'le', 'ge']);
const OP_ALIASES: Record<string, '==' | '!=' | '<' | '>' | '<=' | '>='> = { eq: '==', ne: '!=', lt: '<', gt: '>', le: '<=', ge: '>=' };

export interface ParsedRule {
  statements: NftStatement[];
  comment?: string;
}

class Cursor {
  i = 0;
  constructor(
    readonly tokens: Token[],
    readonly text: string,
  ) {}
  peek(k = 0): string | undefined {
    return this.tokens[this.i + k]?.text;
  }
  isQuoted(k = 0): boolean {
    return this.tokens[this.i + k]?.isQuoted === true;
  }
  next(): string {
    const t = this.tokens[this.i++];
    if (!t) throw new RuleSyntaxError('unexpected end of rule');
    return t.text;
  }
  get isDone(): boolean {
    return this.i >= this.tokens.length;
  }
  /** The source text from token `from` to the current position. */
  slice(from: number): string {
    const a = this.tokens[from];
    if (!a) return '';
    const b = this.tokens[this.i];
    return this.text.slice(a.start, b ? b.start : this.text.length).trim();
  }
}

export class RuleSyntaxError extends Error {}

export function parseNftRule(text: string): ParsedRule {
  const cur = new Cursor(tokenize(text), text);
  const statements: NftStatement[] = [];
  let comment: string | undefined;
  while (!cur.isDone) {
    const word = cur.peek()!;
    const from = cur.i;
    if (word === 'comment') {
      cur.next();
      comment = cur.next();
      continue;
    }
    if (word === 'counter') {
      cur.next();
      while (cur.peek() === 'packets' || cur.peek() === 'bytes') {
        cur.next();
        cur.next();
      }
      continue;
    }
    if (VERDICT_WORDS.has(word)) {
      statements.push({ kind: 'verdict', verdict: readVerdict(cur) });
      if (word === 'reject' && cur.peek() === 'with') {
        cur.next();
        // `with icmp type port-unreachable`, `with icmpx admin-prohibited`, `with tcp reset`
        while (!cur.isDone && cur.peek() !== 'comment' && cur.peek() !== 'counter') cur.next();
      }
      continue;
    }
    if (word === 'dnat') {
      cur.next();
      if (cur.peek() === 'ip' || cur.peek() === 'ip6') cur.next();
      if (cur.next() !== 'to') throw new RuleSyntaxError('expected `to` after dnat');
      const target = cur.next();
      if (cur.peek() === 'map' || target === 'ip' || target === 'ip6' || target === 'numgen') {
        statements.push(skipRest(cur, from, 'dnat to a map or expression is not modelled'));
        continue;
      }
      const { address, port } = splitHostPort(target);
      while (cur.peek() === 'fully-random' || cur.peek() === 'random' || cur.peek() === 'persistent') cur.next();
      statements.push({ kind: 'dnat', address, ...(port === undefined ? {} : { port }), text: cur.slice(from) });
      continue;
    }
    if (word === 'masquerade' || word === 'snat') {
      cur.next();
      if (word === 'snat') {
        if (cur.peek() === 'ip' || cur.peek() === 'ip6') cur.next();
        if (cur.peek() === 'to') {
          cur.next();
          cur.next();
        }
      } else if (cur.peek() === 'to') {
        cur.next();
        cur.next();
      }
      while (cur.peek() === 'fully-random' || cur.peek() === 'random' || cur.peek() === 'persistent') cur.next();
      statements.push(word === 'snat' ? { kind: 'snat', text: cur.slice(from) } : { kind: 'masquerade', text: cur.slice(from) });
      continue;
    }
    if (word === 'log') {
      cur.next();
      while (['prefix', 'level', 'flags', 'group', 'snaplen', 'queue-threshold'].includes(cur.peek() ?? '')) {
        cur.next();
        cur.next();
      }
      statements.push({ kind: 'noop', text: cur.slice(from) });
      continue;
    }
    if ((word === 'update' || word === 'add') && cur.peek(1)?.startsWith('@')) {
      cur.next();
      const set = cur.next().slice(1);
      readBraced(cur);
      statements.push({ kind: 'set-update', set, text: cur.slice(from) });
      continue;
    }
    if (word === 'numgen') {
      statements.push(readNumgen(cur, from));
      continue;
    }
    if (word === 'xt') {
      const name = `${cur.peek(1) ?? ''} ${cur.peek(2) ?? ''}`.trim();
      statements.push(skipRest(cur, from, `\`xt ${name}\` (an iptables-nft extension) is not modelled: nft -j output does not carry its options; read iptables-save or nft list ruleset instead`));
      continue;
    }
    if (word === 'meta' && cur.peek(1) === 'random') {
      statements.push(readRandom(cur, from));
      continue;
    }
    if (word === 'meta' && cur.peek(1) === 'nftrace') {
      cur.next();
      cur.next();
      cur.next(); // set
      cur.next(); // 1
      statements.push({ kind: 'noop', text: cur.slice(from) });
      continue;
    }
    if ((word === 'meta' && cur.peek(1) === 'mark' && cur.peek(2) === 'set') || (word === 'mark' && cur.peek(1) === 'set')) {
      statements.push(readMarkSet(cur, from));
      continue;
    }
    const selectors = readSelectors(cur);
    if (!selectors) {
      const what = PAYLOAD_FIELDS[word] || word === 'fib' ? `${word} ${cur.peek(1) ?? ''}`.trim() : word;
      statements.push(skipRest(cur, from, `\`${what}\` is not modelled`));
      continue;
    }
    statements.push(readMatchOrVmap(cur, selectors, from));
  }
  return comment === undefined ? { statements } : { statements, comment };
}

function skipRest(cur: Cursor, from: number, reason: string): NftStatement {
  while (!cur.isDone && cur.peek() !== 'comment') cur.next();
  return { kind: 'unsupported', text: cur.slice(from), reason };
}

function readVerdict(cur: { next(): string }): NftVerdict {
  const w = cur.next();
  if (w === 'jump' || w === 'goto') return { kind: w, target: cur.next() };
  return { kind: w as 'accept' | 'drop' | 'reject' | 'return' | 'continue' };
}

export function splitHostPort(target: string): { address: string; port?: number } {
  if (target.startsWith('[')) {
    const close = target.indexOf(']');
    const address = target.slice(1, close);
    const rest = target.slice(close + 1);
    return rest.startsWith(':') ? { address, port: Number(rest.slice(1)) } : { address };
  }
  const colons = target.split(':').length - 1;
  if (colons === 1) {
    const [address, port] = target.split(':') as [string, string];
    return { address, port: Number(port) };
  }
  return { address: target };
}

/** `mark set mark or 0x4000`, `meta mark set meta mark | 0x00004000`, `meta mark set 0x4000`. */
function readMarkSet(cur: Cursor, from: number): NftStatement {
  if (cur.peek() === 'meta') cur.next();
  cur.next(); // mark
  cur.next(); // set
  const first = cur.next();
  if (first === 'meta' || first === 'mark') {
    if (first === 'meta') cur.next();
    const op = cur.next();
    const value = parseNumber(cur.next());
    const ops: Record<string, 'or' | 'xor' | 'and'> = { or: 'or', '|': 'or', xor: 'xor', '^': 'xor', and: 'and', '&': 'and' };
    const kind = ops[op];
    if (!kind || value === null) return skipRest(cur, from, `mark expression \`${op}\` is not modelled`);
    return { kind: 'mark-set', op: kind, value, text: cur.slice(from) };
  }
  const value = parseNumber(first);
  if (value === null) return skipRest(cur, from, 'mark set to a non-constant is not modelled');
  return { kind: 'mark-set', op: 'set', value, text: cur.slice(from) };
}

/** `meta random & 2147483647 < 1073741824` (iptables-nft's `-m statistic --mode random --probability 0.5`). */
function readRandom(cur: Cursor, from: number): NftStatement {
  cur.next(); // meta
  cur.next(); // random
  let mask = 0xffffffff;
  if (cur.peek() === '&' || cur.peek() === 'and') {
    cur.next();
    mask = parseNumber(cur.next()) ?? NaN;
  }
  const op = cur.next();
  const threshold = parseNumber(cur.next()) ?? NaN;
  const range = mask + 1;
  const below = op === '<' || op === 'lt' ? threshold : op === '<=' || op === 'le' ? threshold + 1 : NaN;
  const above = op === '>' || op === 'gt' ? range - threshold - 1 : op === '>=' || op === 'ge' ? range - threshold : NaN;
  const probability = (Number.isNaN(below) ? above : below) / range;
  if (!Number.isFinite(probability) || probability < 0 || probability > 1) return skipRest(cur, from, 'this `meta random` comparison is not modelled');
  return { kind: 'random', probability, text: cur.slice(from) };
}

function readNumgen(cur: Cursor, from: number): NftStatement {
  cur.next(); // numgen
  const mode = cur.next();
  if (cur.next() !== 'mod') throw new RuleSyntaxError('expected `mod` after numgen mode');
  const mod = Number(cur.next());
  let offset = 0;
  if (cur.peek() === 'offset') {
    cur.next();
    offset = Number(cur.next());
  }
  if (mode !== 'random' && mode !== 'inc') return skipRest(cur, from, `numgen ${mode} is not modelled`);
  if (cur.peek() !== 'vmap') return skipRest(cur, from, 'numgen outside a verdict map is not modelled');
  cur.next();
  if (!Number.isInteger(mod) || mod < 1 || mod > 65536 || !Number.isInteger(offset)) {
    throw new RuleSyntaxError(`numgen modulus ${mod} is not a usable number`);
  }
  return { kind: 'numgen', mod, offset, elements: readElements(cur) };
}

/** Reads `ip daddr . meta l4proto . th dport`; null when the first word is not a known selector. */
function readSelectors(cur: Cursor): NftSelector[] | null {
  const out: NftSelector[] = [];
  for (;;) {
    const sel = readSelector(cur);
    if (!sel) return out.length === 0 ? null : out;
    out.push(sel);
    if (cur.peek() !== '.') return out;
    cur.next();
  }
}

function readSelector(cur: Cursor): NftSelector | null {
  const w = cur.peek();
  if (w === undefined) return null;
  if (w === 'fib') {
    // fib saddr type / fib daddr type / fib daddr . iif type
    const save = cur.i;
    cur.next();
    const parts: string[] = [];
    while (cur.peek() === 'saddr' || cur.peek() === 'daddr' || cur.peek() === 'iif' || cur.peek() === 'oif' || cur.peek() === 'mark' || cur.peek() === '.') {
      const p = cur.next();
      if (p !== '.') parts.push(p);
    }
    const result = cur.peek();
    if (result !== 'type' || parts.length === 0) {
      cur.i = save;
      return null;
    }
    cur.next();
    const addr = parts.find((p) => p === 'saddr' || p === 'daddr');
    if (!addr) {
      cur.i = save;
      return null;
    }
    return { name: `fib ${addr} type` };
  }
  if (BARE_META.has(w) && !(PAYLOAD_FIELDS[w] ?? []).length) {
    cur.next();
    return withMask(cur, { name: `meta ${w}` });
  }
  const fields = PAYLOAD_FIELDS[w];
  const field = cur.peek(1);
  if (!fields || field === undefined || !fields.includes(field)) return null;
  cur.next();
  cur.next();
  let name = `${w} ${field}`;
  if (name === 'ip6 nexthdr' || name === 'ip protocol') name = 'meta l4proto';
  return withMask(cur, { name });
}

function withMask(cur: Cursor, sel: NftSelector): NftSelector {
  if (cur.peek() === '&' || cur.peek() === 'and') {
    cur.next();
    const mask = parseNumber(cur.next());
    if (mask === null) throw new RuleSyntaxError('expected a number after `&`');
    return { ...sel, mask };
  }
  return sel;
}

function readMatchOrVmap(cur: Cursor, left: NftSelector[], from: number): NftStatement {
  let op: '==' | '!=' | '<' | '>' | '<=' | '>=' = '==';
  const w = cur.peek();
  if (w === 'vmap') {
    cur.next();
    if (cur.peek()?.startsWith('@')) return { kind: 'vmap', left, map: { kind: 'set-ref', name: cur.next().slice(1) } };
    return { kind: 'vmap', left, map: { kind: 'inline', elements: readElements(cur) } };
  }
  if (w === 'map') return skipRest(cur, from, 'data maps in a match are not modelled');
  if (w !== undefined && RELATIONAL.has(w)) {
    cur.next();
    op = OP_ALIASES[w] ?? (w as typeof op);
  }
  const right = readValue(cur, left.length);
  return { kind: 'match', left, op, right };
}

/** A right-hand side: `@set`, `{ a, b . c }`, or one value (a comma list for flag types such as ct state). */
function readValue(cur: Cursor, arity: number): NftValue {
  const w = cur.peek();
  if (w === undefined) throw new RuleSyntaxError('expected a value');
  if (w.startsWith('@')) {
    cur.next();
    return { kind: 'set-ref', name: w.slice(1) };
  }
  if (w === '{') return { kind: 'atoms', atoms: readElements(cur).map((e) => e.key) };
  const atoms: string[][] = [readKey(cur, arity)];
  while (cur.peek() === ',' && arity === 1) {
    cur.next();
    atoms.push(readKey(cur, 1));
  }
  return { kind: 'atoms', atoms };
}

function readKey(cur: Cursor, arity: number): string[] {
  const key = [cur.next()];
  for (let k = 1; k < arity && cur.peek() === '.'; k++) {
    cur.next();
    key.push(cur.next());
  }
  return key;
}

function readBraced(cur: Cursor): void {
  if (cur.peek() !== '{') return;
  let depth = 0;
  do {
    const t = cur.next();
    if (t === '{') depth++;
    else if (t === '}') depth--;
  } while (depth > 0);
}

/** `{ k [. k]* [comment "x"] [timeout …] [: verdict|data] , … }` as printed by nft and written by knftables. */
export function readElements(cur: { peek(k?: number): string | undefined; next(): string }): NftElement[] {
  if (cur.next() !== '{') throw new RuleSyntaxError('expected `{`');
  const out: NftElement[] = [];
  while (cur.peek() !== '}') {
    if (cur.peek() === undefined) throw new RuleSyntaxError('unterminated `{`');
    if (cur.peek() === ',') {
      cur.next();
      continue;
    }
    const key = [cur.next()];
    while (cur.peek() === '.') {
      cur.next();
      key.push(cur.next());
    }
    const el: NftElement = { key };
    while (['comment', 'timeout', 'expires', 'counter', 'packets', 'bytes'].includes(cur.peek() ?? '')) {
      const w = cur.next();
      if (w === 'counter') continue;
      const v = cur.next();
      if (w === 'comment') el.comment = v;
    }
    if (cur.peek() === ':') {
      cur.next();
      const v = cur.peek();
      if (v !== undefined && VERDICT_WORDS.has(v)) el.verdict = readVerdict(cur);
      else el.data = cur.next();
    }
    out.push(el);
  }
  cur.next();
  return out;
}

export function parseNumber(text: string): number | null {
  if (/^0x[0-9a-f]+$/i.test(text)) return parseInt(text, 16);
  if (/^\d+$/.test(text)) return Number(text);
  return null;
}
