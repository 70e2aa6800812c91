// `knet explain-policy` for people: the verdict and its reasons in full sentences, and the matrix as a
// grid. Everything printed here comes from the engine's result; nothing is re-derived.
import type { Finding } from '../model/finding.js';
import type { CompactMatrix } from '../policy/matrix.js';
import type { DirectionExplanation, MatrixCell, MatrixPort, PolicyExplanation, PolicyVerdict } from '../policy/types.js';
import { renderFindings } from './findings.js';
import type { Style } from './style.js';
import { layoutColumns } from './table.js';
import { yamlPieces, yamlScalar } from './yaml.js';

/** What `explain-policy --matrix` returns: the contract's `cells` (through toJSON) over a compact matrix. */
export interface PolicyMatrixReport extends CompactMatrix {
  findings: Finding[];
  toJSON(): { pods: string[]; ports: MatrixPort[]; cells: MatrixCell[]; findings: Finding[] };
}

function policyKey(p: PolicyExplanation): string {
  return p.namespace ? `${p.namespace}/${p.name}` : p.name;
}

function verdictWord(allowed: boolean, style: Style): string {
  return allowed ? style.status('ok', 'ALLOWED') : style.status('fail', 'DENIED');
}

/** One policy and, when it helps (a denial, or -o wide), each rule that did not match and why. */
function renderPolicyLines(p: PolicyExplanation, style: Style, isWide: boolean, showMisses: boolean, indent: string): string[] {
  const kind = p.kind === 'NetworkPolicy' ? '' : `${p.kind} `;
  const prio = p.priority !== undefined ? ` (priority ${p.priority})` : '';
  const head =
    p.rules.length === 0
      ? 'has no rules for this direction'
      : p.rule !== null
        ? `rule ${p.rule} matches`
        : p.rules.length === 1
          ? 'its only rule does not match'
          : `none of its ${p.rules.length} rules matches`;
  const lines = [`${indent}${kind}${style.c.bold(policyKey(p))}${prio}: ${head}`];
  if (isWide || (showMisses && p.rule === null)) {
    for (const r of p.rules) {
      if (!isWide && r.matched) continue;
      lines.push(`${indent}  ${r.matched ? style.status('ok', '✓') : style.status('fail', '✗')} ${r.summary}`);
    }
  }
  return lines;
}

function renderDirection(title: string, d: DirectionExplanation, style: Style, isWide: boolean): string[] {
  const lines = [`${style.c.bold(title)}: ${verdictWord(d.allowed, style)}`, `  ${d.reason}`];
  if (d.policies.length) {
    lines.push(`  Policies that select ${d.subject} for ${d.direction}:`);
    for (const p of d.policies) lines.push(...renderPolicyLines(p, style, isWide, !d.allowed, '    '));
  }
  if (isWide && d.steps.length) {
    lines.push('  Steps:');
    for (const s of d.steps) lines.push(`    ${style.c.dim(s.effect.padEnd(15))} ${s.message}`);
  }
  if (d.nearestMiss) lines.push(`  ${style.c.yellow('Nearest miss:')} ${d.nearestMiss.message}.`);
  return lines;
}

export function renderPolicyVerdict(v: PolicyVerdict, style: Style, isWide: boolean): string {
  const out: string[] = [];
  out.push(`${verdictWord(v.allowed, style)}  ${v.source.name} → ${v.destination.name} on ${v.protocol} port ${v.port}`);
  // Each direction prints its own reason below; a Service's summary of its endpoints has none there.
  if (v.service) out.push(v.reason);
  out.push('');
  if (v.service) {
    const s = v.service;
    out.push(`${style.c.bold(`Service ${s.namespace}/${s.name}`)} port ${s.port}/${s.protocol} → targetPort ${s.targetPort}; each endpoint pod is evaluated on its own:`);
    for (const e of s.endpoints) {
      out.push(`  ${verdictWord(e.allowed, style)}  ${e.destination.name} on port ${e.targetPort} (${e.targetPortFrom})`);
      if (!e.allowed || isWide) out.push(`      ${e.reason}`);
      const miss = e.ingress.nearestMiss ?? e.egress.nearestMiss;
      if (miss && !e.allowed) out.push(`      ${style.c.yellow('Nearest miss:')} ${miss.message}.`);
    }
    out.push('');
    if (!isWide) {
      if (v.findings.length) out.push(style.c.bold('Findings:'), renderFindings(v.findings, style, '  '));
      return out.join('\n').trimEnd();
    }
    out.push(style.c.dim(`Details for ${v.ingress.subject}:`));
  }
  out.push(...renderDirection(`Egress from ${v.egress.subject}`, v.egress, style, isWide), '');
  out.push(...renderDirection(`Ingress to ${v.ingress.subject}`, v.ingress, style, isWide));
  if (v.findings.length) out.push('', style.c.bold('Findings:'), renderFindings(v.findings, style, '  '));
  return out.join('\n').trimEnd();
}

