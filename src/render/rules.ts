// Human output of `knet rules trace` and `knet rules show`: an explanation first, the rules after.
import type { KubeServicePort, KubeView } from '../netfilter/iptables/kube-view.js';
import type { TraceExplanation } from '../netfilter/iptables/explain.js';
import type { Outcome, TraceResult } from '../netfilter/types.js';
import { renderFindings } from './findings.js';
import type { Style } from './style.js';
import { renderTable } from './table.js';
import { joinHostPort } from '../model/ip.js';

export interface RulesTraceReport extends TraceResult {
  file: string;
  explanation: TraceExplanation;
}

export interface RulesShowReport {
  file: string;
  format: string;
  servicePorts: KubeServicePort[];
  findings: KubeView['findings'];
}

function percent(p: number): string {
  const v = p * 100;
  if (v === 100 || v === 0) return `${v}%`;
  return `${Number(v.toFixed(v < 1 ? 4 : 2))}%`;
}

function verdictWord(o: Outcome): string {
  switch (o.verdict) {
    case 'accept':
      return 'accepted';
    case 'drop':
      return 'dropped';
    case 'reject':
      return 'rejected';
    default:
      return 'unknown';
  }
}

function colourVerdict(style: Style, verdict: string, text = verdict): string {
  if (verdict === 'accept' || verdict === 'accepted') return style.c.green(text);
  if (verdict === 'unknown') return style.c.yellow(text);
  return style.c.red.bold(text);
}

export function renderRulesTrace(r: RulesTraceReport, style: Style, isWide: boolean): string {
  const { c } = style;
  const p = r.packet;
  const lines: string[] = [];
  const target = p.dport === undefined ? p.dst : joinHostPort(p.dst, p.dport);
  const what = r.explanation.destination ? `${r.explanation.destination.role} ${target} (${r.explanation.destination.servicePortName})` : target;
  const from = `${p.protocol.toUpperCase()} from ${p.sport === undefined ? p.src : joinHostPort(p.src, p.sport)}${p.hook === 'output' ? ' (sent by the node)' : ''}`;

  const dnats = r.outcomes.filter((o) => o.dnat !== null && o.verdict === 'accept');
  let summary: string;
  if (dnats.length > 0 && dnats.length === r.outcomes.length) {
    const list = dnats.map((o) => `${o.dnat} ${percent(o.probability)}`).join(', ');
    summary = `${what} → ${dnats.length} endpoint${dnats.length === 1 ? '' : 's'}: ${list}`;
  } else if (r.outcomes.length === 1) {
    const o = r.outcomes[0]!;
    const by = r.explanation.outcomes[0]?.decidedBy;
    const nm = o.notModelled;
    summary = nm
      ? `${what} → unknown: ${nm.table} ${nm.chain} line ${nm.line} decides it, and knet does not model it (${nm.reason})`
      : `${what} → ${verdictWord(o)}${o.dnat ? ` after DNAT to ${o.dnat}` : ''}${by ? ` by ${by.table} ${by.chain} line ${by.line} ("${by.text}")` : o.verdict === 'accept' ? ' (no rule stopped it; chain policies accept)' : ''}`;
  } else {
    summary = `${what} → ${r.outcomes.length} outcomes`;
  }
  lines.push(`${c.bold(summary)}`);
  lines.push(`  ${from}; verdict: ${colourVerdict(style, r.verdict, r.verdict.toUpperCase())}`);
  const masq = r.explanation.outcomes.map((e) => e.masqueradedBy).find((m) => m !== null);
  if (masq) lines.push(`  masqueraded because ${masq.table} ${masq.chain} line ${masq.line} matched ("${masq.text}")`);
  else if (r.outcomes.some((o) => o.dnat !== null)) lines.push('  not masqueraded: the endpoint sees the client\'s own address');
  lines.push('');

  r.outcomes.forEach((o, i) => {
    const e = r.explanation.outcomes[i];
    const head = [`${percent(o.probability).padStart(7)}`, colourVerdict(style, o.verdict, verdictWord(o).padEnd(8))];
    if (o.dnat) head.push(`DNAT to ${o.dnat}${e?.endpointOf ? ` (endpoint of ${e.endpointOf})` : ''}`);
    if (o.masquerade) head.push('masqueraded');
    if (o.notModelled) head.push(c.yellow(`not modelled: ${o.notModelled.reason} (${o.notModelled.table} ${o.notModelled.chain} line ${o.notModelled.line})`));
    lines.push(head.join('  '));
    const showPath = isWide || r.outcomes.length <= 4;
    if (showPath) {
      for (const s of o.path) {
        const where = `${s.table} ${s.chain}`;
        lines.push(c.dim(`          ${String(s.line).padStart(6)}  ${where.padEnd(34)} ${s.effect ?? ''}`));
        if (isWide) lines.push(c.dim(`                  ${s.rule}`));
      }
    }
  });
  if (!isWide && r.outcomes.length > 4) lines.push(c.dim('  (rules of each outcome: -o wide, or --json)'));
  lines.push('');
  lines.push(c.dim('Assumed:'));
  for (const a of r.assumptions) lines.push(c.dim(`  - ${a}`));
  if (r.findings.length > 0) {
    lines.push('');
    lines.push(renderFindings(r.findings, style));
  }
  return lines.join('\n');
}

