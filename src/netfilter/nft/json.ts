// Reads `nft -j list ruleset`. Rules are rendered back to nft syntax and parsed by the same rule
// parser as the text form, so that both inputs give one model and the raw text shown in a path
// reads as `nft list ruleset` would print it. Lines are positions of objects in the `nftables` array.
import type { Finding } from '../../model/finding.js';
import { LazyNftChain, NftParseError, type NftChain, type NftElement, type NftFamily, type NftRule, type NftHook, type NftRuleset, type NftTable, type NftVerdict, type ParseNftOptions } from './model.js';
import { buildRule, checkReferences, checkRuleReferences, referenceReporter } from './parse.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class UnknownExpr extends Error {}

export function parseNftJson(text: string, options: ParseNftOptions): NftRuleset {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (err) {
    throw new NftParseError(`not valid JSON: ${(err as Error).message}`, 1);
  }
  const list = isObject(doc) ? doc.nftables : undefined;
  if (!Array.isArray(list)) throw new NftParseError('JSON without an "nftables" array (expected `nft -j list ruleset` output)', 1);
  const tables = new Map<string, NftTable>();
  const findings: Finding[] = [];
  const problem = (index: number, message: string): void => {
    if (options.mode === 'strict') throw new NftParseError(message, index + 1);
    findings.push({ code: 'nft-line-not-understood', severity: 'warning', message: `entry ${index + 1}: ${message}`, line: index + 1 });
  };
  // The table of the previous entry: a dump lists each table's objects together.
  let last: NftTable | null = null;
  const tableOf = (o: JsonObject, index: number): NftTable | null => {
    if (last !== null && o.table === last.name && o.family === last.family) return last;
    const family = str(o.family ?? '');
    const name = str(o.table ?? o.name ?? '');
    const key = `${family} ${name}`;
    let t = tables.get(key);
    if (!t) {
      if (!['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev'].includes(family) || !name) {
        problem(index, `object without a known family and table: ${JSON.stringify(o).slice(0, 200)}`);
        return null;
      }
      t = { family: family as NftFamily, name, line: index + 1, chains: new Map(), sets: new Map() };
      tables.set(key, t);
    }
    last = t;
    return t;
  };
  const isLazy = options.isLazy === true;
  /** A chain as first met (its declaration, or a rule of it): lazily read chains keep their rules' JSON. */
  const newChain = (t: NftTable, name: string, line: number): NftChain =>
    isLazy
      ? new LazyNftChain<JsonObject>(name, line, readRule, (chain, rules) => checkRuleReferences(t, chain, rules, referenceReporter(findings, options)))
      : { name, line, rules: [] };
  list.forEach((entry, index) => {
    if (!isObject(entry)) return problem(index, 'an entry that is not an object');
    // The entry's one key (`table`, `chain`, `rule`…), without an array of keys per entry.
    let kind: string | undefined;
    for (const k in entry) {
      kind = k;
      break;
    }
    const o = kind === undefined ? undefined : entry[kind];
    if (!isObject(o) || kind === 'metainfo') return;
    switch (kind) {
      case 'table': {
        const t = tableOf({ ...o, table: o.name ?? null }, index);
        if (t && typeof o.comment === 'string') t.comment = o.comment;
        return;
      }
      case 'chain': {
        const t = tableOf(o, index);
        if (!t) return;
        const name = str(o.name);
        const chain = t.chains.get(name) ?? newChain(t, name, index + 1);
        if (typeof o.hook === 'string') {
          chain.base = {
            type: typeof o.type === 'string' ? o.type : 'filter',
            hook: o.hook as NftHook,
            priority: typeof o.prio === 'number' ? o.prio : 0,
            policy: o.policy === 'drop' ? 'drop' : 'accept',
          };
        }
        if (typeof o.comment === 'string') chain.comment = o.comment;
        t.chains.set(name, chain);
        return;
      }
      case 'set':
      case 'map': {
        const t = tableOf(o, index);
        if (!t) return;
        const keyTypes = Array.isArray(o.type) ? o.type.map(String) : [str(o.type)];
        const elements: NftElement[] = [];
        for (const e of Array.isArray(o.elem) ? o.elem : []) {
          try {
            elements.push(kind === 'map' && Array.isArray(e) ? mapElement(e) : element(e));
          } catch (err) {
            problem(index, `set ${str(o.name)}: ${(err as Error).message}`);
          }
        }
        t.sets.set(str(o.name), {
          name: str(o.name),
          kind,
          line: index + 1,
          keyTypes,
          ...(typeof o.map === 'string' ? { dataType: o.map } : {}),
          flags: Array.isArray(o.flags) ? o.flags.map(String) : typeof o.flags === 'string' ? [o.flags] : [],
          ...(typeof o.comment === 'string' ? { comment: o.comment } : {}),
          ...(typeof o.timeout === 'number' ? { timeoutSeconds: o.timeout } : {}),
          elements,
        });
        return;
      }
      case 'rule': {
        const t = tableOf(o, index);
        if (!t) return;
        const chainName = str(o.chain);
        let chain = t.chains.get(chainName);
        if (!chain) {
          chain = newChain(t, chainName, index + 1);
          t.chains.set(chainName, chain);
        }
        if (chain instanceof LazyNftChain) (chain as LazyNftChain<JsonObject>).add(o, index + 1, hasSetStatement(o.expr));
        else chain.rules.push(readRule(o, index + 1));
        return;
      }
      default:
        // flowtables, counters, quotas, ct helpers… are not part of what knet simulates.
        return;
    }
  });
  const ruleset: NftRuleset = { format: 'json', tables: [...tables.values()], findings };
  checkReferences(ruleset, options);
  return ruleset;
}

