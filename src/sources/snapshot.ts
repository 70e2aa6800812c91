import { createReadStream, readSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { LineCounter, parseAllDocuments, isMap, isSeq, type Node as YamlNode } from 'yaml';
import { emptyCluster, type Cluster, type ClusterMeta, type ProxyMode } from '../model/cluster.js';
import type { KnownKind, KnownObject } from '../model/k8s.js';
import { KnetError, inputError } from '../model/errors.js';
import { editDistance } from '../model/text.js';
import type { PartialRead } from '../model/scope.js';
import { passesShape, type ObjectOrigin } from '../model/validate.js';
import { decodeInput, fileErrorReason, isMissingFile, readInputBytes, readInputFile } from './files.js';
import { NODE_STATE_FILES, type NodeStateKind, type NodeStateSource } from './node-state.js';
import { isScopableNamespace, splitJsonList, splitYamlList, type SplitList } from './scoped-list.js';
import { parseYamlFast } from './yaml-fast.js';

export const SNAPSHOT_META_FILE = 'knet-snapshot.yaml';

/** Alias uses followed per YAML document; kubectl never writes aliases, a "billion laughs" document needs thousands. */
const MAX_ALIAS_COUNT = 1000;

/** Kinds that live in a namespace: an object without one is in `default`, as kubectl apply would put it. */
const namespacedKinds = new Set<KnownKind>(['Pod', 'Service', 'Endpoints', 'EndpointSlice', 'NetworkPolicy', 'ConfigMap']);

const collections: Record<KnownKind, keyof Omit<Cluster, 'meta'>> = {
  Pod: 'pods',
  Service: 'services',
  Endpoints: 'endpoints',
  EndpointSlice: 'endpointSlices',
  NetworkPolicy: 'networkPolicies',
  AdminNetworkPolicy: 'adminNetworkPolicies',
  BaselineAdminNetworkPolicy: 'baselineAdminNetworkPolicies',
  Namespace: 'namespaces',
  Node: 'nodes',
  ConfigMap: 'configMaps',
};

/** Where an object came from, for messages that name the file and line. */
interface Origin {
  file: string;
  line?: number;
  what: string;
  /** The line of a field of this object, by its path, where the file has lines (YAML). */
  lineOf?: (path: readonly (string | number)[]) => number | undefined;
}

export interface Snapshot {
  root: string;
  cluster: Cluster;
  /** Where each object came from (file, and the line of a field where the file has lines), for validation messages. */
  originOf: (obj: object) => ObjectOrigin;
  nodeState: NodeStateSource;
  /** Files read, relative to root. */
  files: string[];
  /** Objects of kinds knet does not read, by kind: reported, not fatal. */
  skipped: Record<string, number>;
  /** Set when only some namespaces were read (`loadSnapshot`'s `namespaces`) and something was left out. */
  partial?: PartialRead;
  /**
   * Set when every object was checked against its shape as it was parsed: the ones that may have
   * problems, for validateCluster's `only` (the others pass).
   */
  unchecked?: ReadonlySet<object>;
}

function malformed(origin: Origin, problem: string): Error {
  const where = origin.line ? `${origin.file}:${origin.line}` : origin.file;
  return inputError(`${where}: ${origin.what} ${problem}`, 'snapshot-malformed', [
    'Fix or remove that object; a snapshot holds Kubernetes objects as `kubectl get -o yaml|json` prints them.',
  ]);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The known kind an unknown one is a typo of (`service`, `Services`, `Endpoint`), if it is one. */
function kindTypo(kind: string): string | undefined {
  const lower = kind.toLowerCase();
  for (const known of Object.keys(collections)) {
    const k = known.toLowerCase();
    if (k === lower || editDistance(k, lower) <= 1) return known;
  }
  return undefined;
}

class Collector {
  readonly cluster = emptyCluster();
  readonly skipped: Record<string, number> = {};
  /** Unknown kinds that look like a typo of a known one: where each was first seen. */
  readonly typos: { kind: string; near: string; origin: Origin }[] = [];
  /**
   * Every document read, to find where an object came from. Only a message asks (validation names at
   * most a few objects), so nothing is recorded per object: 100,000 objects cost no map entries.
   */
  private readonly documents: { value: unknown; origin: Origin; items?: unknown[]; itemOrigin: (index: number) => Origin }[] = [];
  /** kind → namespace → name → index in its list. */
  private readonly seen = new Map<string, Map<string, Map<string, number>>>();
  /** The kind, collection, namespace and map by name of the object added last. */
  private last: { kind: string; collection: keyof Omit<Cluster, 'meta'>; ns: string; byName: Map<string, number> } | undefined;

  /** Where `obj` was read from (a linear search: for messages only). */
  originOf(obj: object): Origin | undefined {
    for (const d of this.documents) {
      if (d.value === obj) return d.origin;
      const i = d.items?.indexOf(obj) ?? -1;
      if (i >= 0) return d.itemOrigin(i);
    }
    return undefined;
  }

  add(value: unknown, originOf: () => Origin, kindFromList?: string): void {
    if (!isRecord(value)) throw malformed(originOf(), `is not an object (found ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value})`);
    const kind = typeof value.kind === 'string' ? value.kind : kindFromList;
    if (!kind) throw malformed(originOf(), 'has no "kind"');
    // Objects of one kind and namespace come together: what was looked up for the last one is kept.
    const last = this.last;
    const isSameKind = last !== undefined && last.kind === kind;
    const collection = isSameKind ? last.collection : (collections[kind as KnownKind] as keyof Omit<Cluster, 'meta'> | undefined);
    if (!collection) {
      if (!this.skipped[kind]) {
        const near = kindTypo(kind);
        if (near) this.typos.push({ kind, near, origin: originOf() });
      }
      this.skipped[kind] = (this.skipped[kind] ?? 0) + 1;
      return;
    }
    const metadata = value.metadata;
    if (!isRecord(metadata) || typeof metadata.name !== 'string' || metadata.name === '') {
      throw malformed(originOf(), `(${kind}) has no metadata.name`);
    }
    if (value.spec !== undefined && value.spec !== null && !isRecord(value.spec)) {
      throw malformed(originOf(), `(${kind} ${metadata.name}) has a spec that is not an object`);
    }
    if (typeof metadata.namespace !== 'string' && namespacedKinds.has(kind as KnownKind)) metadata.namespace = 'default';
    if (value.kind !== kind) value.kind = kind;
    const list = this.cluster[collection] as KnownObject[];
    const ns = (metadata.namespace as string | undefined) ?? '';
    let byName: Map<string, number> | undefined = isSameKind && last.ns === ns ? last.byName : undefined;
    if (!byName) {
      // Nested maps on the strings the parser made (their hashes are cached), not a key string built per object.
      let byNamespace = this.seen.get(kind);
      if (!byNamespace) this.seen.set(kind, (byNamespace = new Map<string, Map<string, number>>()));
      byName = byNamespace.get(ns);
      if (!byName) byNamespace.set(ns, (byName = new Map<string, number>()));
      this.last = { kind, collection, ns, byName };
    }
    const at = byName.get(metadata.name);
    // The same object in two files (or twice in one List): the later one wins, as kubectl apply would.
    if (at === undefined) {
      byName.set(metadata.name, list.length);
      list.push(value as unknown as KnownObject);
    } else {
      list[at] = value as unknown as KnownObject;
    }
  }

  /** Items of one List read on their own (a scoped read): `items[i]` was item `indexes[i]` of the List. */
  addItems(items: unknown[], itemOrigin: (index: number) => Origin): void {
    this.documents.push({ value: items, origin: itemOrigin(0), items, itemOrigin });
    for (let i = 0; i < items.length; i++) this.add(items[i], () => itemOrigin(i));
  }

  addDocument(value: unknown, origin: Origin, itemOrigin: (index: number) => Origin): void {
    if (value === null || value === undefined) return; // an empty YAML document
    // No depth scan here: validation (src/model/validate.ts) bounds the depth of every object it
    // passes to the engines, in the same walk that checks the fields' shapes.
    if (isRecord(value) && Array.isArray(value.items) && typeof value.kind === 'string' && value.kind.endsWith('List')) {
      // `kind: List` from kubectl, or a typed list (PodList) straight from the API whose items carry no kind.
      const itemKind = value.kind === 'List' ? undefined : value.kind.slice(0, -'List'.length);
      const items = value.items as unknown[];
      this.documents.push({ value, origin, items, itemOrigin });
      for (let i = 0; i < items.length; i++) this.add(items[i], () => itemOrigin(i), itemKind);
      return;
    }
    this.documents.push({ value, origin, itemOrigin });
    this.add(value, () => origin);
  }
}

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string, isTop: boolean): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw inputError(`cannot read the snapshot directory ${dir}: ${fileErrorReason(err)}`, 'snapshot-unreadable', ['Check the path and its permissions.']);
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        // nodes/<node>/ holds command output, not objects; hidden folders are never ours.
        if ((isTop && entry.name === 'nodes') || entry.name.startsWith('.')) continue;
        await walk(path, false);
      } else if (/\.(ya?ml|json)$/i.test(entry.name) && !(isTop && entry.name === SNAPSHOT_META_FILE)) {
        // Symbolic links are followed to files only (a link to a directory could loop); a FIFO, socket
        // or device named *.yaml is refused by readInputFile, never waited on.
        if (entry.isSymbolicLink()) {
          const target = await stat(path).catch(() => null);
          if (target?.isDirectory()) continue;
        }
        out.push(path);
      }
    }
  }
  await walk(root, true);
  return out;
}