function endpointsCell(sp: KubeServicePort): string {
  if (sp.endpoints.length === 0) {
    const rule = sp.noEndpoints[0];
    return rule ? `none (${rule.verdict.toUpperCase()})` : 'none';
  }
  return sp.endpoints.map((e) => `${e.address} ${percent(e.probability)}`).join(', ');
}

export function renderRulesShow(r: RulesShowReport, style: Style, isWide: boolean): string {
  if (r.servicePorts.length === 0) return 'No Service rules of kube-proxy found in this dump.';
  const headers = ['service port', 'proto', 'cluster ip', 'endpoints', 'node ports', 'policy (int/ext)', 'notes'];
  if (isWide) headers.push('external / lb ips', 'chains');
  const rows = r.servicePorts.map((sp) => {
    const notes: string[] = [];
    if (sp.affinitySeconds !== null) notes.push(`ClientIP affinity ${sp.affinitySeconds}s`);
    if (sp.loadBalancerSourceRanges.length > 0) notes.push(`LB source ranges ${sp.loadBalancerSourceRanges.join(',')}`);
    if (sp.internalTrafficPolicy === 'Local') notes.push(`local endpoints: ${sp.localEndpoints.length === 0 ? 'none' : sp.localEndpoints.map((e) => `${e.address} ${percent(e.probability)}`).join(', ')}`);
    for (const n of sp.noEndpoints) notes.push(`${n.verdict.toUpperCase()} ${n.destination}: ${n.reason}`);
    if (sp.healthCheckNodePort !== null) notes.push(`health check ${sp.healthCheckNodePort}`);
    if (sp.nameSource === 'hash') notes.push('named from the chain hash');
    const row = [
      sp.servicePortName,
      sp.protocol,
      sp.clusterIPs.join(',') || '-',
      sp.endpoints.length === 0 ? style.c.red(endpointsCell(sp)) : endpointsCell(sp),
      sp.nodePorts.join(',') || '-',
      `${sp.internalTrafficPolicy}/${sp.externalTrafficPolicy ?? '-'}`,
      notes.join('; ') || '-',
    ];
    if (isWide) row.push([...sp.externalIPs, ...sp.loadBalancerIPs].join(',') || '-', Object.values(sp.chains).join(',') || '-');
    return row;
  });
  const out = [renderTable(headers, rows, style)];
  if (r.findings.length > 0) out.push('', renderFindings(r.findings, style));
  return out.join('\n');
}
