// A reader of the YAML that `kubectl get -o yaml` and `knet snapshot save` write: block mappings and
// sequences (a sequence may sit at its key's indentation), plain, single- and double-quoted scalars
// over one line or several, literal block scalars (`|`, `|-`), `{}` and `[]`, comments and `---`.
// It makes the values the yaml package makes (core schema, later duplicate keys winning), about thirty
// times faster: the package builds a syntax tree with positions for every node, which a 40 MB snapshot
// pays for with most of a minute and two gigabytes. Anything else (anchors, aliases, tags, flow
// collections with content, folded scalars, directives, tabs in indentation, carriage returns, a line
// it does not understand) makes it give up (null), and the caller reads the text with the package,
// which also says where an error is. The scalar rules are the package's own (compose/
// resolve-flow-scalar.js, resolve-block-scalar.js, schema/core); test/sources/yaml-fast.test.ts
// compares both readers on random documents, mutated documents and real snapshots.

import { resolvePlain } from '../model/yaml-scalar.js';

/** Thrown where the text leaves what this reader knows: the package reads it instead. */
class GiveUp extends Error {}

/** resolve-flow-scalar.js unfoldLines: the lines of a plain or single-quoted scalar folded. */
function unfoldLines(source: string): string {
  const lines = source.split('\n');
  if (lines.length === 1) return source;
  let res = lines[0]!.replace(/[ \t]+$/, '');
  let sep = ' ';
  for (let i = 1; i < lines.length - 1; i++) {
    const lm = lines[i]!.replace(/^[ \t]+|[ \t]+$/g, '');
    if (lm === '') {
      if (sep === '\n') res += sep;
      else sep = '\n';
    } else {
      res += sep + lm;
      sep = ' ';
    }
  }
  return res + sep + lines[lines.length - 1]!.replace(/^[ \t]*/, '');
}

const ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
  N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029', ' ': ' ', '"': '"', '/': '/', '\\': '\\', '\t': '\t',
};

/** resolve-flow-scalar.js doubleQuotedValue, on the text between the quotes; an escape it does not know gives up. */
function doubleQuotedValue(source: string): string {
  let res = '';
  for (let i = 0; i < source.length; ++i) {
    const ch = source[i]!;
    if (ch === '\n') {
      let fold = '';
      let next = source[i + 1];
      while (next === ' ' || next === '\t' || next === '\n') {
        if (next === '\n') fold += '\n';
        i += 1;
        next = source[i + 1];
      }
      res += fold || ' ';
    } else if (ch === '\\') {
      let next = source[++i];
      const cc = next === undefined ? undefined : ESCAPES[next];
      if (cc !== undefined) res += cc;
      else if (next === '\n') {
        next = source[i + 1];
        while (next === ' ' || next === '\t') next = source[++i + 1];
      } else if (next === 'x' || next === 'u' || next === 'U') {
        const length = next === 'x' ? 2 : next === 'u' ? 4 : 8;
        const code = source.substr(i + 1, length);
        if (code.length !== length || !/^[0-9a-fA-F]+$/.test(code)) throw new GiveUp();
        const point = parseInt(code, 16);
        if (point > 0x10ffff) throw new GiveUp();
        res += String.fromCodePoint(point);
        i += length;
      } else throw new GiveUp();
    } else if (ch === ' ' || ch === '\t') {
      // Whitespace before a line break is dropped.
      const wsStart = i;
      let next = source[i + 1];
      while (next === ' ' || next === '\t') next = source[++i + 1];
      if (next !== '\n') res += i > wsStart ? source.slice(wsStart, i + 1) : ch;
    } else res += ch;
  }
  return res;
}

/** Characters a plain scalar may not start with here (indicators, and what this reader leaves to the package). */
function isBadPlainStart(c: number): boolean {
  // , [ ] { } # & * ! | > ' " % @ `
  return c === 44 || c === 91 || c === 93 || c === 123 || c === 125 || c === 35 || c === 38 || c === 42 || c === 33 || c === 124 || c === 62 || c === 39 || c === 34 || c === 37 || c === 64 || c === 96;
}