function jsonErrorLine(text: string, err: Error): number | undefined {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return undefined;
  const pos = Number(m[1]);
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Flow brackets nested deeper than this are refused before parsing: the YAML parser's time grows fast with depth. */
const MAX_BRACKET_DEPTH = 1000;

/**
 * The line where `{`/`[` nesting first passes MAX_BRACKET_DEPTH, or null. Quotes are not tracked:
 * brackets inside strings only make the count larger, and no real object comes near the limit.
 */
function bracketTooDeep(text: string): number | null {
  // From bracket to bracket (a regular expression finds them natively: block YAML has few), lines
  // counted only for the message.
  const brackets = /[[\]{}]/g;
  let depth = 0;
  for (let m = brackets.exec(text); m !== null; m = brackets.exec(text)) {
    const c = text.charCodeAt(m.index);
    if (c === 123 || c === 91) {
      if (++depth > MAX_BRACKET_DEPTH) return lineAt(text, m.index);
    } else if (depth > 0) depth--;
  }
  return null;
}

/** The 1-based line of position `at` in `text`. */
function lineAt(text: string, at: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function refuseDeep(text: string, file: string): void {
  const line = bracketTooDeep(text);
  if (line !== null) {
    throw inputError(`${file}:${line}: nested more than ${MAX_BRACKET_DEPTH} levels deep; no Kubernetes object is`, 'snapshot-malformed', ['Fix or remove that file.']);
  }
}

/**
 * Lines of a one-item-per-line List parsed by one JSON.parse. A call per line has its own cost: on the
 * lean 10,000-Service snapshot, parsing and checking the 70,000 items took 0.92 s a line at a time and
 * 0.79 s 64 lines at a time (median of 11, in one process). 64 lines, about 40 KB of items, are still in
 * the CPU's cache when their shapes are checked.
 */
const LINES_PER_PARSE = 64;

const isJsonSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;

/**
 * A JSON List written one item per line (`{…"items":[` on the first line, then one item per line, each
 * but the last ending with a comma, then `]}`: as `kubectl get -o json | jq -c` and knet's generators
 * write it), parsed a few lines at a time so that each item is checked against its shape (passesShape)
 * at once, while it is still in the CPU's cache; a whole-file parse leaves 70,000 objects to be walked
 * again cold. The value is the one JSON.parse of the whole text gives: each group of lines, without
 * its last comma, parses on its own as the elements of an array, so none opens what another closes, and
 * the List's items are the groups' elements in order. `unsure`: the items not shown to pass. Null when
 * the text is not in that shape or a group does not parse on its own: the caller parses the text whole.
 */
function parseJsonListByLine(text: string): { value: Record<string, unknown>; unsure: unknown[] } | null {
  const headerEnd = text.indexOf('\n');
  if (headerEnd < 0 || !text.startsWith('"items":[', headerEnd - '"items":['.length)) return null;
  let list: unknown;
  try {
    list = JSON.parse(`${text.slice(0, headerEnd)}]}`);
  } catch {
    return null;
  }
  if (!isRecord(list) || typeof list.kind !== 'string' || !list.kind.endsWith('List') || !Array.isArray(list.items) || list.items.length !== 0) return null;
  const itemKind = list.kind === 'List' ? undefined : list.kind.slice(0, -'List'.length);
  // `]}` on a line of its own, then only whitespace; the items end at the newline before it.
  let end = text.length;
  while (end > 0 && isJsonSpace(text.charCodeAt(end - 1))) end--;
  if (end < headerEnd + 3 || text.charCodeAt(end - 1) !== 125 || text.charCodeAt(end - 2) !== 93 || text.charCodeAt(end - 3) !== 10) return null;
  const bodyEnd = end - 3;
  const items: unknown[] = [];
  const unsure: unknown[] = [];
  for (let start = headerEnd + 1; start < bodyEnd; ) {
    // The group's lines: each but the List's last ends with a comma.
    let groupEnd = start;
    let next = start;
    for (let n = 0; n < LINES_PER_PARSE && next < bodyEnd; n++) {
      let lineEnd = text.indexOf('\n', next);
      if (lineEnd < 0 || lineEnd > bodyEnd) lineEnd = bodyEnd;
      if (lineEnd !== bodyEnd && text.charCodeAt(lineEnd - 1) !== 44) return null;
      groupEnd = lineEnd;
      next = lineEnd + 1;
    }
    let group: unknown;
    try {
      group = JSON.parse(`[${text.slice(start, groupEnd === bodyEnd ? groupEnd : groupEnd - 1)}]`);
    } catch {
      return null;
    }
    for (const item of group as unknown[]) {
      if (!passesShape(item, isRecord(item) && typeof item.kind === 'string' ? item.kind : itemKind)) unsure.push(item);
      items.push(item);
    }
    start = next;
  }
  list.items = items;
  return { value: list, unsure };
}

/** Reads a JSON file into `into`; returns the objects not shown to pass validation, or null when none was checked. */
function loadJson(text: string, file: string, into: Collector): unknown[] | null {
  const byLine = parseJsonListByLine(text);
  if (byLine) {
    into.addDocument(byLine.value, { file, what: 'the document' }, (i) => ({ file, what: `item ${i} of the List` }));
    return byLine.unsure;
  }
  // No bracket pre-scan here, unlike YAML: V8 parses JSON without recursion, and the parsed
  // document's depth is checked (tooDeep) before anything recursive reads it.
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const line = jsonErrorLine(text, err as Error);
    throw inputError(
      `${file}${line ? `:${line}` : ''}: not valid JSON: ${(err as Error).message}`,
      'snapshot-malformed',
      ['Fix the file, or export it again with `kubectl get … -o json`.'],
    );
  }
  // JSON carries no positions per item; name the item by index.
  into.addDocument(value, { file, what: 'the document' }, (i) => ({ file, what: `item ${i} of the List` }));
  return null;
}

/** A document of a YAML file read: its value, and where it and each item of a List in it are. */
interface ReadDocument {
  value: unknown;
  origin: Origin;
  itemOrigin: (index: number) => Origin;
}

function loadYaml(text: string, file: string, into: Collector): void {
  refuseDeep(text, file);
  const values = parseYamlFast(text);
  if (values === null) {
    for (const doc of readYamlDocuments(text, file)) into.addDocument(doc.value, doc.origin, doc.itemOrigin);
    return;
  }
  // Lines are for messages only: the yaml package reads the text again, once, if one is asked for.
  let read: ReadDocument[] | undefined;
  const documentAt = (d: number): ReadDocument => (read ??= [...readYamlDocuments(text, file)])[d]!;
  values.forEach((value, d) => {
    const what = values.length > 1 ? `document ${d + 1}` : 'the document';
    into.addDocument(value, lazyOrigin(file, what, () => documentAt(d).origin), (i) => lazyOrigin(file, `item ${i} of the List`, () => documentAt(d).itemOrigin(i)));
  });
}

/** An origin whose line is found when a message asks for it. */
function lazyOrigin(file: string, what: string, real: () => Origin): Origin {
  return {
    file,
    what,
    get line(): number | undefined {
      return real().line;
    },
    lineOf: (path) => {
      const origin = real();
      return origin.lineOf ? origin.lineOf(path) : origin.line;
    },
  };
}

/**
 * The documents of a YAML file as the yaml package reads them, with the line of every node, one at a
 * time (an object is checked before a later document's error is found); an error is exit 2.
 */
function* readYamlDocuments(text: string, file: string): Generator<ReadDocument> {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: false });
  const asArray = Array.isArray(docs) ? docs : [docs];
  for (const [d, doc] of asArray.entries()) {
    const problem = doc.errors[0];
    if (problem) {
      const line = problem.linePos?.[0].line;
      throw inputError(
        `${file}${line ? `:${line}` : ''}: not valid YAML: ${problem.message.split('\n')[0]}`,
        'snapshot-malformed',
        ['Fix the file, or export it again with `kubectl get … -o yaml`.'],
      );
    }
    const lineOf = (node: unknown): number | undefined => {
      const range = (node as YamlNode | null | undefined)?.range;
      return range ? lineCounter.linePos(range[0]).line : undefined;
    };
    const contents = doc.contents;
    const itemsNode = isMap(contents) ? contents.get('items', true) : undefined;
    const what = asArray.length > 1 ? `document ${d + 1}` : 'the document';
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // The yaml package refuses documents whose aliases expand past the limit (a "billion laughs").
      throw inputError(`${file}${lineOf(contents) ? `:${lineOf(contents)}` : ''}: ${what} expands its YAML aliases too far (${(err as Error).message.split('\n')[0]})`, 'snapshot-malformed', [
        `knet follows at most ${MAX_ALIAS_COUNT} alias uses per document; write the object out without aliases (kubectl never writes them).`,
      ]);
    }
    yield {
      value,
      origin: { file, line: lineOf(contents), what, lineOf: fieldLineIn(contents, lineOf) },
      itemOrigin: (i: number): Origin => {
        const item: unknown = isSeq(itemsNode) ? itemsNode.items[i] : undefined;
        return { file, line: lineOf(item), what: `item ${i} of the List`, lineOf: fieldLineIn(item, lineOf) };
      },
    };
  }
}

