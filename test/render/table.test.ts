import { describe, expect, it } from 'vitest';
import { createStyle } from '../../src/render/style.js';
import { displayWidth, layoutColumns, renderTable, wrapWords } from '../../src/render/table.js';

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

describe('renderTable on a terminal (Style.width)', () => {
  const why = 'ingress denied for both endpoints: default/allow-frontends selects the pod and its only rule does not match';

  it('wraps a last column that runs past the edge under itself, every line within the width', () => {
    const lines = renderTable(['stage', 'summary'], [['resolve', 'ok'], ['policy-ingress', why]], createStyle(false, 60)).split('\n');
    expect(lines).toEqual([
      'STAGE            SUMMARY',
      'resolve          ok',
      'policy-ingress   ingress denied for both endpoints:',
      '                 default/allow-frontends selects the pod and',
      '                 its only rule does not match',
    ]);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(60);
    // The words are all there, in order.
    expect(lines.slice(2).map((l) => l.slice(17)).join(' ')).toBe(why);
  });

  it('coloured: the same lines once the escapes are taken out', () => {
    const escape = String.fromCharCode(27);
    const coloured = renderTable(['stage', 'summary'], [['resolve', 'ok'], ['policy-ingress', createStyle(true).c.bold(why)]], createStyle(true, 60));
    const stripped = coloured.split('\n').map((l) => l.replaceAll(new RegExp(`${escape}\\[[0-9;]*m`, 'g'), ''));
    expect(stripped).toEqual(renderTable(['stage', 'summary'], [['resolve', 'ok'], ['policy-ingress', why]], createStyle(false, 60)).split('\n'));
  });

  it('leaves lines long where the last column would get too few columns, and without a width (a pipe)', () => {
    expect(renderTable(['a-very-long-first-column', 'b'], [['x'.repeat(40), why]], createStyle(false, 60)).split('\n')).toHaveLength(2);
    expect(renderTable(['stage', 'summary'], [['policy-ingress', why]], plain).split('\n')).toHaveLength(2);
  });
});

describe('wrapWords', () => {
  it('breaks at spaces; a word longer than the width keeps a line of its own', () => {
    expect(wrapWords('aa bb cc', 5)).toEqual(['aa bb', 'cc']);
    expect(wrapWords('a verylongword b', 4)).toEqual(['a', 'verylongword', 'b']);
    expect(wrapWords('short', 40)).toEqual(['short']);
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
