// `knet trace` for people (a hop table, the branches, the first failure and its remedy) and as
// pictures of the path (Graphviz DOT, Mermaid). Only formats the report; never re-judges it.
import { joinHostPort } from '../model/ip.js';
import { percent as formatProbability } from '../trace/trace.js';
import type { Branch, Hop, HopStatus, TraceReport } from '../trace/types.js';
import { renderFindings } from './findings.js';
import type { Style } from './style.js';
import { renderTable } from './table.js';

const MARK: Record<HopStatus, string> = { ok: '✓', fail: '✗', warn: '⚠', skip: '–' };

function mark(style: Style, status: HopStatus): string {
  return style.status(status, MARK[status]);
}

function verdictLine(r: TraceReport, style: Style): string {
  const v = r.verdict === 'delivered' ? style.c.green.bold('DELIVERED') : r.verdict === 'unknown' ? style.c.yellow.bold('UNKNOWN') : style.c.red.bold(r.verdict.toUpperCase());
  const reach = r.branches.length > 0 && r.reachable.of > 0
    ? ` — ${r.reachable.endpoints} of ${r.reachable.of} endpoint${r.reachable.of === 1 ? '' : 's'} reachable${r.reachable.probability !== null && r.reachable.of > 1 ? ` (${formatProbability(r.reachable.probability)} of new connections)` : ''}`
    : '';
  return `${v}${reach}`;
}

function header(r: TraceReport): string {
  // An IPv6 destination with a port is written [ADDRESS]:PORT.
  return `${r.src.name} → ${r.port !== null ? joinHostPort(r.dst.name, r.port) : r.dst.name}/${r.protocol}`;
}

export function renderTraceText(r: TraceReport, style: Style, isWide: boolean): string {
  const out: string[] = [header(r), ''];
  const failed = r.firstFailure?.stage;
  const rows = r.hops.map((h) => {
    const isFirst = h.stage === failed;
    const summary = isFirst ? style.c.bold(h.summary) : h.summary;
    return [mark(style, h.status), isFirst ? style.c.red.bold(h.stage) : h.stage, summary];
  });
  out.push(renderTable(['', 'stage', 'summary'], rows, style));
  if (isWide) {
    for (const h of r.hops.filter((x) => x.evidence.length > 0)) {
      out.push('', style.c.bold(`${h.stage}:`), ...h.evidence.map((e) => `  ${e}`));
    }
  }
  if (r.branches.length > 1 || r.branches.some((b) => b.verdict !== 'delivered')) {
    out.push('', renderTable(['endpoint', 'pod', 'node', 'share', 'verdict', 'stops at'], r.branches.map((b) => branchRow(b, style)), style));
  }
  out.push('', verdictLine(r, style));
  if (r.firstFailure) {
    out.push(`${style.c.red.bold('Stops at')} ${r.firstFailure.stage}${r.firstFailure.endpoint ? ` (endpoint ${r.firstFailure.endpoint})` : ''}: ${r.firstFailure.summary}`);
    if (r.firstFailure.remedy) out.push(`${style.c.bold('Fix:')} ${r.firstFailure.remedy}`);
  }
  const skipped = r.hops.filter((h) => h.status === 'skip');
  if (skipped.length > 0) {
    out.push('', style.c.gray(`Not judged: ${skipped.map((h) => h.stage).join(', ')}.`));
    for (const h of skipped) if (h.remedy) out.push(style.c.gray(`  ${h.stage}: ${h.remedy}`));
  }
  // The verdict's own findings are the lines above; a probe that disagrees is news and is shown.
  const other = r.findings.filter((f) => !f.code.startsWith('trace-') || f.code === 'trace-probe-disagrees');
  if (other.length > 0) out.push('', renderFindings(other, style));
  if (!isWide && r.hops.some((h) => h.evidence.length > 0)) out.push('', style.c.gray('Evidence for each hop: -o wide, or --json.'));
  return out.join('\n');
}