class Reader {
  /** The current line: [start, end) in the text, its number, and its indentation (-1: blank or comment only). */
  private start = 0;
  private end = 0;
  private indent = 0;
  /** Where the current line's unread content starts (a compact entry starts mid-line). */
  private col = 0;

  constructor(private readonly text: string) {
    this.load(0);
  }

  /** Makes the line starting at `at` current. */
  private load(at: number): void {
    const text = this.text;
    this.start = at;
    if (at >= text.length) {
      this.end = at;
      this.indent = -2;
      this.col = at;
      return;
    }
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    this.end = end;
    let i = at;
    while (i < end && text.charCodeAt(i) === 32) i++;
    const c = i < end ? text.charCodeAt(i) : -1;
    if (c === 9) {
      // A tab: indentation (an error) or whitespace before content; either way the package's.
      throw new GiveUp();
    }
    this.indent = c === -1 || c === 35 ? -1 : i - at;
    this.col = i;
  }

  private get isEof(): boolean {
    return this.indent === -2;
  }

  private nextLine(): void {
    this.load(this.end + 1);
  }

  /** Skips blank and comment lines. */
  private skipBlank(): void {
    while (this.indent === -1) this.nextLine();
  }

  /** Whether the current line is `---` or `...` (a document's end) at column 0. */
  private get isMarker(): boolean {
    const t = this.text;
    const s = this.start;
    if (this.indent !== 0 || this.end - s < 3) return false;
    const c = t.charCodeAt(s);
    if ((c !== 45 && c !== 46) || t.charCodeAt(s + 1) !== c || t.charCodeAt(s + 2) !== c) return false;
    return this.end - s === 3 || t.charCodeAt(s + 3) === 32 || t.charCodeAt(s + 3) === 9;
  }

  /** Every document of the stream, as the package's parseAllDocuments(...).map(toJS) gives them. */
  documents(): unknown[] {
    const docs: unknown[] = [];
    let isOpen = false;
    let value: unknown = null;
    for (;;) {
      this.skipBlank();
      if (this.isEof) break;
      if (this.isMarker) {
        const t = this.text;
        if (t.charCodeAt(this.start) === 46) throw new GiveUp();
        // `---` alone, or with spaces and a comment after it.
        const rest = t.slice(this.start + 3, this.end).trim();
        if (rest !== '' && !rest.startsWith('#')) throw new GiveUp();
        if (isOpen) docs.push(value);
        isOpen = true;
        value = null;
        this.nextLine();
        continue;
      }
      if (isOpen && value !== null) throw new GiveUp();
      isOpen = true;
      value = this.node(-1, false);
      this.skipBlank();
      if (!this.isEof && !this.isMarker) throw new GiveUp();
      if (value === null) throw new GiveUp();
    }
    if (isOpen) docs.push(value);
    return docs;
  }

  /**
   * The node that follows `key:` or `-` with nothing after it on the line: on the lines below, more
   * indented than `parent`; or a sequence at the parent's indentation, after a key (`sameIndentSeq`).
   */
  private node(parent: number, sameIndentSeq: boolean): unknown {
    this.skipBlank();
    if (this.isEof || this.isMarker) return null;
    const n = this.indent;
    if (n > parent) return this.block(n, parent);
    if (n === parent && sameIndentSeq && this.isDash()) return this.seq(n);
    return null;
  }

  /** A node whose first line is the current one, content at column `n`, inside a block at `parent`. */
  private block(n: number, parent: number): unknown {
    if (this.isDash()) return this.seq(n);
    const key = this.keyAhead();
    if (key !== null) return this.map(n);
    return this.scalar(parent);
  }