/** Whether a rule's `expr` holds a `set` statement (`update @set { … }`, `add @set { … }`). */
function hasSetStatement(expr: Json | undefined): boolean {
  if (!Array.isArray(expr)) return false;
  for (const x of expr) if (isObject(x) && x.set !== undefined) return true;
  return false;
}

/** A rule object, rendered back to nft syntax and parsed as the text form is. */
function readRule(o: JsonObject, line: number): NftRule {
  const exprs = Array.isArray(o.expr) ? o.expr : [];
  const text = exprs.map(renderStatement).filter(Boolean).join(' ') + (typeof o.comment === 'string' ? ` comment ${JSON.stringify(o.comment)}` : '');
  return buildRule(text, line);
}

/** A new element object each time (callers add to it). */
function element(e: Json): NftElement {
  if (isObject(e) && isObject(e.elem)) {
    const inner = element(e.elem.val ?? null);
    if (typeof e.elem.comment === 'string') inner.comment = e.elem.comment;
    return inner;
  }
  if (isObject(e) && Array.isArray(e.concat)) return { key: e.concat.map(atom) };
  return { key: [atom(e)] };
}

function mapElement(e: Json[]): NftElement {
  const el = element(e[0] ?? null);
  const v = e[1];
  const verdict = isObject(v) ? verdictOf(v) : null;
  if (verdict) el.verdict = verdict;
  else el.data = atom(v ?? null);
  return el;
}

function verdictOf(v: JsonObject): NftVerdict | null {
  for (const k of ['accept', 'drop', 'reject', 'return', 'continue'] as const) if (k in v) return { kind: k };
  for (const k of ['jump', 'goto'] as const) {
    const t = v[k];
    if (isObject(t) && typeof t.target === 'string') return { kind: k, target: t.target };
  }
  return null;
}

