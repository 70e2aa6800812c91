// The JUnit report is validated the way a CI system would read it: against an XML schema of the JUnit
// format (test/fixtures/junit/junit.xsd, after the Jenkins xUnit plugin's junit-10.xsd) with xmllint,
// and its counts are read back from the parsed document.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { renderJunit } from '../../src/render/junit.js';
import { summarizeChecks, type CheckResult } from '../../src/trace/checks.js';
import { fixturesDir } from '../support/cli.js';
import { describeNeeding } from '../support/needs.js';

const schema = join(fixturesDir, 'junit', 'junit.xsd');
const dir = mkdtempSync(join(tmpdir(), 'knet-junit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function validate(xml: string): { ok: boolean; stderr: string } {
  const file = join(dir, `r${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  const r = spawnSync('xmllint', ['--noout', '--schema', schema, file], { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: r.stderr };
}

const base = { kind: 'connect' as const, expect: 'allow', line: 3, ms: 12.5 };
const checks: CheckResult[] = [
  { ...base, name: 'frontend reaches the api', status: 'pass', actual: 'allow', reason: 'delivered' },
  { ...base, name: 'pod-a reaches <xecho> & "friends"', status: 'fail', actual: 'deny', reason: "dropped at node-rules: kube-proxy's rules are stale", details: { verdict: 'dropped' }, line: 7 },
  { ...base, kind: 'dns', expect: 'resolves', name: 'db resolves', status: 'error', actual: 'not judged', reason: 'pod "frontend" not found in namespace shop\u0007', line: 11 },
];
const report = summarizeChecks('knet-checks.yaml', 'snapshot examples/demo', checks);

describeNeeding({ commands: ['xmllint'] }, 'renderJunit against the JUnit schema', () => {
  it('validates against the JUnit schema', () => {
    const xml = renderJunit(report, { timestamp: '2026-12-01T15:00:00', hostname: 'ci-runner' });
    const r = validate(xml);
    expect(r.stderr).toContain('validates');
    expect(r.ok).toBe(true);
  });

  it('says one testcase per check, failures with their message, errors for checks not judged', () => {
    const xml = renderJunit(report);
    const xpath = (expr: string): string => execFileSync('xmllint', ['--xpath', expr, '-'], { input: xml, encoding: 'utf8' }).trim();
    expect(xpath('string(/testsuites/testsuite/@tests)')).toBe('3');
    expect(xpath('string(/testsuites/testsuite/@failures)')).toBe('1');
    expect(xpath('string(/testsuites/testsuite/@errors)')).toBe('1');
    expect(xpath('count(//testcase)')).toBe('3');
    expect(xpath('string(//testcase[failure]/@name)')).toBe('pod-a reaches <xecho> & "friends"');
    expect(xpath('string(//testcase/failure/@message)')).toBe("expected allow, found deny: dropped at node-rules: kube-proxy's rules are stale");
    expect(xpath('string(//testcase[error]/@classname)')).toBe('knet.check.dns');
    expect(xpath('string(//testcase[1]/@time)')).toBe('0.013');
  });

  it('the schema is strict enough to refuse a malformed report', () => {
    const xml = renderJunit(report);
    expect(validate(xml.replace('tests="3"', 'tests="three"')).ok).toBe(false);
    expect(validate(xml.replace('<testcase name="frontend reaches the api"', '<testcase title="x"')).ok).toBe(false);
    expect(validate(xml.replace('<testsuites', '<testsuitez').replace('</testsuites>', '</testsuitez>')).ok).toBe(false);
  });
});