/** What a scoped read left out: the texts of the items, by their offsets in each file's text. */
class LeftOut {
  /** A file's text, or its bytes (offsets are then byte offsets); ranges flat and in order: start, end… */
  private readonly files: { text: string | Buffer; ranges: readonly number[] }[] = [];
  count = 0;

  add(text: string | Buffer, ranges: readonly number[]): void {
    if (ranges.length === 0) return;
    this.files.push({ text, ranges });
    this.count += ranges.length / 2;
  }

  mentions(needle: string): boolean {
    if (needle === '') return this.count > 0;
    for (const { text, ranges } of this.files) {
      for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
        // The last range that starts at or before `at`: does it hold the whole occurrence?
        let lo = 0;
        let hi = ranges.length / 2 - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (ranges[2 * mid]! <= at) lo = mid;
          else hi = mid - 1;
        }
        if (ranges[2 * lo]! <= at && at + needle.length <= ranges[2 * lo + 1]!) return true;
      }
    }
    return false;
  }
}

/** The namespaced known kind and namespace of a parsed item, or null when it is anything else. */
function namespaceOfItem(value: unknown): string | null {
  if (!isRecord(value) || typeof value.kind !== 'string' || !namespacedKinds.has(value.kind as KnownKind)) return null;
  const metadata = value.metadata;
  if (!isRecord(metadata)) return null;
  return typeof metadata.namespace === 'string' ? metadata.namespace : 'default';
}

