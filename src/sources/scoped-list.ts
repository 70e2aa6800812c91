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
//   their `kind`: a JSON item with a string that is exactly one of those, a YAML item with one of those
//   as a word, is never skipped.
// - JSON: each item is one line (as `kubectl … | jq -c`, and knet's generators write it); a line is
//   taken as one item only when its braces, outside strings, close exactly at its end (otherwise an
//   object inside an array written over several lines could pass for an item).
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
  /** The offsets of the items skipped unparsed, in order, flat: start, end, start, end… (end excluded). */
  skipped: number[];
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

/** Whether bytes [start, end) are exactly `word` (ASCII). */
function bytesEqual(bytes: Uint8Array, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (bytes[start + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** Whether bytes [start, end) are a cluster-scoped kind. (No closure here: the scan's loop must not capture its index.) */
function isClusterScopedKind(bytes: Uint8Array, start: number, end: number): boolean {
  for (const kind of CLUSTER_SCOPED_KINDS) if (bytesEqual(bytes, start, end, kind)) return true;
  return false;
}

/** `{"…":"…",…"metadata":{"name":"…","namespace":"` with string-valued top-level keys before metadata. */
const JSON_METADATA_PREFIX = /^\{(?:"[A-Za-z]+":"[^"\\]*",)*"metadata":\{"name":"[^"\\]*","namespace":"/;

/**
 * Whether a JSON item provably has a string metadata.namespace: metadata is found where the prefix
 * says, it is the only key or value "metadata" of the text (no duplicate key replaces it), and every
 * key "namespace" has a string value (a later duplicate cannot be something else).
 */
function hasJsonNamespace(text: string): boolean {
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
 * file is not in that shape. Works on the file's bytes (UTF-8, after any byte order mark; no byte of a
 * multi-byte character is ASCII): the offsets are byte offsets, and only kept items are decoded. One
 * pass over the bytes, and no object per line (a 40 MB file has 70,000 of them).
 */
export function splitJsonList(bytes: Buffer, namespaces: readonly string[]): SplitList | null {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const headerEnd = bytes.indexOf(10, bom);
  if (headerEnd < 0) return null;
  const header = bytes.toString('utf8', bom, headerEnd);
  if (!header.endsWith('"items":[')) return null;
  let head: unknown;
  try {
    head = JSON.parse(`${header}]}`);
  } catch {
    return null;
  }
  // Only a plain List: a typed one (PodList) gives its items their kind, which the text filter cannot see.
  if (typeof head !== 'object' || head === null || (head as { kind?: unknown }).kind !== 'List') return null;
  let to = bytes.length;
  while (to > 0 && (bytes[to - 1] === 32 || bytes[to - 1] === 10 || bytes[to - 1] === 13 || bytes[to - 1] === 9)) to--;
  if (bytes[to - 2] !== 93 || bytes[to - 1] !== 125 || bytes[to - 3] !== 10) return null;
  to -= 3; // the newline before `]}`
  // Where a wanted name occurs: each searched over the whole file at once, natively.
  const hits: number[] = [];
  for (const ns of namespaces) for (let at = bytes.indexOf(ns, headerEnd); at >= 0; at = bytes.indexOf(ns, at + 1)) hits.push(at);
  hits.sort((a, b) => a - b);
  let hit = 0;
  const isDefaultWanted = namespaces.includes('default');
  const out: SplitList = { kept: [], skipped: [] };
  let index = 0;
  let i = headerEnd + 1;
  while (i < to) {
    if (bytes[i] !== 123) return null;
    let depth = 0;
    let firstClose = -1;
    let isSuspect = false;
    let j = i;
    for (; j < to; j++) {
      const c = bytes[j]!;
      if (c === 34) {
        // A string: to its closing quote, one that no backslash escapes.
        let k = j + 1;
        for (;;) {
          if (k >= to) return null;
          const d = bytes[k]!;
          if (d === 34) break;
          if (d === 10) return null;
          if (d === 92) {
            if (bytes[k + 1] === 117) isSuspect = true; // \uXXXX could spell anything
            k += 2;
          } else k++;
        }
        // A kind of cluster-scoped objects, as a whole string (no escape but \u spells a letter).
        const first = bytes[j + 1];
        if ((first === 78 || first === 65 || first === 66) && isClusterScopedKind(bytes, j + 1, k)) isSuspect = true;
        j = k;
      } else if (c === 10) break;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        depth--;
        if (depth === 0 && firstClose < 0) firstClose = j;
        if (depth < 0) firstClose = -2;
      }
    }
    // j: the newline that ends the line (`to` ends the last one).
    let end = j;
    if (j !== to) {
      if (bytes[end - 1] !== 44) return null; // every item but the last ends with a comma
      end--;
    }
    if (bytes[end - 1] !== 125) return null;
    while (hit < hits.length && hits[hit]! < i) hit++;
    const isNamed = hit < hits.length && hits[hit]! < j;
    // One object: its braces and brackets, outside strings, close first at its last byte.
    const isOneObject = depth === 0 && firstClose === end - 1;
    const canSkip = isOneObject && !isSuspect && !isNamed && (!isDefaultWanted || hasJsonNamespace(bytes.toString('latin1', i, end)));
    if (canSkip) out.skipped.push(i, end);
    else out.kept.push({ text: bytes.toString('utf8', i, end), index, line: index + 2, start: i, end });
    index++;
    i = j + 1;
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
    if (canSkip) out.skipped.push(start, end);
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
