import type { DnsAllReport, DnsAnswer, DnsReport, TriedQuery } from '../dns/types.js';
import { renderFindings } from './findings.js';
import type { Style } from './style.js';
import { renderTable } from './table.js';

function answerText(answers: DnsAnswer[], fqdn: string): string {
  if (!answers.length) return '-';
  return answers
    .map((a) => (a.name === fqdn && (a.type === 'A' || a.type === 'AAAA') ? a.data : `${a.type} ${a.data}`))
    .sort()
    .join('\n');
}

function rcodeText(q: TriedQuery, style: Style): string {
  if (q.rcode === 'NOERROR') return style.status('ok', q.answers.length ? 'NOERROR' : 'NODATA');
  if (q.rcode === 'NXDOMAIN') return style.status('warn', 'NXDOMAIN');
  if (q.rcode === 'UNKNOWN') return style.status('skip', 'UNKNOWN');
  return style.status('fail', q.rcode);
}

function outcomeText(r: DnsReport, style: Style): string {
  switch (r.outcome) {
    case 'resolves':
      return style.status('ok', 'resolves');
    case 'unknown':
      return style.status('skip', 'unknown');
    default:
      return style.status('fail', r.outcome);
  }
}

/** One name: the resolver's plan, every query in order, the records the API implies, the findings. */
export function renderDnsReport(r: DnsReport, style: Style, isWide: boolean): string {
  const parts: string[] = [];
  const from = r.from ? `pod ${r.from}` : 'a pod in the namespace (none given)';
  parts.push(`${style.c.bold(r.name)} ${r.type} from ${from}: dnsPolicy ${r.dnsPolicy}, ndots ${r.ndots}${r.nameservers.length ? `, nameserver ${r.nameservers.join(', ')}` : ''}`);
  parts.push(`search: ${r.searchList.length ? r.searchList.join(' ') : '(none)'}`);
  if (r.judgedFrom === 'api') parts.push(style.c.yellow('No DNS server was asked: judged from the records the API implies (give --server HOST:PORT to ask one).'));
  parts.push('');
  const headers = ['#', 'name tried', 'server', 'rcode', 'answers', ...(r.judgedFrom === 'servers' ? ['ms'] : [])];
  const rows = r.tried.map((q, i) => {
    const n = r.servers.length > 1 ? String(r.tried.filter((t, j) => j <= i && t.server === q.server).length) : String(i + 1);
    const row = [n, q.fqdn, q.server ?? '(API)', rcodeText(q, style), q.error && isWide ? `${answerText(q.answers, q.fqdn)} (${q.error})` : answerText(q.answers, q.fqdn)];
    if (r.judgedFrom === 'servers') row.push(q.ms === null ? '-' : `${q.ms}${q.isTcp ? ' tcp' : ''}`);
    return row;
  });
  parts.push(renderTable(headers, rows, style));
  parts.push('');
  if (r.expected.length) {
    parts.push(style.c.bold(`The API implies for ${r.resolvedAs ?? r.expected[0]!.name}:`));
    parts.push(renderTable(['type', 'data', 'from'], r.expected.map((e) => [e.type, e.data, e.from]), style));
  } else {
    parts.push(style.c.bold(`The API implies no ${r.type} record for any of these names.`));
  }
  const shown = r.findings.filter((f) => isWide || f.severity !== 'info' || r.findings.length <= 3);
  if (shown.length) parts.push('', renderFindings(shown, style));
  for (const note of isWide ? r.notes : []) parts.push(style.c.dim(`Note: ${note}`));
  // "as X" only where the search list made the name into another (a PTR name or an FQDN resolves as itself).
  const isOther = r.resolvedAs !== null && r.resolvedAs.replace(/\.$/, '') !== r.name.replace(/\.$/, '');
  parts.push('', `${r.name}: ${outcomeText(r, style)}${isOther ? ` as ${r.resolvedAs}` : ''}.`);
  return parts.join('\n');
}

/** `--all`: one row per name, then the findings of the names that have any. */
export function renderDnsAll(report: DnsAllReport, style: Style, isWide: boolean): string {
  if (!report.names.length) return 'No Service or hostname.subdomain name in scope (use -n NAMESPACE or -A).';
  const problems = report.names.filter((r) => r.findings.some((f) => f.severity !== 'info' || isWide));
  const rows = (isWide ? report.names : problems).map((r) => {
    const errors = r.findings.filter((f) => f.severity === 'error').length;
    const servers = r.judgedFrom === 'api' ? '(API)' : String(r.servers.length);
    const ms = r.tried.map((q) => q.ms).filter((m): m is number => m !== null);
    return [r.name, r.type, outcomeText(r, style), servers, ms.length ? String(Math.max(...ms)) : '-', errors ? style.severity('error', `${errors} error${errors > 1 ? 's' : ''}`) : style.status('ok')];
  });
  const parts: string[] = [];
  if (rows.length) parts.push(renderTable(['name', 'type', 'outcome', 'servers', 'max ms', 'status'], rows, style));
  for (const r of problems) {
    const shown = isWide ? r.findings : r.findings.filter((f) => f.severity !== 'info');
    parts.push(`\n${style.c.bold(r.name)}\n${renderFindings(shown, style, '  ')}`);
  }
  const s = report.summary;
  const judged = report.names[0]?.judgedFrom === 'api' ? 'the API\'s records (no DNS server was asked)' : `${s.servers} server${s.servers === 1 ? '' : 's'}, ${s.queries} queries`;
  parts.push(
    `\n${s.names} name${s.names === 1 ? '' : 's'} checked against ${judged}: ${s.resolves} resolve, ` +
      `${s.failing ? style.severity('error', `${s.failing} with errors`) : style.status('ok', 'none with errors')} (${s.errors} error${s.errors === 1 ? '' : 's'}, ${s.warnings} warning${s.warnings === 1 ? '' : 's'}).` +
      (isWide || !s.names ? '' : ' -o wide lists every name.'),
  );
  return parts.join('\n').replace(/^\n/, '');
}