/**
 * Adds the kept items of a split List whose parsed object is wanted (cluster-scoped, of a wanted
 * namespace, or anything `Collector.add` must judge); the others join what was left out.
 */
function addSplit(split: SplitList, values: unknown[], text: string | Buffer, wanted: ReadonlySet<string>, into: Collector, leftOut: LeftOut, origin: (item: SplitList['kept'][number], value: unknown) => Origin): void {
  const items: unknown[] = [];
  const origins: Origin[] = [];
  const dropped: number[] = [];
  split.kept.forEach((item, i) => {
    const value = values[i];
    const ns = namespaceOfItem(value);
    if (ns !== null && !wanted.has(ns)) {
      dropped.push(item.start, item.end);
      return;
    }
    items.push(value);
    origins.push(origin(item, value));
  });
  into.addItems(items, (i) => origins[i]!);
  leftOut.add(text, split.skipped);
  leftOut.add(text, dropped);
}

/** A JSON List read, from its bytes, for some namespaces only; false when the file is not in a shape that allows it. */
function loadJsonScoped(bytes: Buffer, file: string, into: Collector, wanted: ReadonlySet<string>, leftOut: LeftOut): boolean {
  const split = splitJsonList(bytes, [...wanted]);
  if (!split || split.skipped.length === 0) return false;
  const values = split.kept.map((item) => {
    try {
      return JSON.parse(item.text) as unknown;
    } catch (err) {
      throw inputError(`${file}:${item.line}: not valid JSON: ${(err as Error).message}`, 'snapshot-malformed', ['Fix the file, or export it again with `kubectl get … -o json`.']);
    }
  });
  addSplit(split, values, bytes, wanted, into, leftOut, (item) => ({ file, what: `item ${item.index} of the List` }));
  return true;
}

