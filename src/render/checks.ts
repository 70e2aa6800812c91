// `knet check` for people: one line per check with its result and reason, then a summary that names
// every check that did not pass.
import type { CheckReport } from '../trace/checks.js';
import type { Style } from './style.js';
import { renderTable } from './table.js';

export function renderChecks(report: CheckReport, style: Style, isWide: boolean): string {
  const mark = (s: string): string => (s === 'pass' ? style.status('ok', '✓ pass') : s === 'fail' ? style.status('fail', '✗ fail') : style.status('warn', '⚠ error'));
  const rows = report.checks.map((c) => [mark(c.status), c.name, `${c.kind}: ${c.expect}`, isWide || c.status !== 'pass' ? c.reason : '']);
  const out = [renderTable(['result', 'check', 'expects', 'why'], rows, style), ''];
  const { total, passed, failed, errors } = report.summary;
  if (report.failures.length === 0) out.push(style.c.green.bold(`All ${total} check${total === 1 ? '' : 's'} passed`) + ` (${report.source}).`);
  else {
    out.push(style.c.red.bold(`${report.failures.length} of ${total} checks did not pass`) + ` (${passed} passed, ${failed} failed, ${errors} not judged; ${report.source}):`);
    for (const c of report.checks.filter((x) => x.status !== 'pass')) out.push(`  ${c.status === 'fail' ? '✗' : '⚠'} ${c.name} (${report.file}:${c.line}): ${c.status === 'fail' ? `expected ${c.expect}, found ${c.actual}` : 'not judged'}`);
  }
  return out.join('\n');
}