  /** Whether the content at col is `-` followed by a space or the line's end. */
  private isDash(): boolean {
    const t = this.text;
    if (t.charCodeAt(this.col) !== 45) return false;
    return this.col + 1 === this.end || t.charCodeAt(this.col + 1) === 32;
  }

  /** A block sequence whose items start at column n (the first one at col on the current line). */
  private seq(n: number): unknown[] {
    const list: unknown[] = [];
    for (;;) {
      // At a `-`: the item is what follows it on the line, else the lines below.
      let at = this.col + 1;
      const t = this.text;
      while (at < this.end && t.charCodeAt(at) === 32) at++;
      if (at >= this.end || t.charCodeAt(at) === 35) {
        this.nextLine();
        list.push(this.node(n, false));
      } else {
        this.col = at;
        const c = at - this.start;
        list.push(this.block(c, n));
      }
      this.skipBlank();
      // A line at n that is not an item ends a sequence that sits at its key's indentation.
      if (this.isEof || this.isMarker || this.indent < n || (this.indent === n && !this.isDash())) return list;
      if (this.indent !== n) throw new GiveUp();
    }
  }

  /**
   * The key of a mapping entry at col (its end: where the value starts after `:`), or null when the
   * content is not a `key:`.
   */
  private keyEnd = 0;
  private keyText = '';

  private keyAhead(): string | null {
    const t = this.text;
    const c = t.charCodeAt(this.col);
    if (c === 34 || c === 39) {
      // A quoted key on one line, then `:`.
      const close = c === 34 ? this.closeDouble(this.col) : this.closeSingle(this.col);
      if (close < 0 || close >= this.end) return null;
      const after = close + 1;
      if (t.charCodeAt(after) !== 58 || (after + 1 < this.end && t.charCodeAt(after + 1) !== 32)) return null;
      const inner = t.slice(this.col + 1, close);
      this.keyText = c === 34 ? doubleQuotedValue(inner) : inner.replaceAll("''", "'");
      this.keyEnd = after + 1;
      return this.keyText;
    }
    // A plain key: up to the first `: ` (or `:` at the end), before any ` #`.
    const end = this.end;
    for (let colon = this.col; colon < end; colon++) {
      const cc = t.charCodeAt(colon);
      if (cc === 32 && t.charCodeAt(colon + 1) === 35) return null;
      // A tab in a plain key, or after its colon: the package's.
      if (cc === 9) throw new GiveUp();
      if (cc !== 58) continue;
      if (colon + 1 === end || t.charCodeAt(colon + 1) === 32) {
        if (isBadPlainStart(c) || c === 63 || c === 58 || (c === 45 && (this.col + 1 === end || t.charCodeAt(this.col + 1) === 32))) throw new GiveUp();
        let keyEnd = colon;
        while (keyEnd > this.col && t.charCodeAt(keyEnd - 1) === 32) keyEnd--;
        const key = t.slice(this.col, keyEnd);
        // A key the core schema reads as null, a boolean or a number: left to the package.
        if (key === '' || resolvePlain(key) !== key || key === '__proto__') throw new GiveUp();
        this.keyText = key;
        this.keyEnd = colon + 1;
        return key;
      }
    }
    return null;
  }