/** A YAML List (as `knet snapshot save` writes it) read for some namespaces only; false when the file is not in that shape. */
function loadYamlScoped(text: string, file: string, into: Collector, wanted: ReadonlySet<string>, leftOut: LeftOut): boolean {
  const split = splitYamlList(text, [...wanted]);
  if (!split || split.skipped.length === 0) return false;
  // The List without its items: one document, `kind: List`, one `items` key, nothing an item could refer to.
  if (/^(%|---|\.\.\.)|[&*!]/m.test(split.head + split.tail)) return false;
  const docs = parseAllDocuments(`${split.head}items: []\n${split.tail}`, { uniqueKeys: true });
  const list = Array.isArray(docs) && docs.length === 1 && docs[0]!.errors.length === 0 ? (docs[0]!.toJS() as unknown) : null;
  if (!isRecord(list) || list.kind !== 'List' || !Array.isArray(list.items) || list.items.length !== 0) return false;
  const lines = new Map<unknown, (path: readonly (string | number)[]) => number | undefined>();
  const values = split.kept.map((item) => {
    refuseDeep(item.text, file);
    const fast = parseYamlFast(item.text);
    if (fast !== null && fast.length === 1 && Array.isArray(fast[0]) && fast[0].length === 1) {
      // Read by the fast reader; the package reads the item again only if a message asks for a line.
      const value: unknown = fast[0][0];
      if (typeof value === 'object' && value !== null) {
        let lineOf: ((path: readonly (string | number)[]) => number | undefined) | undefined;
        lines.set(value, (path) => (lineOf ??= itemLines(item, file).lineOf)(path));
      }
      return value;
    }
    const read = itemLines(item, file);
    if (typeof read.value === 'object' && read.value !== null) lines.set(read.value, read.lineOf);
    return read.value;
  });
  addSplit(split, values, text, wanted, into, leftOut, (item, value) => {
    const lineOf = lines.get(value);
    return { file, line: item.line, what: `item ${item.index} of the List`, ...(lineOf ? { lineOf } : {}) };
  });
  return true;
}

