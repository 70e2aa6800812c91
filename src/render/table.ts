// The one table renderer: every grid knet prints to a person goes through here (endpoints, rules show,
// the node views, cleanup, snapshot save, the policy matrix), so that every table scales the same way.
//
//   renderTable(headers, rows, style, options?)  kubectl's style: upper-case bold headers, columns
//                                                three spaces apart, no borders. Returns the lines
//                                                joined with '\n', without a trailing newline.
//   layoutColumns(rows, options?)                the layout under it, for grids of any shape: aligns
//                                                every column to its widest cell and returns the lines.
//   displayWidth(text)                           the columns a string takes on a terminal.
//
// Layout is two passes over the cells (widths, then padding), so 10,000 rows cost ten times what
// 1,000 rows cost. Widths ignore colour escapes and count East Asian wide characters as two columns.
// A cell may hold several lines ("a\nb"): its row then takes as many lines. On a terminal (Style.width),
// a last column that runs past the edge is wrapped under itself.
import type { Style } from './style.js';

export type Align = 'left' | 'right';

export interface LayoutOptions {
  /** Alignment per column; columns without an entry are left-aligned. */
  align?: readonly Align[];
  /** Text between two columns (default three spaces). */
  gap?: string;
  /** Text between column i and column i + 1, where it differs from `gap`. */
  gaps?: readonly (string | undefined)[];
  /** Text at the start of every line (default none). */
  indent?: string;
  /**
   * The terminal's width: a last column (left-aligned) that runs past it is wrapped at spaces under
   * itself, so that the columns before it stay aligned. Only where at least MIN_WRAP columns are left
   * for it; a word longer than that keeps its line. Undefined (a pipe, a file): no wrapping.
   */
  width?: number;
}

export interface TableOptions {
  /** Alignment per column, as in layoutColumns (default: all left, as kubectl). */
  align?: readonly Align[];
}

// Printable ASCII: one column per character, the common case, decided by one test.
const PLAIN = /^[\x20-\x7e]*$/;
// SGR colour sequences (what chalk writes) and other CSI sequences.
// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g;

function isWide(cp: number): boolean {
  // The East Asian Wide and Fullwidth blocks that occur in names and messages (Unicode UAX #11).
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function isZeroWidth(cp: number): boolean {
  // Combining marks, zero-width space/joiners and variation selectors take no column of their own.
  return (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f) || cp < 0x20;
}

// Coloured cells repeat (a status column holds a handful of distinct strings): remember their widths.
const widthCache = new Map<string, number>();

/** The number of terminal columns `text` takes: escapes take none, wide characters two. */
export function displayWidth(text: string): number {
  if (PLAIN.test(text)) return text.length;
  const cached = widthCache.get(text);
  if (cached !== undefined) return cached;
  let width = 0;
  for (const ch of text.replace(ESCAPES, '')) {
    const cp = ch.codePointAt(0) ?? 0;
    width += isZeroWidth(cp) ? 0 : isWide(cp) ? 2 : 1;
  }
  if (widthCache.size >= 4096) widthCache.clear();
  widthCache.set(text, width);
  return width;
}

function pad(text: string, width: number, align: Align | undefined): string {
  const fill = width - displayWidth(text);
  if (fill <= 0) return text;
  return align === 'right' ? ' '.repeat(fill) + text : text + ' '.repeat(fill);
}

/** The fewest columns a wrapped last column gets; with less room, lines are left long for the terminal to fold. */
const MIN_WRAP = 40;

/**
 * `text` in lines of at most `width` columns (`restWidth` after the first, for a hanging indent), broken
 * at spaces (a longer word keeps a line of its own).
 */
export function wrapWords(text: string, width: number, restWidth = width): string[] {
  if (displayWidth(text) <= width) return [text];
  const lines: string[] = [];
  let line: string | null = null;
  let used = 0;
  for (const word of text.split(' ')) {
    const w = displayWidth(word);
    if (line === null) {
      line = word;
      used = w;
    } else if (used + 1 + w > (lines.length === 0 ? width : restWidth)) {
      lines.push(line);
      line = word;
      used = w;
    } else {
      line += ` ${word}`;
      used += 1 + w;
    }
  }
  lines.push(line ?? '');
  return lines;
}

/** Rows whose last cell runs past `width` from `start`, each made into as many rows as its wrapped lines. */
function wrapLastColumn(rows: readonly (readonly string[])[], columns: number, start: number, width: number): readonly (readonly string[])[] {
  const room = width - start;
  if (room < MIN_WRAP || !rows.some((row) => row.length === columns && displayWidth(row[columns - 1]!) > room)) return rows;
  const out: (readonly string[])[] = [];
  for (const row of rows) {
    const last = row.length === columns ? row[columns - 1]! : '';
    if (displayWidth(last) <= room) {
      out.push(row);
      continue;
    }
    const lines = wrapWords(last, room);
    out.push([...row.slice(0, columns - 1), lines[0]!]);
    for (const line of lines.slice(1)) out.push([...new Array<string>(columns - 1).fill(''), line]);
  }
  return out;
}

/** Splits rows whose cells hold line breaks into one row per line; rows without any are kept as they are. */
function splitMultiline(rows: readonly (readonly string[])[]): readonly (readonly string[])[] {
  if (!rows.some((row) => row.some((cell) => cell.includes('\n')))) return rows;
  const out: string[][] = [];
  for (const row of rows) {
    const cells = row.map((cell) => cell.split('\n'));
    const height = Math.max(1, ...cells.map((lines) => lines.length));
    for (let i = 0; i < height; i++) out.push(cells.map((lines) => lines[i] ?? ''));
  }
  return out;
}

/**
 * Aligns a grid: each column as wide as its widest cell, cells padded to it (left-aligned unless
 * `align` says right), columns joined by `gap`. Trailing spaces are trimmed from every line. Rows may
 * have fewer cells than others; the missing ones are empty.
 */
export function layoutColumns(input: readonly (readonly string[])[], options: LayoutOptions = {}): string[] {
  let rows = splitMultiline(input);
  const gap = options.gap ?? '   ';
  const indent = options.indent ?? '';
  const align = options.align ?? [];
  const widths: number[] = [];
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      const w = displayWidth(row[i]!);
      if (w > (widths[i] ?? 0)) widths[i] = w;
    }
  }
  const columns = widths.length;
  const gaps = Array.from({ length: Math.max(0, columns - 1) }, (_, i) => options.gaps?.[i] ?? gap);
  if (options.width !== undefined && columns > 1 && align[columns - 1] !== 'right') {
    let start = displayWidth(indent);
    for (let i = 0; i < columns - 1; i++) start += widths[i]! + displayWidth(gaps[i]!);
    rows = wrapLastColumn(rows, columns, start, options.width);
  }
  const lines = new Array<string>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    let line = indent;
    for (let i = 0; i < columns; i++) {
      // The last column is not padded on the left-aligned side: nothing follows it.
      const cell = row[i] ?? '';
      line += i === columns - 1 && align[i] !== 'right' ? cell : pad(cell, widths[i] ?? 0, align[i]);
      if (i < columns - 1) line += gaps[i]!;
    }
    lines[r] = line.trimEnd();
  }
  return lines;
}

/** A borderless table in kubectl's style: upper-case bold headers, columns three spaces apart. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], style: Style, options: TableOptions = {}): string {
  const head = headers.map((h) => style.c.bold(h.toUpperCase()));
  return layoutColumns([head, ...rows], { ...(options.align ? { align: options.align } : {}), ...(style.width !== undefined ? { width: style.width } : {}) }).join('\n');
}