  /** A block mapping whose entries start at column n (the first at col on the current line). */
  private map(n: number): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (;;) {
      const key = this.keyAhead();
      if (key === null) throw new GiveUp();
      const t = this.text;
      let at = this.keyEnd;
      while (at < this.end && t.charCodeAt(at) === 32) at++;
      let value: unknown;
      if (at >= this.end || t.charCodeAt(at) === 35) {
        this.nextLine();
        value = this.node(n, true);
      } else {
        this.col = at;
        value = this.scalar(n);
      }
      o[key] = value;
      this.skipBlank();
      if (this.isEof || this.isMarker || this.indent < n) return o;
      if (this.indent !== n || this.isDash()) throw new GiveUp();
    }
  }

  /** Where the double-quoted scalar opening at `open` closes (-1: not in the text). */
  private closeDouble(open: number): number {
    const t = this.text;
    for (let i = open + 1; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === 92) i++;
      else if (c === 34) return i;
    }
    return -1;
  }

  private closeSingle(open: number): number {
    const t = this.text;
    for (let i = open + 1; i < t.length; i++) {
      if (t.charCodeAt(i) === 39) {
        if (t.charCodeAt(i + 1) === 39) i++;
        else return i;
      }
    }
    return -1;
  }

  /**
   * A scalar at col (after `key: `, `- `, or alone on its line), inside a block at `parent`: the lines
   * it continues on must be more indented than that. Leaves the next line current.
   */
  private scalar(parent: number): unknown {
    const t = this.text;
    const c = t.charCodeAt(this.col);
    if (c === 34 || c === 39) return this.quoted(parent, c);
    if (c === 124) return this.literal(parent);
    if (c === 123 || c === 91) {
      // `{}` or `[]`, and nothing but a comment after it.
      if (t.charCodeAt(this.col + 1) !== (c === 123 ? 125 : 93)) throw new GiveUp();
      this.restOfLine(this.col + 2);
      return c === 123 ? {} : [];
    }
    if (isBadPlainStart(c) || ((c === 63 || c === 58 || c === 45) && (this.col + 1 === this.end || t.charCodeAt(this.col + 1) === 32))) throw new GiveUp();
    return this.plain(parent);
  }

  /** What follows a scalar on its line must be spaces and a comment; then the next line. */
  private restOfLine(at: number): void {
    const t = this.text;
    let i = at;
    while (i < this.end && t.charCodeAt(i) === 32) i++;
    if (i < this.end && (t.charCodeAt(i) !== 35 || i === at)) throw new GiveUp();
    this.nextLine();
  }

  private plain(parent: number): unknown {
    const t = this.text;
    const from = this.col;
    let end = this.plainEnd(from, this.end);
    const isCommented = this.hasComment;
    let source = t.slice(from, end);
    this.nextLine();
    if (!isCommented) {
      // Continuation lines: more indented than the parent, after any blank lines.
      let lastEnd = -1;
      let text = source;
      for (;;) {
        const lineStart = this.start;
        let blank = 0;
        while (this.indent === -1) {
          // A comment line ends the scalar; a blank one may be inside it.
          if (this.text.slice(this.start, this.end).trim() !== '') break;
          blank++;
          this.nextLine();
        }
        if (this.isEof || this.isMarker || this.indent <= parent || this.indent === -1) {
          // Not continued: back to the first line after the scalar's content.
          if (blank > 0) this.load(lineStart);
          break;
        }
        const lineFrom = this.col;
        const cc = t.charCodeAt(lineFrom);
        if (isBadPlainStart(cc) || cc === 45 || cc === 63 || cc === 58) throw new GiveUp();
        end = this.plainEnd(lineFrom, this.end);
        if (this.hasComment) throw new GiveUp();
        text += '\n'.repeat(blank + 1) + t.slice(lineFrom, end);
        lastEnd = end;
        this.nextLine();
      }
      if (lastEnd >= 0) source = text;
    }
    // One line (nearly all): its trailing spaces are off already, and there is nothing to fold.
    return resolvePlain(source.includes('\n') ? unfoldLines(source).replace(/[ \t]+$/, '') : source);
  }

  /** Whether the line plainEnd read last ends in a comment. */
  private hasComment = false;

  /** Where a plain scalar's text on one line ends: before ` #`, trailing spaces off; `: ` or a tab inside gives up. */
  private plainEnd(from: number, lineEnd: number): number {
    const t = this.text;
    let end = lineEnd;
    this.hasComment = false;
    for (let i = from; i < lineEnd; i++) {
      const c = t.charCodeAt(i);
      if (c === 9) throw new GiveUp();
      if (c === 32 && t.charCodeAt(i + 1) === 35) {
        end = i;
        this.hasComment = true;
        break;
      }
      if (c === 58 && t.charCodeAt(i + 1) === 32) throw new GiveUp();
    }
    while (end > from && t.charCodeAt(end - 1) === 32) end--;
    if (t.charCodeAt(end - 1) === 58) throw new GiveUp();
    return end;
  }

  private quoted(parent: number, quote: number): string {
    const t = this.text;
    const open = this.col;
    const close = quote === 34 ? this.closeDouble(open) : this.closeSingle(open);
    if (close < 0) throw new GiveUp();
    // Lines the scalar continues on must be more indented than its parent, and not end the document.
    const firstLine = this.start;
    let value: string;
    if (close < this.end) {
      const inner = t.slice(open + 1, close);
      value = quote === 34 ? doubleQuotedValue(inner) : inner.replaceAll("''", "'");
    } else {
      for (let at = this.end + 1; at <= close; ) {
        this.load(at);
        if (this.isMarker || (this.indent !== -1 && this.indent <= parent)) throw new GiveUp();
        if (this.indent === -1 && this.text.slice(this.start, this.end).trim() !== '') {
          // A line holding `#` first is text inside quotes: fine, but rare enough to leave.
          throw new GiveUp();
        }
        at = this.end + 1;
      }
      const inner = t.slice(open + 1, close);
      value = quote === 34 ? doubleQuotedValue(inner) : unfoldLines(inner).replaceAll("''", "'");
      if (firstLine === this.start) throw new GiveUp();
    }
    // The closing quote is on the current line now.
    this.restOfLine(close + 1);
    return value;
  }

  /** A literal block scalar, `|` or `|-`, its lines more indented than the parent. */
  private literal(parent: number): string {
    const t = this.text;
    const header = t.slice(this.col, this.end);
    const chomp = header === '|' ? '' : header === '|-' ? '-' : null;
    if (chomp === null) throw new GiveUp();
    this.nextLine();
    const lines: string[] = [];
    let contentIndent = -1;
    let trailingBlank = 0;
    for (;;) {
      if (this.isEof) break;
      const lineText = t.slice(this.start, this.end);
      const spaces = lineText.length - lineText.replace(/^ +/, '').length;
      const isBlank = spaces === lineText.length;
      if (isBlank) {
        // Blank lines more indented than the content are content of their own: left to the package.
        if (contentIndent < 0 || spaces > contentIndent) throw new GiveUp();
        lines.push('');
        trailingBlank++;
        this.load(this.end + 1);
        continue;
      }
      if (contentIndent < 0) {
        if (spaces <= parent || spaces === 0) throw new GiveUp();
        contentIndent = spaces;
      }
      if (spaces < contentIndent) {
        if (spaces > parent) throw new GiveUp();
        break;
      }
      if (lineText.charCodeAt(0) === 45 || lineText.charCodeAt(0) === 46) {
        if (contentIndent === 0) throw new GiveUp();
      }
      lines.push(lineText.slice(contentIndent));
      trailingBlank = 0;
      this.load(this.end + 1);
    }
    if (contentIndent < 0) throw new GiveUp();
    // The blank lines after the content are no one's (clipped or stripped).
    return lines.slice(0, lines.length - trailingBlank).join('\n') + (chomp === '-' ? '' : '\n');
  }
}

/**
 * The values of the YAML stream `text`, one per document (parseAllDocuments(text).map(d => d.toJS())),
 * or null when the text holds something this reader leaves to the yaml package.
 */
export function parseYamlFast(text: string): unknown[] | null {
  if (text.includes('\r') || text.charCodeAt(0) === 0xfeff) return null;
  try {
    return new Reader(text).documents();
  } catch (err) {
    if (err instanceof GiveUp || err instanceof RangeError) return null;
    throw err;
  }
}