/** One item of a List (a one-item sequence) read by the yaml package: its value, and the line of a field in the file; its error is exit 2. */
function itemLines(item: { text: string; line: number; index: number }, file: string): { value: unknown; lineOf: (path: readonly (string | number)[]) => number | undefined } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(item.text, { lineCounter, uniqueKeys: false });
  const doc = Array.isArray(parsed) && parsed.length === 1 ? parsed[0]! : null;
  const problem = doc ? doc.errors[0] : undefined;
  if (!doc || problem || !isSeq(doc.contents) || doc.contents.items.length !== 1) {
    const line = problem?.linePos?.[0].line;
    throw inputError(`${file}:${item.line + (line ?? 1) - 1}: not valid YAML: ${problem?.message.split('\n')[0] ?? 'not one item of the List'}`, 'snapshot-malformed', ['Fix the file, or export it again with `kubectl get … -o yaml`.']);
  }
  let value: unknown;
  try {
    value = (doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown[])[0];
  } catch (err) {
    throw inputError(`${file}:${item.line}: item ${item.index} of the List expands its YAML aliases too far (${(err as Error).message.split('\n')[0]})`, 'snapshot-malformed');
  }
  const node: unknown = doc.contents.items[0];
  const lineOf = (n: unknown): number | undefined => {
    const range = (n as YamlNode | null | undefined)?.range;
    return range ? lineCounter.linePos(range[0]).line + item.line - 1 : undefined;
  };
  return { value, lineOf: fieldLineIn(node, lineOf) };
}

/** The line of a field under `base`: the node at that path, or the closest enclosing one that exists. */
function fieldLineIn(base: unknown, lineOf: (node: unknown) => number | undefined): (path: readonly (string | number)[]) => number | undefined {
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      const line = lineOf(isMap(base) || isSeq(base) ? base.getIn(path.slice(0, n), true) : undefined);
      if (line !== undefined) return line;
    }
    return lineOf(base);
  };
}

async function loadMeta(root: string): Promise<ClusterMeta> {
  const path = join(root, SNAPSHOT_META_FILE);
  let text: string;
  try {
    text = await readInputFile(path, '', 'Check the file and its permissions, or remove it (it only adds what the API does not hold).');
  } catch (err) {
    if (isMissingFile(err)) return {};
    throw err;
  }
  const collector = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: collector });
  const doc = Array.isArray(docs) ? docs[0] : docs;
  if (!doc) return {};
  const problem = doc.errors[0];
  if (problem) {
    throw inputError(`${path}:${problem.linePos?.[0].line ?? 1}: not valid YAML: ${problem.message.split('\n')[0]}`, 'snapshot-malformed');
  }
  const raw: unknown = doc.toJS();
  if (!isRecord(raw)) return {};
  const meta: ClusterMeta = {};
  const str = (k: string): string | undefined => (typeof raw[k] === 'string' ? raw[k] : undefined);
  const strs = (k: string): string[] | undefined =>
    Array.isArray(raw[k]) ? (raw[k] as unknown[]).filter((x): x is string => typeof x === 'string') : undefined;
  meta.clusterDomain = str('clusterDomain');
  const mode = str('proxyMode');
  if (mode !== undefined) {
    if (!['iptables', 'ipvs', 'nftables'].includes(mode)) {
      throw inputError(`${path}: proxyMode "${mode}" is not one of iptables, ipvs, nftables`, 'snapshot-malformed');
    }
    meta.proxyMode = mode as ProxyMode;
  }
  meta.takenAt = str('takenAt') ?? (raw.takenAt instanceof Date ? raw.takenAt.toISOString() : undefined);
  meta.takenBy = str('takenBy');
  meta.context = str('context');
  meta.serviceCIDRs = strs('serviceCIDRs');
  meta.podCIDRs = strs('podCIDRs');
  for (const k of Object.keys(meta) as (keyof ClusterMeta)[]) if (meta[k] === undefined) delete meta[k];
  return meta;
}

