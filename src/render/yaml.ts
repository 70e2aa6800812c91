// `-o yaml` without building a YAML document: a command's result is plain data (objects, arrays,
// strings, numbers, booleans, null), and the `yaml` package's block layout of such data is simple
// (two spaces per level, sequences indented under their key, `[]` and `{}` when empty). What is not
// simple is when a scalar needs quotes; that is decided here by the package's own rules
// (stringify/stringifyString.js plainString, and the core schema's tags), and the quoted form, which
// few scalars need, is asked of the package itself. Anything else (a string over several lines, a Map,
// an object with toJSON, a document marker) makes renderYamlPieces return null, and the caller
// renders with the package: the text is the same either way (test/render/yaml.test.ts compares them).
import { stringify } from 'yaml';
import { resolvePlain } from '../model/yaml-scalar.js';

export const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false } as const;

/** Thrown inside the walk for data this renderer leaves to the package. */
class NotPlain extends Error {}

/** Whether the walk stopped at what the package writes instead (data it does not lay out, or nesting past the stack). */
function isLeftToPackage(err: unknown): boolean {
  return err instanceof NotPlain || err instanceof RangeError;
}

/** Characters and places that keep a scalar from being written plain (plainString's test, with no newline in the text). */
const NEEDS_QUOTES = /^[\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|:[ \t]|[\t ]#|[\t :]$/;
/** Control characters and lone surrogates: written double-quoted, escaped. */
// eslint-disable-next-line no-control-regex -- the package's own test, which looks for control characters
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\uD800-\uDFFF]/u;
/** A document marker at a line's start, which the package writes differently by depth. */
const DOCUMENT_MARKER = /^(?:%|---|\.\.\.)/;

/** Keys past this length the package writes as explicit keys (`? key`). */
const MAX_IMPLICIT_KEY = 1000;

/** Bytes of text per piece returned. */
const PIECE = 64 * 1024;

/** How the package writes a string scalar that cannot be plain: as a sequence item, then cut out. */
function quotedValue(text: string): string {
  const out = stringify([text], YAML_OPTIONS);
  if (!out.startsWith('- ') || out.indexOf('\n') !== out.length - 1) throw new NotPlain();
  return out.slice(2, -1);
}

function quotedKey(key: string): string {
  const out = stringify({ [key]: 0 }, YAML_OPTIONS);
  if (!out.endsWith(': 0\n') || out.indexOf('\n') !== out.length - 1) throw new NotPlain();
  return out.slice(0, -4);
}

class Writer {
  private buffer = '';
  readonly pieces: string[] = [];
  /** Quoted forms already asked of the package: a report repeats its strings. */
  private readonly values = new Map<string, string>();
  private readonly keys = new Map<string, string>();

  /** Whether a piece may be cut at the next element's end (not while an element that may be taken back is written). */
  canCut = true;

  line(text: string): void {
    this.buffer += text;
  }

  /** Cuts a piece when the text is long enough: between elements, never inside a line. */
  cut(): void {
    if (this.canCut && this.buffer.length >= PIECE) {
      this.pieces.push(this.buffer);
      this.buffer = '';
    }
  }

  /**
   * Writes with `write`, uncut; when that meets what this renderer leaves to the package, what it wrote
   * is taken back and `fallback()` (the package's text for the same place) written instead.
   */
  attempt(write: () => void, fallback: () => string): void {
    const mark = this.buffer.length;
    this.canCut = false;
    try {
      write();
    } catch (err) {
      if (!isLeftToPackage(err)) throw err;
      this.buffer = this.buffer.slice(0, mark);
      this.line(fallback());
    } finally {
      this.canCut = true;
    }
  }

  /** Takes the pieces cut so far. */
  take(): string[] {
    return this.pieces.splice(0);
  }

  finish(): string[] {
    if (this.buffer) this.pieces.push(this.buffer);
    this.buffer = '';
    return this.pieces;
  }

  string(text: string): string {
    const isSimple = isSimpleAscii(text);
    if (text.length > 0 && !NEEDS_QUOTES.test(text) && readsAsItself(text)) {
      if (isSimple) {
        // No newline, control character, quote or backslash: only a document marker is left to check.
        if (DOCUMENT_MARKER.test(text)) throw new NotPlain();
        return text;
      }
      if (text.includes('\n') || DOCUMENT_MARKER.test(text)) throw new NotPlain();
      if (!CONTROL.test(text)) return text;
    }
    // Quoted: with no quote of either kind, the package writes JSON's double-quoted form, which for
    // printable ASCII without a backslash is the text in quotes.
    if (isSimple) return `"${text}"`;
    if (text.includes('\n')) throw new NotPlain();
    let quoted = this.values.get(text);
    if (quoted === undefined) {
      quoted = quotedValue(text);
      this.values.set(text, quoted);
    }
    return quoted;
  }

  key(key: string): string {
    if (key.length > MAX_IMPLICIT_KEY || key.includes('\n') || DOCUMENT_MARKER.test(key)) throw new NotPlain();
    if (key.length > 0 && !NEEDS_QUOTES.test(key) && readsAsItself(key) && !CONTROL.test(key)) return key;
    let quoted = this.keys.get(key);
    if (quoted === undefined) {
      quoted = quotedKey(key);
      this.keys.set(key, quoted);
    }
    return quoted;
  }

