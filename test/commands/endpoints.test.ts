import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointsReport } from '../../src/endpoints/diff.js';
import { examplesDir, runKnet, runKnetJson } from '../support/cli.js';

const demo = join(examplesDir, 'demo');
/** The escape character that starts every ANSI colour sequence. */
const ESC = String.fromCharCode(27);

describe('knet endpoints (built CLI) on the demo snapshot', () => {
  it('finds every planted fault with its code, and exits 1', async () => {
    const { json, code, stderr } = await runKnetJson<EndpointsReport>(['endpoints', '-A', '--snapshot', demo]);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    const found = Object.fromEntries(json.services.map((s) => [`${s.namespace}/${s.name}`, s.findings.map((f) => f.code).sort()]));
    expect(found).toMatchObject({
      'default/xecho': ['ready-pod-missing'],
      'default/backend': ['selector-matches-nothing'],
      'default/headless': ['not-ready-pod-serving', 'slices-disagree'],
      'default/web': ['no-ready-endpoints', 'target-port-unresolved'],
      'default/api': ['stale-endpoint'],
      'default/payments': ['no-ready-endpoints', 'terminating-endpoint'],
      'default/legacy-db': ['no-selector'],
      'default/kubernetes': ['no-selector'],
      'default/ext-db': ['external-name'],
      'kube-system/kube-dns': [],
    });
    const xecho = json.services.find((s) => s.name === 'xecho')!;
    expect(xecho).toMatchObject({ type: 'NodePort', selector: { app: 'xecho' }, endpoints: { ready: ['10.244.1.5', '10.244.2.6'], notReady: [] } });
    expect(xecho.findings[0]).toMatchObject({ severity: 'error', pod: 'default/xecho-6b8f9c7d5-rx2lt', ip: '10.244.1.7' });
  });

  it('exits 0 when the Services in scope are healthy', async () => {
    const { code, stdout } = await runKnet(['endpoints', '-n', 'kube-system', '--snapshot', demo]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/kube-dns/);
    expect(stdout).not.toMatch(/xecho/);
  });

  it('checks one Service by reference, in any of the accepted forms', async () => {
    for (const ref of ['xecho', 'svc/xecho', 'svc/default/xecho', 'xecho.default']) {
      const { json } = await runKnetJson<EndpointsReport>(['endpoints', ref, '--snapshot', demo]);
      expect(json.services.map((s) => s.name)).toEqual(['xecho']);
    }
    const { json } = await runKnetJson<EndpointsReport>(['endpoints', 'kube-dns', '-n', 'kube-system', '--snapshot', demo]);
    expect(json.services.map((s) => s.name)).toEqual(['kube-dns']);
  });

  it('prints a table people read, without colour when stdout is not a terminal', async () => {
    const { stdout, code } = await runKnet(['endpoints', '--snapshot', demo]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^NAMESPACE\s+SERVICE\s+TYPE/m);
    expect(stdout).toMatch(/ERROR\s+ready-pod-missing: pod xecho-6b8f9c7d5-rx2lt/);
    expect(stdout).toMatch(/→ /);
    expect(stdout.includes(ESC)).toBe(false);
  });

  it('colours only when asked and not told otherwise', async () => {
    expect((await runKnet(['endpoints', '--snapshot', demo], { env: { FORCE_COLOR: '1' } })).stdout.includes(ESC)).toBe(true);
    expect((await runKnet(['endpoints', '--snapshot', demo, '--no-color'], { env: { FORCE_COLOR: '1' } })).stdout.includes(ESC)).toBe(false);
    expect((await runKnet(['endpoints', '--snapshot', demo], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout.includes(ESC)).toBe(false);
  });

  it('prints YAML with -o yaml and the same document as --json with -o json', async () => {
    const yaml = await runKnet(['endpoints', '--snapshot', demo, '-o', 'yaml']);
    expect(yaml.stdout).toMatch(/^services:\n/);
    const a = await runKnet(['endpoints', '--snapshot', demo, '-o', 'json']);
    const b = await runKnet(['endpoints', '--snapshot', demo, '--json']);
    expect(JSON.parse(a.stdout)).toEqual(JSON.parse(b.stdout));
  });

  it('adds ports and endpoint IPs, and info findings, with -o wide', async () => {
    const { stdout } = await runKnet(['endpoints', 'xecho', '--snapshot', demo, '-o', 'wide']);
    expect(stdout).toMatch(/8888:31401→8080\/TCP/);
    expect(stdout).toMatch(/10\.244\.1\.5,10\.244\.2\.6/);
  });
});

describe('knet endpoints: bad input', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knet-bad-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    { what: 'a missing snapshot path', args: ['endpoints', '--snapshot', '/nonexistent/knet'], message: /snapshot path "\/nonexistent\/knet" does not exist/ },
    { what: 'an unknown service, suggesting the nearest', args: ['endpoints', 'xecko', '--snapshot', demo], message: /service "xecko" not found in namespace default[\s\S]*Did you mean svc\/xecho/ },
    { what: 'a service in another namespace', args: ['endpoints', 'kube-dns', '--snapshot', demo], message: /There is a service "kube-dns" in namespace kube-system: add -n kube-system/ },
    { what: 'a service name with -A', args: ['endpoints', 'xecho', '-A', '--snapshot', demo], message: /cannot be used together/ },
    { what: '--json with -o yaml', args: ['endpoints', '--json', '-o', 'yaml', '--snapshot', demo], message: /--json and -o yaml/ },
    { what: 'an unknown flag, suggesting the nearest', args: ['endpoints', '--snapshto', demo], message: /--snapshto is not a flag of knet endpoints\n {2}Did you mean --snapshot\?\n {2}See: knet endpoints --help/ },
    // A command of a topic is named as it is typed (words, not oclif's "rules:trace" id).
    { what: 'an unknown flag of a topic command', args: ['rules', 'trace', '--snapshto', demo], message: /--snapshto is not a flag of knet rules trace[\s\S]*See: knet rules trace --help/ },
    { what: 'a bad -o value', args: ['endpoints', '-o', 'xml', '--snapshot', demo], message: /--output "xml" is not one of its values: table, wide, json, yaml/ },
    { what: 'a bad --request-timeout, though a snapshot makes no requests', args: ['endpoints', '--request-timeout', 'abc', '--snapshot', demo], message: /--request-timeout "abc" is not a duration/ },
    { what: 'a malformed service reference', args: ['endpoints', 'svc/Bad_Name', '--snapshot', demo], message: /not a Kubernetes name/ },
  ])('rejects $what with exit 2, a message, and no stack trace', async ({ args, message }) => {
    const { code, stderr, stdout } = await runKnet(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    // With --json the error is also a JSON document on stdout; otherwise stdout stays empty.
    if (args.includes('--json')) expect(JSON.parse(stdout)).toMatchObject({ error: { exitCode: 2 } });
    else expect(stdout).toBe('');
  });

  it('rejects a YAML syntax error and a List with a broken item, naming file and line', async () => {
    const yamlDir = join(dir, 'yaml');
    await cp(demo, yamlDir, { recursive: true });
    await writeFile(join(yamlDir, 'broken.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: "unterminated\n');
    const y = await runKnet(['endpoints', '-A', '--snapshot', yamlDir]);
    expect(y.code).toBe(2);
    expect(y.stderr).toMatch(/broken\.yaml:\d+: not valid YAML/);

    const listDir = join(dir, 'list');
    await cp(demo, listDir, { recursive: true });
    await writeFile(join(listDir, 'extra.yaml'), 'apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata:\n    name: ok\n- kind: Service\n  spec: {}\n');
    const l = await runKnet(['endpoints', '-A', '--snapshot', listDir]);
    expect(l.code).toBe(2);
    expect(l.stderr).toMatch(/extra\.yaml:7: item 1 of the List \(Service\) has no metadata\.name/);
  });

  it('takes -A with a Service that names its namespace: the same report as without', async () => {
    const plain = await runKnet(['endpoints', 'svc/default/xecho', '--snapshot', demo, '--json']);
    const all = await runKnet(['endpoints', 'svc/default/xecho', '-A', '--snapshot', demo, '--json']);
    expect(all.code).toBe(plain.code);
    expect(all.stdout).toBe(plain.stdout);
    expect(JSON.parse(all.stdout)).toMatchObject({ services: [{ namespace: 'default', name: 'xecho' }] });
  });

  it('with --json, still prints one JSON document describing the error', async () => {
    const { code, stdout } = await runKnet(['endpoints', '--snapshot', '/nonexistent/knet', '--json']);
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({ error: { code: 'snapshot-not-found', message: expect.stringMatching(/does not exist/), exitCode: 2 } });
  });

  it('shows a stack trace only with --debug', async () => {
    const { stderr } = await runKnet(['endpoints', '--snapshot', '/nonexistent/knet', '--debug']);
    expect(stderr).toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