export class SnapshotNodeState implements NodeStateSource {
  constructor(private readonly root: string) {}

  private dir(node: string): string {
    return join(this.root, 'nodes', node);
  }

  async listNodes(): Promise<string[]> {
    try {
      const entries = await readdir(join(this.root, 'nodes'), { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw unreadable(join(this.root, 'nodes'), err);
    }
  }

  async listKinds(node: string): Promise<NodeStateKind[]> {
    let names: string[];
    try {
      names = await readdir(this.dir(node));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw unreadable(this.dir(node), err);
    }
    return (Object.entries(NODE_STATE_FILES) as [NodeStateKind, string][]).filter(([, f]) => names.includes(f)).map(([k]) => k);
  }

  describe(node: string, kind: NodeStateKind): string {
    return join(this.dir(node), NODE_STATE_FILES[kind]);
  }

  async read(node: string, kind: NodeStateKind): Promise<string | null> {
    const path = await this.regularFile(node, kind);
    if (path === null) return null;
    // Read whole in synchronous reads, as every input file is (src/sources/files.ts): an asynchronous
    // read of a node's 25 MB of rules waits for a thread-pool round trip per 512 KiB.
    return readInputFile(path, '', UNREADABLE_HINT).catch(asSnapshotUnreadable);
  }

  async lines(node: string, kind: NodeStateKind): Promise<AsyncIterable<string> | null> {
    const path = await this.regularFile(node, kind);
    return path === null ? null : readLines(path);
  }

  async chunks(node: string, kind: NodeStateKind): Promise<AsyncIterable<Uint8Array> | null> {
    const path = await this.regularFile(node, kind);
    return path === null ? null : readChunks(path);
  }

  /** The file's path when it exists; only regular files are read (a FIFO would hang, a directory fail late). */
  private async regularFile(node: string, kind: NodeStateKind): Promise<string | null> {
    const path = this.describe(node, kind);
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw unreadable(path, err);
    }
    if (!info.isFile()) throw notRegular(path);
    return path;
  }
}

const CHUNK_BYTES = 64 * 1024;
/**
 * Reads into one reused buffer, nothing for the GC. 128 KiB, as cat reads: the kernel's copy and the
 * search that follows it stay in the CPU's cache, where 1 MiB chunks did not (a 160 MB capture: a
 * tenth less CPU in all, most of it the kernel's copy).
 */
const RAW_CHUNK_BYTES = 128 * 1024;

/**
 * The file's bytes; each chunk is valid until the next one is asked for (the buffer is reused).
 * Read synchronously: each asynchronous read waits for a thread-pool round trip, which left a
 * 160 MB capture's reader idle for a third of its run; nothing else runs meanwhile.
 */
async function* readChunks(path: string): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(RAW_CHUNK_BYTES);
    for (;;) {
      const bytesRead = readSync(handle.fd, buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

const UNREADABLE_HINT = 'Check the path and its permissions (knet reads snapshots; it needs read access to every file in them).';

/** A file of the snapshot that cannot be read: inside a snapshot that is the snapshot's problem, whatever the reason. */
function asSnapshotUnreadable(err: unknown): never {
  if (err instanceof KnetError) throw new KnetError(err.message, { code: 'snapshot-unreadable', exit: 2, suggestions: err.suggestions });
  throw err;
}

function unreadable(path: string, err: unknown): Error {
  return inputError(`cannot read ${path}: ${fileErrorReason(err)}`, 'snapshot-unreadable', [UNREADABLE_HINT]);
}

function notRegular(path: string): Error {
  return inputError(`${path} is not a regular file`, 'snapshot-unreadable', ['A snapshot holds plain files; remove or replace that entry (a FIFO, socket or device is never read).']);
}

/**
 * The lines of a file, read in 64 KiB chunks and split by hand, without readline's per-line overhead
 * (a million-line conntrack capture is the common case). Only the unfinished line is carried from one
 * chunk to the next, as parts, and each chunk is searched once: a line of 50 MB costs what 50 MB costs.
 */
async function* readLines(path: string): AsyncGenerator<string> {
  let parts: string[] = [];
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: CHUNK_BYTES })) {
    const text = chunk as string;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      let line = text.slice(start, nl);
      if (parts.length) {
        parts.push(line);
        line = parts.join('');
        parts = [];
      }
      yield line.endsWith('\r') ? line.slice(0, -1) : line;
      start = nl + 1;
    }
    if (start < text.length) parts.push(text.slice(start));
  }
  const rest = parts.join('');
  if (rest) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

/**
 * Read a snapshot: a file, or a directory searched recursively for *.yaml, *.yml, *.json (each one
 * object, a multi-document stream, or a List), node state under nodes/<node>/, and knet-snapshot.yaml.
 */