function atom(v: Json): string {
  if (typeof v === 'string' || typeof v === 'number') return str(v);
  if (isObject(v) && isObject(v.prefix)) return `${str(v.prefix.addr)}/${str(v.prefix.len)}`;
  if (isObject(v) && Array.isArray(v.range)) return `${atom(v.range[0] ?? null)}-${atom(v.range[1] ?? null)}`;
  throw new UnknownExpr(`value ${JSON.stringify(v).slice(0, 100)} is not understood`);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** An expression as nft prints it; unknown forms render as a word the rule parser reports as not modelled. */
function renderExpr(v: Json | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string' || typeof v === 'number') return str(v);
  if (Array.isArray(v)) return `{ ${v.map(renderExpr).join(', ')} }`;
  if (typeof v === 'boolean') return str(v);
  const [k] = Object.keys(v);
  const x = k === undefined ? undefined : v[k];
  switch (k) {
    case 'payload':
      if (isObject(x)) return `${str(x.protocol)} ${str(x.field)}`;
      break;
    case 'meta':
      if (isObject(x)) return `meta ${str(x.key)}`;
      break;
    case 'ct':
      if (isObject(x)) return `ct ${str(x.key)}`;
      break;
    case 'fib':
      if (isObject(x)) return `fib ${(Array.isArray(x.flags) ? x.flags.map(String) : [str(x.flags)]).join(' . ')} ${str(x.result)}`;
      break;
    case 'concat':
      if (Array.isArray(x)) return x.map(renderExpr).join(' . ');
      break;
    case 'prefix':
    case 'range':
      return atom(v);
    case 'set':
      if (Array.isArray(x)) return `{ ${x.map((e) => (Array.isArray(e) ? `${renderElem(e[0])} : ${renderVerdict(e[1])}` : renderElem(e))).join(', ')} }`;
      return renderExpr(x);
    case 'numgen':
      if (isObject(x)) return `numgen ${str(x.mode)} mod ${str(x.mod)}${x.offset ? ` offset ${str(x.offset)}` : ''}`;
      break;
    case '&':
    case '|':
    case '^':
      if (Array.isArray(x)) return `${renderExpr(x[0])} ${k} ${typeof x[1] === 'number' ? hex(x[1]) : renderExpr(x[1])}`;
      break;
    default:
      break;
  }
  return `json-expression-${k ?? 'empty'}`;
}

function renderElem(e: Json | undefined): string {
  if (isObject(e) && isObject(e.elem)) return `${renderExpr(e.elem.val)}${typeof e.elem.comment === 'string' ? ` comment ${JSON.stringify(e.elem.comment)}` : ''}`;
  return renderExpr(e);
}

function renderVerdict(v: Json | undefined): string {
  if (!isObject(v)) return renderExpr(v);
  const verdict = verdictOf(v);
  if (!verdict) return renderExpr(v);
  return 'target' in verdict ? `${verdict.kind} ${verdict.target}` : verdict.kind;
}

function renderStatement(s: Json): string {
  if (!isObject(s)) return 'json-statement';
  const [k] = Object.keys(s);
  const x = k === undefined ? undefined : s[k];
  switch (k) {
    case 'match': {
      if (!isObject(x)) break;
      const op = x.op === '==' || x.op === 'in' ? '' : `${str(x.op)} `;
      const right = Array.isArray(x.right) ? `{ ${x.right.map(renderExpr).join(', ')} }` : renderExpr(x.right);
      return `${renderExpr(x.left)} ${op}${right}`;
    }
    case 'vmap':
      if (isObject(x)) return `${renderExpr(x.key)} vmap ${renderExpr(x.data)}`;
      break;
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      return k;
    case 'reject':
      return 'reject';
    case 'jump':
    case 'goto':
      if (isObject(x)) return `${k} ${str(x.target)}`;
      break;
    case 'counter':
      return isObject(x) && typeof x.packets === 'number' ? `counter packets ${x.packets} bytes ${str(x.bytes)}` : 'counter';
    case 'mangle':
      if (isObject(x)) return `${renderExpr(x.key)} set ${renderExpr(x.value)}`;
      break;
    case 'dnat':
    case 'snat': {
      if (!isObject(x)) break;
      const addr = x.addr === undefined ? '' : renderExpr(x.addr);
      const target = x.port === undefined ? addr : addr.includes(':') ? `[${addr}]:${str(x.port)}` : `${addr}:${str(x.port)}`;
      return `${k}${typeof x.family === 'string' ? ` ${x.family}` : ''} to ${target}`;
    }
    case 'masquerade':
      return isObject(x) && x.flags ? `masquerade ${Array.isArray(x.flags) ? x.flags.map(String).join(',') : str(x.flags)}` : 'masquerade';
    case 'set':
      if (isObject(x)) return `${str(x.op)} ${str(x.set)} { ${renderExpr(x.elem)} }`;
      break;
    case 'log':
      return 'log';
    case 'xt':
      // iptables-nft rules: `nft -j` names the xtables match or target but not its options.
      if (isObject(x) && x.name === 'comment') return '';
      if (isObject(x)) return `xt ${str(x.type)} ${str(x.name)}`;
      break;
    default:
      break;
  }
  return `json-statement-${k ?? 'empty'}`;
}

/** Scalars as text; anything else as its JSON, so that a malformed dump shows what it held. */
function str(v: Json | undefined): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v ?? null);
}
