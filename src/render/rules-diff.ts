// Human output of `knet rules diff`: one line that says whether the node matches the API, the Service
// ports that differ (all of them with -o wide), then the findings with what to do.
import type { RulesDiffReport } from '../netfilter/rules-diff/index.js';
import { renderFindings } from './findings.js';
import type { Style } from './style.js';
import { renderTable } from './table.js';

export interface RulesDiffResult extends RulesDiffReport {
  /** Where the node's rules were read from. */
  sources: string[];
}

const MODE_WORDS: Record<RulesDiffReport['mode'], string> = { iptables: 'iptables', nftables: 'nftables', ipvs: 'IPVS' };

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function renderRulesDiff(r: RulesDiffResult, style: Style, isWide: boolean): string {
  const { c } = style;
  const s = r.summary;
  const families = r.families.map((f) => `IPv${f}`).join(' and ') || 'no family';
  const where = `kube-proxy on ${r.node} (${MODE_WORDS[r.mode]} mode, ${families})`;
  const lines: string[] = [];
  if (s.servicePorts === 0) {
    lines.push(`${where}: no Service port to compare.`);
  } else if (s.isInSync) {
    lines.push(`${c.green('✓')} ${where} matches the API: ${plural(s.servicePorts, 'Service port')} in sync.`);
  } else {
    const parts = [`${s.inSync} in sync`];
    if (s.drifted > 0) parts.push(`${s.drifted} drifted`);
    if (s.stale > 0) parts.push(`${s.stale} no longer in the API`);
    const counts = [s.errors > 0 ? c.red(plural(s.errors, 'error')) : '', s.warnings > 0 ? c.yellow(plural(s.warnings, 'warning')) : ''].filter(Boolean).join(', ');
    lines.push(`${c.red.bold('✗')} ${where} differs from the API: ${plural(s.servicePorts, 'Service port')}, ${parts.join(', ')}; ${counts}.`);
  }
  lines.push(c.dim(`  rules: ${r.sources.join(', ')}`));
  const shown = isWide ? r.services : r.services.filter((p) => p.status !== 'in-sync');
  if (shown.length > 0) {
    const rows = shown.map((p) => {
      const status = p.status === 'in-sync' ? c.green('in sync') : p.status === 'stale' ? c.yellow('not in API') : c.red('drift');
      const codes = [...new Set(p.findings.map((f) => f.code))].join(', ') || '-';
      const port = p.port === null ? p.portName || '?' : p.portName ? `${p.portName} (${p.port})` : String(p.port);
      const row = [`${p.namespace}/${p.name}`, port, p.protocol, status, `${p.endpoints.programmed}/${p.endpoints.expected}`, codes];
      if (isWide) row.splice(3, 0, `IPv${p.family}`);
      return row;
    });
    const headers = ['service', 'port', 'proto', 'status', 'endpoints rules/api', 'findings'];
    if (isWide) headers.splice(3, 0, 'family');
    lines.push('', renderTable(headers, rows, style));
  }
  if (r.findings.length > 0) lines.push('', renderFindings(r.findings, style));
  if (isWide) {
    lines.push('', c.dim('Assumed:'));
    for (const a of r.assumptions) lines.push(c.dim(`  - ${a}`));
  }
  return lines.join('\n');
}