export async function loadSnapshot(path: string, options: { namespaces?: readonly string[] } = {}): Promise<Snapshot> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw inputError(`cannot read snapshot path "${path}": ${fileErrorReason(err)}`, 'snapshot-unreadable', ['Check the path and its permissions.']);
    }
    throw inputError(`snapshot path "${path}" does not exist`, 'snapshot-not-found', [
      'Give a file or directory of objects, e.g. the output of `kubectl get pods,services,endpoints,endpointslices,networkpolicies,nodes,namespaces -A -o yaml > snap.yaml`,',
      'or one written by `knet snapshot save DIR`.',
    ]);
  }
  if (!info.isDirectory() && !info.isFile()) {
    throw inputError(`snapshot path "${path}" is not a regular file or a directory`, 'snapshot-unreadable', ['Give a file or directory of objects; a FIFO, socket or device is never read.']);
  }
  const root = info.isDirectory() ? path : join(path, '..');
  const files = info.isDirectory() ? await listFiles(path) : [path];
  const collector = new Collector();
  // A scoped read (see src/sources/scoped-list.ts): List files in a shape that allows it keep only the
  // wanted namespaces' objects and every cluster-scoped one; any other file is read whole.
  const wanted = options.namespaces?.every(isScopableNamespace) ? new Set(options.namespaces) : null;
  const leftOut = new LeftOut();
  // The objects that may fail validation, while every file read so far was checked as it was parsed.
  let unchecked: Set<object> | null = new Set();
  for (const file of files) {
    const bytes = await readInputBytes(file, '', 'Check the file and its permissions; a snapshot holds Kubernetes objects as YAML or JSON files.').catch(asSnapshotUnreadable);
    const shown = info.isDirectory() ? join(basename(path), relative(path, file)) : file;
    const isJson = /\.json$/i.test(file);
    // A JSON List is split on its bytes: only the items kept are ever decoded.
    if (wanted && isJson && loadJsonScoped(bytes, shown, collector, wanted, leftOut)) {
      unchecked = null;
      continue;
    }
    const text = decodeInput(bytes);
    if (wanted && !isJson && loadYamlScoped(text, shown, collector, wanted, leftOut)) {
      unchecked = null;
      continue;
    }
    if (isJson) {
      const unsure = loadJson(text, shown, collector);
      if (unsure === null) unchecked = null;
      else if (unchecked) for (const obj of unsure) if (typeof obj === 'object' && obj !== null) unchecked.add(obj);
    } else {
      loadYaml(text, shown, collector);
      unchecked = null;
    }
  }
  const cluster = collector.cluster;
  const shownRoot = info.isDirectory() ? basename(path) : path;
  const nodeState = new SnapshotNodeState(root);
  const hasNodeState = (await nodeState.listNodes()).length > 0;
  const typo = collector.typos[0];
  if (typo) {
    const n = collector.skipped[typo.kind] ?? 1;
    throw inputError(`${typo.origin.line ? `${typo.origin.file}:${typo.origin.line}` : typo.origin.file}: ${n} object${n === 1 ? '' : 's'} of kind \`${typo.kind}\` would be ignored; did you mean \`${typo.near}\`?`, 'unknown-kind', [
      'Kinds are case-sensitive and singular, as the API server writes them (kubectl get -o yaml).',
    ]);
  }
  const objectCount = (Object.keys(collections) as KnownKind[]).reduce((n, k) => n + (cluster[collections[k]] as unknown[]).length, 0);
  if (objectCount === 0 && leftOut.count === 0 && !hasNodeState) {
    throw inputError(`no Kubernetes objects found in "${path}"`, 'snapshot-empty', [
      'A snapshot holds Pods, Services, EndpointSlices, NetworkPolicies… as YAML or JSON files.',
      'Make one with `knet snapshot save DIR` or `kubectl get pods,services,endpoints,endpointslices,networkpolicies,nodes,namespaces -A -o yaml`.',
    ]);
  }
  cluster.meta = info.isDirectory() ? await loadMeta(path) : {};
  const originOf = (obj: object): ObjectOrigin => {
    const o = collector.originOf(obj);
    if (!o) return { source: shownRoot };
    return { source: o.file, lineOf: o.lineOf ?? (() => o.line) };
  };
  const partial: PartialRead | undefined = wanted && leftOut.count > 0 ? { namespaces: wanted, itemsLeftOut: leftOut.count, mentions: (text) => leftOut.mentions(text) } : undefined;
  return { root, cluster, originOf, nodeState, files: files.map((f) => relative(root, f)), skipped: collector.skipped, ...(partial ? { partial } : {}), ...(unchecked ? { unchecked } : {}) };
}
