import type { EndpointsReport, ServiceEndpoints } from '../endpoints/diff.js';
import { formatSelector } from '../model/labels.js';
import { renderFindings } from './findings.js';
import type { Style } from './style.js';
import { renderTable } from './table.js';

function status(s: ServiceEndpoints, style: Style): string {
  const errors = s.findings.filter((f) => f.severity === 'error').length;
  const warnings = s.findings.filter((f) => f.severity === 'warning').length;
  if (errors) return style.severity('error', `${errors} error${errors > 1 ? 's' : ''}`) + (warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : '');
  if (warnings) return style.severity('warning', `${warnings} warning${warnings > 1 ? 's' : ''}`);
  return style.status('ok');
}

function ports(s: ServiceEndpoints): string {
  return s.ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}→${p.targetPort}/${p.protocol}`).join(',') || '<none>';
}

export function renderEndpoints(report: EndpointsReport, style: Style, isWide: boolean): string {
  if (report.services.length === 0) return 'No services found in scope (use -n NAMESPACE or -A).';
  const headers = ['namespace', 'service', 'type', 'selector', 'ready', 'not ready', 'pods', 'status'];
  if (isWide) {
    headers.splice(4, 0, 'ports');
    headers.push('endpoints');
  }
  const rows = report.services.map((s) => {
    const row = [
      s.namespace,
      s.name,
      s.isHeadless ? `${s.type} (headless)` : s.type,
      s.selector ? formatSelector(s.selector) : '<none>',
      String(s.endpoints.ready.length),
      String(s.endpoints.notReady.length + s.endpoints.terminating.length),
      s.selector ? `${s.pods.ready}/${s.pods.selected}` : '-',
      status(s, style),
    ];
    if (isWide) {
      row.splice(4, 0, ports(s));
      row.push(s.endpoints.ready.join(',') || '<none>');
    }
    return row;
  });
  const parts = [renderTable(headers, rows, style)];
  const withFindings = report.services.filter((s) => s.findings.some((f) => f.severity !== 'info' || isWide));
  for (const s of withFindings) {
    const shown = isWide ? s.findings : s.findings.filter((f) => f.severity !== 'info');
    parts.push(`\n${style.c.bold(`${s.namespace}/${s.name}`)}\n${renderFindings(shown, style, '  ')}`);
  }
  const { summary } = report;
  const infos = summary.infos && !isWide ? ` (${summary.infos} info, shown with -o wide)` : '';
  parts.push(
    `\n${summary.services} service${summary.services === 1 ? '' : 's'}: ` +
      `${summary.servicesWithErrors ? style.severity('error', `${summary.servicesWithErrors} with errors`) : style.status('ok', 'none with errors')}, ` +
      `${summary.errors} error${summary.errors === 1 ? '' : 's'}, ${summary.warnings} warning${summary.warnings === 1 ? '' : 's'}${infos}.`,
  );
  for (const note of report.notes) parts.push(style.c.dim(`Note: ${note}`));
  return parts.join('\n');
}