function branchRow(b: Branch, style: Style): string[] {
  const stop = b.hops.find((h) => h.status === 'fail') ?? b.hops.find((h) => h.status === 'warn');
  const verdict = b.verdict === 'delivered' ? style.c.green(b.verdict) : b.verdict === 'unknown' ? style.c.yellow(b.verdict) : style.c.red(b.verdict);
  return [b.endpoint, b.pod ?? '-', b.node ?? '-', b.probability === null ? '-' : formatProbability(b.probability), verdict, stop ? `${stop.stage}: ${stop.summary}` : '-'];
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const DOT_COLOR: Record<HopStatus, string> = { ok: 'darkgreen', warn: 'orange', fail: 'red', skip: 'gray' };

/** Graphviz: the hops in a row, then one lane per endpoint; `dot -Tsvg` draws it. */
export function renderTraceDot(r: TraceReport): string {
  const lines = ['digraph knet_trace {', '  rankdir=LR;', '  node [shape=box, style=rounded, fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];'];
  lines.push(`  src [label=${quote(r.src.name)}, shape=ellipse];`);
  let prev = 'src';
  const node = (id: string, h: Hop): void => {
    lines.push(`  ${quote(id)} [label=${quote(`${MARK[h.status]} ${h.stage}\n${wrap(h.summary)}`)}, color=${DOT_COLOR[h.status]}${h.status === 'fail' ? ', penwidth=2' : ''}];`);
  };
  const perBranch = new Set(r.branches.flatMap((b) => b.hops.map((h) => h.stage)));
  const shared = r.hops.filter((h) => !perBranch.has(h.stage) || r.branches.length === 0);
  const before = shared.filter((h) => ['resolve', 'service', 'endpoints'].includes(h.stage));
  const after = shared.filter((h) => !['resolve', 'service', 'endpoints'].includes(h.stage));
  for (const h of before) {
    node(h.stage, h);
    lines.push(`  ${quote(prev)} -> ${quote(h.stage)};`);
    prev = h.stage;
  }
  const ends: string[] = [];
  r.branches.forEach((b, i) => {
    let last = prev;
    for (const h of b.hops) {
      const id = `b${i}-${h.stage}`;
      node(id, h);
      lines.push(`  ${quote(last)} -> ${quote(id)}${last === prev && b.probability !== null ? ` [label=${quote(formatProbability(b.probability))}]` : ''};`);
      last = id;
    }
    const end = `b${i}-endpoint`;
    lines.push(`  ${quote(end)} [label=${quote(`${b.endpoint}${b.pod ? `\n${b.pod}` : ''}\n${b.verdict}`)}, shape=ellipse, color=${b.verdict === 'delivered' ? 'darkgreen' : 'red'}];`);
    lines.push(`  ${quote(last)} -> ${quote(end)};`);
    ends.push(end);
  });
  let tail = ends.length ? ends : [prev];
  for (const h of after) {
    node(h.stage, h);
    for (const t of tail) lines.push(`  ${quote(t)} -> ${quote(h.stage)} [style=dashed];`);
    tail = [h.stage];
  }
  lines.push(`  verdict [label=${quote(r.verdict)}, shape=doubleoctagon, color=${r.verdict === 'delivered' ? 'darkgreen' : 'red'}];`);
  for (const t of tail) lines.push(`  ${quote(t)} -> verdict;`);
  lines.push('}');
  return lines.join('\n');
}

function wrap(s: string, width = 48): string {
  const words = s.split(' ');
  const out: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + w.length + 1 > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
    if (out.length >= 3) break;
  }
  if (line && out.length < 4) out.push(line);
  return out.join('\n');
}

/** Mermaid flowchart (GitHub renders it in Markdown): the same picture as the DOT output. */
export function renderTraceMermaid(r: TraceReport): string {
  const lines = ['flowchart LR'];
  const text = (s: string): string => `"${s.replace(/"/g, '#quot;').replace(/\n/g, '<br/>')}"`;
  const cls: string[] = [];
  const node = (id: string, h: Hop): void => {
    lines.push(`  ${id}[${text(`${MARK[h.status]} ${h.stage}<br/>${h.summary.length > 90 ? `${h.summary.slice(0, 87)}...` : h.summary}`)}]`);
    cls.push(`  class ${id} ${h.status}`);
  };
  lines.push(`  src([${text(r.src.name)}])`);
  let prev = 'src';
  const perBranch = new Set(r.branches.flatMap((b) => b.hops.map((h) => h.stage)));
  const shared = r.hops.filter((h) => !perBranch.has(h.stage) || r.branches.length === 0);
  const id = (s: string): string => s.replace(/[^a-zA-Z0-9]/g, '_');
  const before = shared.filter((h) => ['resolve', 'service', 'endpoints'].includes(h.stage));
  const after = shared.filter((h) => !['resolve', 'service', 'endpoints'].includes(h.stage));
  for (const h of before) {
    node(id(h.stage), h);
    lines.push(`  ${prev} --> ${id(h.stage)}`);
    prev = id(h.stage);
  }
  const ends: string[] = [];
  r.branches.forEach((b, i) => {
    let last = prev;
    for (const h of b.hops) {
      const n = `b${i}_${id(h.stage)}`;
      node(n, h);
      lines.push(`  ${last} -->${last === prev && b.probability !== null ? `|${formatProbability(b.probability)}|` : ''} ${n}`);
      last = n;
    }
    const end = `b${i}_endpoint`;
    lines.push(`  ${end}([${text(`${b.endpoint}${b.pod ? `<br/>${b.pod}` : ''}<br/>${b.verdict}`)}])`);
    lines.push(`  ${last} --> ${end}`);
    cls.push(`  class ${end} ${b.verdict === 'delivered' ? 'ok' : 'fail'}`);
    ends.push(end);
  });
  let tail = ends.length ? ends : [prev];
  for (const h of after) {
    node(id(h.stage), h);
    for (const t of tail) lines.push(`  ${t} -.-> ${id(h.stage)}`);
    tail = [id(h.stage)];
  }
  lines.push(`  verdict{{${text(r.verdict)}}}`);
  for (const t of tail) lines.push(`  ${t} --> verdict`);
  cls.push(`  class verdict ${r.verdict === 'delivered' ? 'ok' : 'fail'}`);
  lines.push(
    '  classDef ok stroke:#2e7d32,stroke-width:2px',
    '  classDef warn stroke:#ef6c00,stroke-width:2px',
    '  classDef fail stroke:#c62828,stroke-width:3px',
    '  classDef skip stroke:#9e9e9e,stroke-dasharray:4',
    ...cls,
  );
  return lines.join('\n');
}
