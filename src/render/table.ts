import Table from 'cli-table3';
import type { Style } from './style.js';

/** A borderless table in kubectl's style: upper-case headers, columns separated by spaces. */
export function renderTable(headers: string[], rows: string[][], style: Style): string {
  const table = new Table({
    head: headers.map((h) => style.c.bold(h.toUpperCase())),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '   ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  table.push(...rows);
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}