/**
 * The matrix as one grid per port: rows are sources (from), columns destinations (to), numbered so that
 * wide namespaces fit; ✓ allowed, ✗ denied, · the pod itself (not defined by the API).
 */
export function renderPolicyMatrix(m: PolicyMatrixReport, style: Style): string {
  if (m.pods.length === 0) return 'No pods in scope: nothing to show. Use -n NAMESPACE, -A, or a looser --selector.';
  const n = m.pods.length;
  const marks = { self: style.c.dim('·'), yes: style.status('ok', '✓'), no: style.status('fail', '✗') };
  const numbers = m.pods.map((_, i) => String(i + 1));
  // Columns: the row's number, the source pod, then one column per destination; numbers right-aligned.
  const layout = { align: ['right', 'left', ...m.pods.map(() => 'right' as const)] as const, gap: ' ', gaps: [' ', '  '], indent: ' ' };
  const out: string[] = [];
  m.ports.forEach(({ port, protocol }, k) => {
    const allowed = m.allowed[k]!;
    let count = 0;
    for (let i = 0; i < allowed.length; i++) count += allowed[i]!;
    out.push(`${style.c.bold(`${protocol} port ${port}`)}: ${count} of ${n * (n - 1)} pairs allowed. Rows are sources (from), columns destinations (to).`);
    const rows: string[][] = [['', '', ...numbers]];
    m.pods.forEach((from, i) => {
      const row = [numbers[i]!, from];
      for (let j = 0; j < n; j++) row.push(i === j ? marks.self : allowed[i * n + j] ? marks.yes : marks.no);
      rows.push(row);
    });
    // One push per line: a spread of thousands of lines would exceed the argument limit.
    for (const line of layoutColumns(rows, layout)) out.push(line);
    out.push('');
  });
  out.push(style.c.dim('Legend: ✓ allowed, ✗ denied by policy, · the pod itself (not defined by the API). Ask why with: knet explain-policy FROM TO --port N'));
  if (m.findings.length) out.push('', style.c.bold('Findings:'), renderFindings(m.findings, style, '  '));
  return out.join('\n');
}

/**
 * The matrix as one JSON document, the same as JSON.stringify(report.toJSON()) but in chunks and with
 * one cell per line: a million cells never exist as objects, nor as one string.
 */
export function* renderPolicyMatrixJson(m: PolicyMatrixReport, chunkSize = 1 << 20): Generator<string> {
  const n = m.pods.length;
  const names = m.pods.map((p) => JSON.stringify(p));
  let buf = `{\n  "pods": ${JSON.stringify(m.pods)},\n  "ports": ${JSON.stringify(m.ports)},\n  "cells": [`;
  let first = true;
  for (let k = 0; k < m.ports.length; k++) {
    const { port, protocol } = m.ports[k]!;
    const tail = `,"port":${port},"protocol":${JSON.stringify(protocol)},"allowed":`;
    const allowed = m.allowed[k]!;
    for (let s = 0; s < n; s++) {
      const from = `{"from":${names[s]!},"to":`;
      for (let d = 0; d < n; d++) {
        if (s === d) continue;
        buf += `${first ? '\n    ' : ',\n    '}${from}${names[d]!}${tail}${allowed[s * n + d] ? 'true' : 'false'}}`;
        first = false;
        if (buf.length >= chunkSize) {
          yield buf;
          buf = '';
        }
      }
    }
  }
  buf += `${first ? '' : '\n  '}],\n  "findings": ${JSON.stringify(m.findings, null, 2).replace(/\n/g, '\n  ')}\n}\n`;
  yield buf;
}

/**
 * The matrix as one YAML document, the text the yaml package gives for report.toJSON(), as UTF-8 bytes
 * in chunks of about `chunkSize` (as renderPolicyMatrixJsonBytes). null when a pod's name is a scalar
 * renderYamlPieces leaves to the package (then the package renders toJSON()).
 */
