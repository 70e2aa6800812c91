// A `kind: List` file read for a few namespaces only: its items are told apart on the raw text, and an
// item is skipped without being parsed only when its text proves that it cannot be an object of a wanted
// namespace nor a cluster-scoped one. Everything else is parsed and then filtered on its real
// metadata.namespace by the caller. A file in a shape this does not understand is not split at all (the
// caller reads it whole), so the worst case is the full read, never a different answer.
//
// Why the text proves it (no item that matters can be skipped):
// - A namespace name is a DNS label ([a-z0-9-]). An item whose metadata.namespace is a wanted name holds
//   that name verbatim in its text, unless an escape spells it: JSON's `\uXXXX` (its other escapes give
//   punctuation only), YAML double-quoted escapes (any `\`), aliases (`*`), tags (`!`). Items holding
//   any of those are never skipped.
// - An object without metadata.namespace is in `default`. When `default` is wanted, an item is skipped
//   only when its text shows a metadata.namespace that is a string (JSON); YAML items are then all read.
// - Cluster-scoped kinds (Node, Namespace, AdminNetworkPolicy, BaselineAdminNetworkPolicy) are named by
//   their `kind` as a word of the text: an item holding one of those words is never skipped.
// - JSON: each item is one line (as `kubectl … | jq -c`, and knet's generators write it); a line is
//   taken as one item only when its braces, outside strings, close exactly at its end.
// - YAML (as `knet snapshot save` writes it): a top-level `items:` sequence whose entries start with
//   `- ` at the sequence's indentation; every other line of an entry is indented deeper.
//
// Items skipped are not checked at all: a corrupt or invalid object in a namespace that is not read is
// not reported (every command that reads that namespace reports it).

/** Kinds that live outside namespaces: an item naming one of these is always read. */
const CLUSTER_SCOPED_KINDS = ['Node', 'Namespace', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy'];

/** A DNS label: the only namespace names the text filter reasons about. */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isScopableNamespace(name: string): boolean {
  return NAMESPACE_NAME.test(name) && name.length <= 63;
}

/** What a split List file is: the items to parse (text, and their index in the List) and what was left out. */
export interface SplitList {
  /** Items that may be wanted: each parsed by the caller, then filtered on its real namespace. */
  kept: { text: string; index: number; line: number; start: number; end: number }[];
  /** [start, end) offsets in the file's text of the items skipped unparsed. */
  skipped: [number, number][];
}

const isWordChar = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** Whether `word` occurs in `item` with no letter or digit right before or after it. */
function hasWord(item: string, word: string): boolean {
  for (let i = item.indexOf(word); i >= 0; i = item.indexOf(word, i + 1)) {
    if ((i === 0 || !isWordChar(item.charCodeAt(i - 1))) && (i + word.length === item.length || !isWordChar(item.charCodeAt(i + word.length)))) return true;
  }
  return false;
}

/** The conditions every format shares: no wanted name, no cluster-scoped kind. */
function mayBeWanted(item: string, namespaces: readonly string[]): boolean {
  for (const ns of namespaces) if (item.includes(ns)) return true;
  for (const kind of CLUSTER_SCOPED_KINDS) if (hasWord(item, kind)) return true;
  return false;
}

/**
 * Whether `text` (which starts with `{` and ends with `}`) is one JSON object whose closing brace is its
 * last character: braces and brackets counted outside strings, strings skipped by their quotes (an
 * escaped quote does not end one).
 */
function isOneJsonObject(text: string): boolean {
  const end = text.length;
  let depth = 0;
  let i = 0;
  while (i < end) {
    const q = text.indexOf('"', i);
    const stop = q < 0 || q >= end ? end : q;
    for (let j = i; j < stop; j++) {
      const c = text.charCodeAt(j);
      if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        depth--;
        if (depth === 0 && j !== end - 1) return false;
        if (depth < 0) return false;
      }
    }
    if (stop === end) break;
    // Inside a string: find its closing quote, one not preceded by an odd number of backslashes.
    let close = q + 1;
    for (;;) {
      close = text.indexOf('"', close);
      if (close < 0 || close >= end) return false;
      let backslashes = 0;
      while (text.charCodeAt(close - 1 - backslashes) === 92) backslashes++;
      if (backslashes % 2 === 0) break;
      close++;
    }
    i = close + 1;
  }
  return depth === 0;
}

