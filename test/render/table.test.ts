import { describe, expect, it } from 'vitest';
import { createStyle } from '../../src/render/style.js';
import { displayWidth, layoutColumns, renderTable } from '../../src/render/table.js';

const plain = createStyle(false);
const colour = createStyle(true);

describe('renderTable', () => {
  it('lays out kubectl-style columns: upper-case headers, three spaces apart, no trailing spaces', () => {
    expect(renderTable(['namespace', 'service', 'ready'], [['shop', 'backend', '2'], ['kube-system', 'kube-dns', '']], plain)).toBe(
      ['NAMESPACE     SERVICE    READY', 'shop          backend    2', 'kube-system   kube-dns'].join('\n'),
    );
  });

  it('measures cells without their colour escapes, so coloured and plain output line up alike', () => {
    const rows = [[colour.status('ok'), 'x'], ['warning', 'y']];
    const escape = String.fromCharCode(27);
    expect(renderTable(['status', 'n'], rows, colour)).toContain(escape);
    const lines = renderTable(['status', 'n'], rows, colour).split('\n').map((l) => l.replaceAll(new RegExp(`${escape}\\[[0-9;]*m`, 'g'), ''));
    expect(lines).toEqual(renderTable(['status', 'n'], [['ok', 'x'], ['warning', 'y']], plain).split('\n'));
    expect(lines).toEqual(['STATUS    N', 'ok        x', 'warning   y']);
  });

  it('right-aligns the columns asked for', () => {
    expect(renderTable(['file', 'objects'], [['pods.yaml', '1200'], ['services.yaml', '7']], plain, { align: ['left', 'right'] }).split('\n')).toEqual([
      'FILE            OBJECTS',
      'pods.yaml          1200',
      'services.yaml         7',
    ]);
  });

  it('gives a cell with line breaks as many lines, the other cells blank below', () => {
    expect(renderTable(['a', 'b'], [['one\ntwo', 'x'], ['three', 'y']], plain).split('\n')).toEqual(['A       B', 'one     x', 'two', 'three   y']);
  });

  it('fills short rows with empty cells', () => {
    expect(renderTable(['a', 'b', 'c'], [['1'], ['22', '333', '4']], plain).split('\n')).toEqual(['A    B     C', '1', '22   333   4']);
  });
});

describe('layoutColumns', () => {
  it('takes a gap per column boundary and an indent, as the policy matrix uses them', () => {
    const rows = [['', '', '1', '2'], ['1', 'a/web', '·', '✓'], ['2', 'a/db', '✗', '·']];
    expect(layoutColumns(rows, { align: ['right', 'left', 'right', 'right'], gap: ' ', gaps: [' ', '  '], indent: ' ' })).toEqual([
      '          1 2',
      ' 1 a/web  · ✓',
      ' 2 a/db   ✗ ·',
    ]);
  });

  it('returns no lines for no rows', () => {
    expect(layoutColumns([])).toEqual([]);
  });
});

describe('displayWidth', () => {
  it.each([
    ['plain ASCII', 'kube-dns', 8],
    ['colour escapes take no columns', '\x1b[31m\x1b[1mERROR\x1b[22m\x1b[39m', 5],
    ['arrows and ticks take one', '8080→80/TCP ✓', 13],
    ['East Asian wide characters take two', '日本', 4],
    ['combining marks take none', 'e\u0301', 1],
  ])('%s', (_what, text, width) => {
    expect(displayWidth(text)).toBe(width);
  });
});