export function renderPolicyMatrixYaml(m: PolicyMatrixReport, chunkSize = 1 << 20): Iterable<Uint8Array> | null {
  const names: string[] = [];
  for (const pod of m.pods) {
    const name = yamlScalar(pod);
    if (name === null) return null;
    names.push(name);
  }
  const protocols: string[] = [];
  for (const p of m.ports) {
    const protocol = yamlScalar(p.protocol);
    if (protocol === null) return null;
    protocols.push(protocol);
  }
  return matrixBytes(
    m,
    {
      head: (hasCells) => `${yamlPart({ pods: m.pods, ports: m.ports })}${hasCells ? 'cells:\n' : 'cells: []\n'}`,
      from: (s) => `  - from: ${names[s]!}\n    to: `,
      firstSkip: 0,
      to: (d, k, isAllowed) => `${names[d]!}\n    port: ${m.ports[k]!.port}\n    protocol: ${protocols[k]!}\n    allowed: ${isAllowed}\n`,
      tail: () => yamlPart({ findings: m.findings }),
    },
    chunkSize,
  );
}

/** A part of the document with its fields in order, as the package writes it. */
function yamlPart(part: Record<string, unknown>): string {
  return yamlPieces(part).join('');
}

/**
 * The same document as renderPolicyMatrixJson, as UTF-8 bytes in chunks of about `chunkSize`.
 */
export function renderPolicyMatrixJsonBytes(m: PolicyMatrixReport, chunkSize = 1 << 20): Generator<Uint8Array> {
  const names = m.pods.map((p) => JSON.stringify(p));
  return matrixBytes(
    m,
    {
      head: () => `{\n  "pods": ${JSON.stringify(m.pods)},\n  "ports": ${JSON.stringify(m.ports)},\n  "cells": [`,
      // The first cell of the document has no comma before it.
      from: (s) => `,\n    {"from":${names[s]!},"to":`,
      firstSkip: 1,
      to: (d, k, isAllowed) => `${names[d]!},"port":${m.ports[k]!.port},"protocol":${JSON.stringify(m.ports[k]!.protocol)},"allowed":${isAllowed}}`,
      tail: (hasCells) => `${hasCells ? '\n  ' : ''}],\n  "findings": ${JSON.stringify(m.findings, null, 2).replace(/\n/g, '\n  ')}\n}\n`,
    },
    chunkSize,
  );
}

/** How a matrix document is written: around its cells, and each cell as its source's part then its destination's. */
interface MatrixLayout {
  head(hasCells: boolean): string;
  /** A cell's text up to its destination, for source s. */
  from(s: number): string;
  /** Characters of from() left out before the document's first cell. */
  firstSkip: number;
  /** The rest of a cell: destination d on port k. */
  to(d: number, k: number, isAllowed: boolean): string;
  tail(hasCells: boolean): string;
}

/**
 * A matrix document as UTF-8 bytes in chunks of about `chunkSize`: each cell is two copies of bytes
 * encoded once (the source's part, and the destination's for allowed or denied), so a million cells
 * cost a million pairs of memory copies and no string at all.
 */
function* matrixBytes(m: PolicyMatrixReport, layout: MatrixLayout, chunkSize: number): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  const n = m.pods.length;
  const hasCells = n > 1 && m.ports.length > 0;
  let out = new Uint8Array(chunkSize);
  let off = 0;
  function* put(bytes: Uint8Array): Generator<Uint8Array> {
    if (off + bytes.length > out.length) {
      if (off > 0) yield out.subarray(0, off);
      // A new chunk each time: the one yielded may still be queued for writing.
      out = new Uint8Array(Math.max(chunkSize, bytes.length));
      off = 0;
    }
    out.set(bytes, off);
    off += bytes.length;
  }
  yield* put(encoder.encode(layout.head(hasCells)));
  let first = true;
  for (let k = 0; k < m.ports.length; k++) {
    const isAllowed = m.pods.map((_, d) => encoder.encode(layout.to(d, k, true)));
    const isDenied = m.pods.map((_, d) => encoder.encode(layout.to(d, k, false)));
    const allowed = m.allowed[k]!;
    for (let s = 0; s < n; s++) {
      const from = encoder.encode(layout.from(s));
      for (let d = 0; d < n; d++) {
        if (s === d) continue;
        const cell = allowed[s * n + d] ? isAllowed[d]! : isDenied[d]!;
        const prefix = first ? from.subarray(layout.firstSkip) : from;
        first = false;
        if (off + prefix.length + cell.length > out.length) {
          yield* put(prefix);
          yield* put(cell);
          continue;
        }
        out.set(prefix, off);
        off += prefix.length;
        out.set(cell, off);
        off += cell.length;
      }
    }
  }
  yield* put(encoder.encode(layout.tail(!first)));
  if (off > 0) yield out.subarray(0, off);
}
