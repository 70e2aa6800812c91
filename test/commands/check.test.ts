import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/trace/checks.js';
import { examplesDir, fixturesDir, runKnet, runKnetJson } from '../support/cli.js';

const demo = join(examplesDir, 'demo');
const checksFile = join(examplesDir, 'knet-checks.yaml');
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'knet-check-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('knet check (built CLI) on the demo snapshot', () => {
  it('runs the example checks: the two planted faults fail, the rest pass, exit 1', async () => {
    const { json, code, stderr } = await runKnetJson<CheckReport>(['check', '-f', checksFile, '--snapshot', demo]);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(json.checks.map((c) => [c.name, c.kind, c.status])).toEqual([
      ['frontend reaches the backend', 'connect', 'pass'],
      ['only the backend reaches the database', 'connect', 'pass'],
      ['the backend reaches the database', 'connect', 'pass'],
      ['pods reach cluster DNS', 'connect', 'pass'],
      ['pod-a reaches xecho', 'connect', 'fail'],
      ['kube-dns has ready endpoints', 'endpoints', 'pass'],
      ['xecho has ready endpoints', 'endpoints', 'fail'],
      ['the frontend resolves the database', 'dns', 'pass'],
      ['a misspelt Service name does not resolve', 'dns', 'pass'],
      ['kube-proxy on kind-worker2 matches the API', 'rules', 'pass'],
      ['kube-proxy on kind-worker matches the API', 'rules', 'fail'],
    ]);
    expect(json.summary).toEqual({ total: 11, passed: 8, failed: 3, errors: 0 });
    expect(json.failures).toEqual(['pod-a reaches xecho', 'xecho has ready endpoints', 'kube-proxy on kind-worker matches the API']);
    expect(json.checks.find((c) => c.kind === 'rules' && c.status === 'fail')!.reason).toMatch(/stale-endpoint-rules: default\/legacy-db/);
    expect(json.checks.find((c) => c.name === 'a misspelt Service name does not resolve')).toMatchObject({ actual: 'nxdomain' });
    const podA = json.checks.find((c) => c.name === 'pod-a reaches xecho')!;
    expect(podA).toMatchObject({ actual: 'deny', line: 18 });
    expect(podA.reason).toMatch(/stops at policy-ingress/);
  });

  it('names every failure in the summary', async () => {
    const { stdout } = await runKnet(['check', '-f', checksFile, '--snapshot', demo]);
    expect(stdout).toMatch(/3 of 11 checks did not pass/);
    expect(stdout).toMatch(/✗ pod-a reaches xecho \(.*knet-checks\.yaml:18\): expected allow, found deny/);
    expect(stdout).toMatch(/✗ xecho has ready endpoints \(.*knet-checks\.yaml:24\): expected healthy, found unhealthy/);
  });

  it('exits 0 when every check passes, and writes a JUnit report that validates', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(file, 'checks:\n  - name: frontend reaches the backend\n    connect: { from: shop/frontend, to: svc/shop/backend, port: 80 }\n    expect: allow\n');
    const junit = join(dir, 'report.xml');
    const r = await runKnet(['check', '-f', file, '--snapshot', demo, '--junit', junit]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/All 1 check passed/);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain('<testcase name="frontend reaches the backend" classname="knet.check.connect"');
    if (spawnSync('xmllint', ['--version']).status === 0) {
      const v = spawnSync('xmllint', ['--noout', '--schema', join(fixturesDir, 'junit', 'junit.xsd'), junit], { encoding: 'utf8' });
      expect(v.stderr).toContain('validates');
    }
  });

  it('a check naming a pod that does not exist is an error of that check, not of the run', async () => {
    const file = join(dir, 'missing.yaml');
    await writeFile(file, 'checks:\n  - name: ghost\n    connect: { from: shop/ghost, to: svc/shop/backend, port: 80 }\n    expect: allow\n  - name: dns\n    endpoints: { service: kube-system/kube-dns }\n    expect: healthy\n');
    const { json, code } = await runKnetJson<CheckReport>(['check', '-f', file, '--snapshot', demo]);
    expect(code).toBe(1);
    expect(json.checks.map((c) => c.status)).toEqual(['error', 'pass']);
    expect(json.checks[0]!.reason).toMatch(/pod "ghost" not found in namespace shop/);
  });

  it('a dns check of a name no resolver looks up is an error, never a pass of expect: nxdomain', async () => {
    const file = join(dir, 'typo.yaml');
    await writeFile(file, 'checks:\n  - name: typo\n    dns: { name: db..shop }\n    expect: nxdomain\n');
    const { json, code } = await runKnetJson<CheckReport>(['check', '-f', file, '--snapshot', demo]);
    expect(code).toBe(1);
    expect(json.checks[0]).toMatchObject({ status: 'error' });
    expect(json.checks[0]!.reason).toMatch(/"db\.\.shop" is not a DNS name: it has an empty label/);
  });

  it('a malformed file is exit 2 with its line and what is wrong', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'checks:\n  - name: x\n    connect: { from: a, to: b }\n    expect: alow\n');
    const r = await runKnet(['check', '-f', file, '--snapshot', demo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:4: check "x": expect "alow" is not one of allow, deny/);
    const missing = await runKnet(['check', '-f', join(dir, 'nope.yaml'), '--snapshot', demo]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read checks file .*nope\.yaml: it does not exist/);
    // Said in words, not as an errno code.
    const directory = await runKnet(['check', '-f', dir, '--snapshot', demo]);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toMatch(/cannot read checks file .*: it is a directory/);
    expect(directory.stderr).not.toMatch(/EISDIR/);
  });

  it('a --junit file that cannot be written says why in words, exit 2', async () => {
    const r = await runKnet(['check', '-f', checksFile, '--snapshot', demo, '--junit', join(dir, 'no-such-dir', 'knet.xml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write --junit .*knet\.xml: its directory does not exist/);
    expect(r.stderr).not.toMatch(/ENOENT/);
  });
});