/** `{"…":"…",…"metadata":{"name":"…","namespace":"` with string-valued top-level keys before metadata. */
const JSON_METADATA_PREFIX = /^\{(?:"[A-Za-z]+":"[^"\\]*",)*"metadata":\{"name":"[^"\\]*","namespace":"/y;

/**
 * Whether a JSON item provably has a string metadata.namespace: metadata is found where the prefix
 * says, it is the only key or value "metadata" of the text (no duplicate key replaces it), and every
 * key "namespace" has a string value (a later duplicate cannot be something else).
 */
function hasJsonNamespace(text: string): boolean {
  JSON_METADATA_PREFIX.lastIndex = 0;
  if (!JSON_METADATA_PREFIX.test(text)) return false;
  const first = text.indexOf('"metadata"');
  if (text.includes('"metadata"', first + 1)) return false;
  for (let i = text.indexOf('"namespace"'); i >= 0; i = text.indexOf('"namespace"', i + 1)) {
    if (text.charCodeAt(i + 11) !== 58 || text.charCodeAt(i + 12) !== 34) return false;
  }
  return true;
}

/**
 * Splits a JSON `kind: List` written one item per line: `{…"kind":"List"…,"items":[` on the first line,
 * then each item on a line of its own (a comma ends every one but the last), then `]}`. Null when the
 * file is not in that shape.
 */
export function splitJsonList(text: string, namespaces: readonly string[]): SplitList | null {
  const headerEnd = text.indexOf('\n');
  if (headerEnd < 0) return null;
  const header = text.slice(0, headerEnd);
  if (!header.endsWith('"items":[')) return null;
  let head: unknown;
  try {
    head = JSON.parse(`${header}]}`);
  } catch {
    return null;
  }
  // Only a plain List: a typed one (PodList) gives its items their kind, which the text filter cannot see.
  if (typeof head !== 'object' || head === null || (head as { kind?: unknown }).kind !== 'List') return null;
  let bodyEnd = text.length;
  while (bodyEnd > 0 && /\s/.test(text[bodyEnd - 1]!)) bodyEnd--;
  if (text.slice(bodyEnd - 2, bodyEnd) !== ']}') return null;
  bodyEnd -= 2;
  if (text.charCodeAt(bodyEnd - 1) !== 10) return null;
  bodyEnd--;
  const isDefaultWanted = namespaces.includes('default');
  const out: SplitList = { kept: [], skipped: [] };
  let start = headerEnd + 1;
  let index = 0;
  while (start < bodyEnd) {
    let lineEnd = text.indexOf('\n', start);
    if (lineEnd < 0 || lineEnd > bodyEnd) lineEnd = bodyEnd;
    const isLast = lineEnd === bodyEnd;
    let end = lineEnd;
    if (!isLast) {
      if (text.charCodeAt(end - 1) !== 44) return null; // every item but the last ends with a comma
      end--;
    }
    if (text.charCodeAt(start) !== 123 || text.charCodeAt(end - 1) !== 125) return null;
    const item = text.slice(start, end);
    const canSkip = !mayBeWanted(item, namespaces) && !item.includes('\\u') && (!isDefaultWanted || hasJsonNamespace(item)) && isOneJsonObject(item);
    if (canSkip) out.skipped.push([start, end]);
    else out.kept.push({ text: item, index, line: index + 2, start, end });
    index++;
    start = lineEnd + 1;
  }
  return out;
}

/**
 * Splits a YAML `kind: List` as `knet snapshot save` writes it (the yaml package's layout): the List's
 * own keys at column 0, `items:` alone on its line, then entries that start with `- ` at one
 * indentation, each of their other lines blank or indented deeper, until the next line at column 0.
 * Null when the file is not in that shape; `head` and `tail` (the List without its items) are returned
 * for the caller to parse and check (one document, `kind: List`, no second `items`).
 */
export function splitYamlList(text: string, namespaces: readonly string[]): (SplitList & { head: string; tail: string }) | null {
  const itemsAt = text.startsWith('items:\n') ? 0 : text.indexOf('\nitems:\n') + 1;
  if (itemsAt === 0 && !text.startsWith('items:\n')) return null;
  const bodyStart = itemsAt + 'items:\n'.length;
  let indent = 0;
  while (text.charCodeAt(bodyStart + indent) === 32) indent++;
  if (indent === 0 || text.charCodeAt(bodyStart + indent) !== 45 || text.charCodeAt(bodyStart + indent + 1) !== 32) return null;
  const marker = `${' '.repeat(indent)}- `;
  const isDefaultWanted = namespaces.includes('default');
  const out: SplitList = { kept: [], skipped: [] };
  let lineNo = text.slice(0, bodyStart).split('\n').length; // the line of bodyStart, counted from 1
  let index = 0;
  let start = bodyStart;
  let startLine = lineNo;
  const finish = (end: number): void => {
    const item = text.slice(start, end);
    // No double-quoted escapes (\\), aliases (*) or tags (!): each could spell a name the text does not hold.
    const canSkip = !isDefaultWanted && !mayBeWanted(item, namespaces) && !item.includes('\\') && !item.includes('*') && !item.includes('!');
    if (canSkip) out.skipped.push([start, end]);
    else out.kept.push({ text: item, index, line: startLine, start, end });
    index++;
  };
  let pos = bodyStart;
  let tailStart = text.length;
  while (pos < text.length) {
    let lineEnd = text.indexOf('\n', pos);
    if (lineEnd < 0) lineEnd = text.length;
    if (pos !== bodyStart) {
      if (text.startsWith(marker, pos)) {
        finish(pos);
        start = pos;
        startLine = lineNo;
      } else if (pos !== lineEnd) {
        let spaces = 0;
        while (text.charCodeAt(pos + spaces) === 32) spaces++;
        if (spaces === 0) {
          tailStart = pos;
          break;
        }
        // A line inside an entry is blank or indented deeper than its marker; a tab is not this layout.
        if (pos + spaces !== lineEnd && (spaces <= indent || text.charCodeAt(pos + spaces) === 9)) return null;
      }
    }
    lineNo++;
    pos = lineEnd + 1;
  }
  finish(Math.min(tailStart, text.length));
  return { ...out, head: text.slice(0, itemsAt), tail: text.slice(tailStart) };
}