  /** A scalar's text, or null for a non-empty object or array (written as a block). */
  scalar(value: unknown): string | null {
    switch (typeof value) {
      case 'string':
        return this.string(value);
      case 'number':
        if (!Number.isFinite(value)) return Number.isNaN(value) ? '.nan' : value < 0 ? '-.inf' : '.inf';
        return Object.is(value, -0) ? '-0' : JSON.stringify(value);
      case 'boolean':
        return value ? 'true' : 'false';
      case 'undefined':
        return 'null';
      case 'object':
        if (value === null) return 'null';
        if (Array.isArray(value)) return value.length === 0 ? '[]' : null;
        if (!isPlainData(value)) throw new NotPlain();
        for (const k in value) if ((value as Record<string, unknown>)[k] !== undefined) return null;
        return '{}';
      default:
        throw new NotPlain();
    }
  }

  /** A mapping whose first line starts with `first` and whose other lines with `indent`. */
  map(o: Record<string, unknown>, indent: string, first: string, depth: number): void {
    if (depth > 500) throw new NotPlain();
    let prefix = first;
    for (const k in o) {
      const v = o[k];
      if (v === undefined) continue;
      const key = this.key(k);
      const text = this.scalar(v);
      if (text !== null) this.line(`${prefix}${key}: ${text}\n`);
      else {
        this.line(`${prefix}${key}:\n`);
        const inner = `${indent}  `;
        if (Array.isArray(v)) this.seq(v as unknown[], inner, inner, depth + 1);
        else this.map(v as Record<string, unknown>, inner, inner, depth + 1);
      }
      prefix = indent;
      this.cut();
    }
  }

  /** A sequence whose first item starts with `first` and whose other items with `indent`. */
  seq(list: readonly unknown[], indent: string, first: string, depth: number): void {
    if (depth > 500) throw new NotPlain();
    let prefix = first;
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      const text = this.scalar(v);
      if (text !== null) this.line(`${prefix}- ${text}\n`);
      else if (Array.isArray(v)) this.seq(v as unknown[], `${indent}  `, `${prefix}- `, depth + 1);
      else this.map(v as Record<string, unknown>, `${indent}  `, `${prefix}- `, depth + 1);
      prefix = indent;
      this.cut();
    }
  }
}

/** One writer for yamlScalar, keeping the quoted forms asked of the package. */
const scalars = new Writer();

/**
 * A string, number, boolean or null as renderYamlPieces writes it after `key: ` or `- `; null when it
 * is left to the package (a string over several lines, or one that starts with a document marker).
 */
export function yamlScalar(value: string | number | boolean | null): string | null {
  try {
    return scalars.scalar(value);
  } catch (err) {
    if (err instanceof NotPlain) return null;
    throw err;
  }
}

/** Whether a string written plain reads back as itself, not as null, a boolean or a number. */
function readsAsItself(text: string): boolean {
  return resolvePlain(text) === text;
}

/** Printable ASCII (space to tilde) without a quote of either kind or a backslash. */
function isSimpleAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c > 126 || c === 34 || c === 39 || c === 92) return false;
  }
  return true;
}

/** An object the package writes as a mapping of its own fields: a plain one, with no toJSON. */
function isPlainData(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * The text `stringify(result, YAML_OPTIONS)` gives, in pieces of about 64 KB, for a result that is an
 * object or array of plain data; null for anything else (then render with the package).
 */
export function renderYamlPieces(result: unknown): string[] | null {
  if (typeof result !== 'object' || result === null) return null;
  const w = new Writer();
  try {
    const text = w.scalar(result);
    if (text !== null) w.line(`${text}\n`);
    else if (Array.isArray(result)) w.seq(result, '', '', 0);
    else w.map(result as Record<string, unknown>, '', '', 0);
  } catch (err) {
    if (isLeftToPackage(err)) return null;
    throw err;
  }
  return w.finish();
}

/** The text `stringify(value, YAML_OPTIONS)` gives, in pieces: laid out here when it can be, else by the package. */
export function yamlPieces(value: unknown): string[] {
  return renderYamlPieces(value) ?? [stringify(value, YAML_OPTIONS)];
}

/**
 * The text `stringify(document, YAML_OPTIONS)` gives for a document whose first field, `key`, holds a
 * long list, made while the list is read from `items` (as renderJsonStream does for --json): each
 * element is written as it comes and dropped, and `rest()` (the document with that list empty) is
 * asked for after the last. An element this renderer does not lay out is written by the package, as
 * the only element of the list at the same place: the package lays out each element of a list alone.
 */
export function* renderYamlStream(key: string, items: Iterable<unknown>, rest: () => Record<string, unknown>): Generator<string> {
  const w = new Writer();
  let isFirst = true;
  let head = '';
  for (const item of items) {
    if (isFirst) {
      head = `${w.key(key)}:\n`;
      w.line(head);
      isFirst = false;
    }
    w.attempt(
      () => w.seq([item], '  ', '  ', 1),
      () => stringify({ [key]: [item] }, YAML_OPTIONS).slice(head.length),
    );
    w.cut();
    yield* w.take();
  }
  const document = rest();
  const list = document[key];
  if (Object.keys(document)[0] !== key || !Array.isArray(list) || list.length !== 0) throw new Error(`renderYamlStream: rest() must start with ${key}, empty`);
  if (isFirst) {
    // No element: the document as it is, with its empty list.
    yield* yamlPieces(document);
    return;
  }
  // The fields after the list, each laid out as in the whole document (a top-level field alone).
  const others: Record<string, unknown> = {};
  for (const k of Object.keys(document)) if (k !== key) others[k] = document[k];
  if (Object.values(others).some((v) => v !== undefined)) {
    w.attempt(
      () => w.map(others, '', '', 0),
      () => stringify(others, YAML_OPTIONS),
    );
  }
  yield* w.finish();
}
