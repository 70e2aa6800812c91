// JUnit XML, the report format CI systems read (Jenkins, GitLab, GitHub test-report actions): one
// <testcase> per check, a <failure> with its message when the expectation was not met, an <error> when
// the check could not be judged. Only formats the report; `time` and `timestamp` come from it.
import type { CheckReport } from '../trace/checks.js';

/** Text safe in XML 1.0 attributes and content: escaped, and without the control characters XML forbids. */
function xml(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex -- removing exactly the characters XML 1.0 cannot carry
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

export interface JunitOptions {
  /** ISO 8601 time the run started (without a zone designator it is read as local time). */
  timestamp?: string;
  hostname?: string;
}

export function renderJunit(report: CheckReport, options: JunitOptions = {}): string {
  const total = report.checks.reduce((s, c) => s + c.ms, 0);
  const { total: tests, failed, errors } = report.summary;
  const suite = `knet check ${report.file}`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="knet check" tests="${tests}" failures="${failed}" errors="${errors}" time="${seconds(total)}">`,
    `  <testsuite name="${xml(suite)}" tests="${tests}" failures="${failed}" errors="${errors}" skipped="0" time="${seconds(total)}"${options.timestamp ? ` timestamp="${xml(options.timestamp)}"` : ''}${options.hostname ? ` hostname="${xml(options.hostname)}"` : ''} file="${xml(report.file)}">`,
    '    <properties>',
    `      <property name="source" value="${xml(report.source)}"/>`,
    '    </properties>',
  ];
  for (const c of report.checks) {
    const open = `    <testcase name="${xml(c.name)}" classname="knet.check.${c.kind}" time="${seconds(c.ms)}" file="${xml(report.file)}" line="${c.line}"`;
    if (c.status === 'pass') {
      lines.push(`${open}/>`);
      continue;
    }
    const tag = c.status === 'fail' ? 'failure' : 'error';
    const message = c.status === 'fail' ? `expected ${c.expect}, found ${c.actual}: ${c.reason}` : c.reason;
    lines.push(`${open}>`, `      <${tag} message="${xml(message)}" type="${xml(c.status === 'fail' ? `expect-${c.expect}` : 'not-judged')}">${xml([message, ...(c.details ? [JSON.stringify(c.details, null, 2)] : [])].join('\n\n'))}</${tag}>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
