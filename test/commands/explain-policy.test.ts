// `knet explain-policy` as a process (the built CLI, bin/run.js) on the demo snapshot and on snapshots
// generated here: stdout parsed, exit codes checked.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkPolicy } from '../../src/model/k8s.js';
import { examplesDir, repoRoot, runKnet, runKnetJson } from '../support/cli.js';
import { buildModel, buildPolicy, podLabel } from '../support/netpol-model.js';

const demo = join(examplesDir, 'demo');

interface Verdict {
  allowed: boolean;
  egress: { allowed: boolean; policies: { namespace: string; name: string; rule: number | null }[]; reason: string };
  ingress: {
    allowed: boolean;
    policies: { namespace: string; name: string; rule: number | null }[];
    reason: string;
    nearestMiss?: { policy: string; message: string };
  };
  service?: { endpoints: { destination: { name: string }; targetPort: number; allowed: boolean }[] };
  findings: { code: string; severity: string; namespace?: string; name?: string; message: string }[];
}

interface Matrix {
  cells: { from: string; to: string; port: number; protocol: string; allowed: boolean }[];
  pods: string[];
  findings: { code: string; severity: string }[];
}

describe('knet explain-policy on the demo snapshot', () => {
  it('allows shop/frontend → shop/backend on 8080, names the rule, exits 0', async () => {
    const r = await runKnetJson<Verdict>(['explain-policy', '--snapshot', demo, 'shop/frontend', 'shop/backend', '--port', '8080']);
    expect(r.code).toBe(0);
    expect(r.json.allowed).toBe(true);
    expect(r.json.egress).toMatchObject({ allowed: true, policies: [] });
    expect(r.json.ingress.allowed).toBe(true);
    expect(r.json.ingress.policies.map(({ namespace, name, rule }) => ({ namespace, name, rule }))).toEqual([
      { namespace: 'shop', name: 'allow-frontend-to-backend', rule: 0 },
      { namespace: 'shop', name: 'allow-metrics-scrape', rule: null },
      { namespace: 'shop', name: 'default-deny-ingress', rule: null },
    ]);
    expect(r.json.ingress.reason).toBe(
      'Ingress to shop/backend from shop/frontend on TCP port 8080 is allowed by shop/allow-frontend-to-backend: rule 0 allows ingress from pods with app=frontend in namespace shop on TCP port `http` (8080 on shop/backend).',
    );
  });

  it('denies shop/frontend → shop/db on 5432 with the label typo as nearest miss, exits 1', async () => {
    const r = await runKnetJson<Verdict>(['explain-policy', '--snapshot', demo, 'shop/frontend', 'shop/db', '--port', '5432']);
    expect(r.code).toBe(1);
    expect(r.json.allowed).toBe(false);
    expect(r.json.ingress.nearestMiss).toMatchObject({
      policy: 'shop/allow-frontend-to-db',
      message: '`shop/allow-frontend-to-db` would allow this if the source had `role=frontend`; it has `role=front-end`',
    });
    expect(r.json.findings.map((f) => [f.code, f.namespace, f.name])).toEqual([
      ['peer-selects-no-pods', 'shop', 'allow-frontend-to-db'],
      ['peer-selects-no-namespaces', 'shop', 'allow-metrics-scrape'],
    ]);
  });

  it('says it in sentences for people, without colour when stdout is not a terminal', async () => {
    const r = await runKnet(['explain-policy', '--snapshot', demo, 'shop/frontend', 'shop/db', '--port', '5432']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('DENIED  shop/frontend → shop/db on TCP port 5432');
    expect(lines).toContain('  Nearest miss: `shop/allow-frontend-to-db` would allow this if the source had `role=frontend`; it has `role=front-end`.');
    expect(lines).toContain('      ✗ rule 0 would match if the source had `app=shop-backend` and `tier=api`; it has `app=frontend` and `tier=web`');
    expect(r.stdout.includes(String.fromCharCode(27))).toBe(false);
    expect(r.stderr).toBe('');
  });

  // Text people read is reviewed like code: these golden files change only on purpose.
  it.each([
    ['explain-policy-deny.txt', ['shop/frontend', 'shop/db', '--port', '5432']],
    ['explain-policy-matrix.txt', ['--matrix', '-n', 'shop', '--port', '8080', '--port', '5432']],
  ])('prints what test/policy/golden/%s holds', async (file, args) => {
    const golden = await readFile(join(repoRoot, 'test/policy/golden', file), 'utf8');
    const r = await runKnet(['explain-policy', '--snapshot', demo, ...args]);
    expect(r.stdout).toBe(golden);
  });

  it('evaluates a Service destination on each endpoint pod at its resolved target port', async () => {
    const r = await runKnetJson<Verdict>(['explain-policy', '--snapshot', demo, 'shop/frontend', 'svc/shop/backend', '--port', '80']);
    expect(r.code).toBe(0);
    expect(r.json.service?.endpoints.map((e) => ({ pod: e.destination.name, targetPort: e.targetPort, allowed: e.allowed }))).toEqual([{ pod: 'shop/backend', targetPort: 8080, allowed: true }]);
    expect((r.json as unknown as { destination: unknown }).destination).toEqual({ kind: 'service', name: 'svc/shop/backend', ips: ['10.96.140.21'] });
  });

  it('treats a Service cluster IP as the Service', async () => {
    const r = await runKnetJson<Verdict>(['explain-policy', '--snapshot', demo, 'shop/frontend', '10.96.88.41:5432']);
    expect(r.code).toBe(1);
    expect(r.json.service?.endpoints.map((e) => [e.destination.name, e.targetPort, e.allowed])).toEqual([['shop/db', 5432, false]]);
  });

  it('takes a cluster IP as SRC for the address it is, not as a Service', async () => {
    const r = await runKnetJson<Verdict & { source: { kind: string } }>(['explain-policy', '--snapshot', demo, '10.96.88.41', 'shop/backend', '--port', '8080']);
    expect([r.code, r.json.source.kind, r.json.ingress.allowed]).toEqual([1, 'external', false]);
  });

  it('lets the pod reach its own node and denies the db egress to anything but DNS', async () => {
    const own = await runKnetJson<Verdict>(['explain-policy', '--snapshot', demo, 'shop/db', 'node/kind-worker', '--port', '10250']);
    expect([own.code, own.json.egress.allowed]).toEqual([0, true]);
    const ext = await runKnetJson<Verdict>(['explain-policy', '--snapshot', demo, 'shop/db', '1.1.1.1', '--port', '443']);
    expect([ext.code, ext.json.egress.allowed, ext.json.ingress.allowed]).toEqual([1, false, true]);
  });

  it('prints the matrix as cells in JSON, a grid for people, and DOT', async () => {
    const json = await runKnetJson<Matrix>(['explain-policy', '--snapshot', demo, '--matrix', '-n', 'shop', '--port', '8080', '--port', '5432']);
    expect(json.code).toBe(0);
    expect(json.json.cells.filter((c) => c.allowed)).toEqual([
      { from: 'shop/frontend', to: 'shop/backend', port: 8080, protocol: 'TCP', allowed: true },
      { from: 'shop/backend', to: 'shop/db', port: 5432, protocol: 'TCP', allowed: true },
    ]);
    expect(json.json.cells).toHaveLength(12);

    const text = await runKnet(['explain-policy', '--snapshot', demo, '--matrix', '-n', 'shop', '--port', '8080']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n').slice(0, 5)).toEqual([
      'TCP port 8080: 1 of 6 pairs allowed. Rows are sources (from), columns destinations (to).',
      '                  1 2 3',
      ' 1 shop/backend   · ✗ ✗',
      ' 2 shop/db        ✗ · ✗',
      ' 3 shop/frontend  ✓ ✗ ·',
    ]);

    const dot = await runKnet(['explain-policy', '--snapshot', demo, '--matrix', '-n', 'shop', '--port', '8080', '-o', 'dot']);
    expect(dot.code).toBe(0);
    expect(dot.stdout.startsWith('digraph knet_policy {')).toBe(true);
    expect(dot.stdout.split('\n').filter((l) => l.includes('->'))).toEqual(['  "shop/frontend" -> "shop/backend" [label="TCP/8080"];']);
  });

  it('prints the same matrix document with -o yaml as with --json', async () => {
    const json = await runKnetJson<Matrix>(['explain-policy', '--snapshot', demo, '--matrix', '-n', 'shop', '--port', '8080']);
    const yaml = await runKnet(['explain-policy', '--snapshot', demo, '--matrix', '-n', 'shop', '--port', '8080', '-o', 'yaml']);
    const { parse } = await import('yaml');
    expect(parse(yaml.stdout)).toEqual(json.json);
  });

  it('narrows the matrix with --selector', async () => {
    const r = await runKnetJson<Matrix>(['explain-policy', '--snapshot', demo, '--matrix', '-A', '-l', 'app in (frontend,db)', '--port', '5432']);
    expect(r.json.pods).toEqual(['shop/db', 'shop/frontend']);
  });
});

describe('knet explain-policy: bad input', () => {
  it.each([
    { what: 'an unknown pod, with a suggestion', args: ['shop/frontnd', 'shop/db', '--port', '5432'], code: 'pod-not-found', stderr: /Did you mean pod\/frontend/ },
    { what: 'a Service as source', args: ['svc/shop/backend', 'shop/db', '--port', '5432'], code: 'bad-reference', stderr: /never from a Service/ },
    { what: 'no DST', args: ['shop/frontend'], code: 'missing-argument', stderr: /needs SRC and DST/ },
    { what: 'no port where the pod has several', args: ['shop/frontend', 'shop/backend'], code: 'missing-port', stderr: /has ports 8080, 9090/ },
    { what: 'a matrix without a port', args: ['--matrix', '-n', 'shop'], code: 'missing-port', stderr: /at least one --port/ },
    { what: 'a bad selector', args: ['--matrix', '-n', 'shop', '--port', '80', '-l', 'app=(x'], code: 'bad-selector', stderr: /not a label selector term/ },
    { what: '-o dot without --matrix', args: ['shop/frontend', 'shop/db', '--port', '5432', '-o', 'dot'], code: 'conflicting-flags', stderr: /draws the reachability matrix/, isText: true },
    { what: 'an unknown namespace for the matrix', args: ['--matrix', '-n', 'shp', '--port', '80'], code: 'namespace-not-found', stderr: /Did you mean -n shop/ },
    { what: 'an unknown node', args: ['shop/db', 'node/kind-wroker', '--port', '80'], code: 'node-not-found', stderr: /node\/kind-worker/ },
    { what: 'a port in DST and another in --port', args: ['shop/frontend', '10.244.2.10:5432', '--port', '80'], code: 'conflicting-flags', stderr: /names port 5432 and --port says 80/ },
    { what: 'a port after a pod name', args: ['shop/frontend', 'shop/db:5432'], code: 'bad-reference', stderr: /Give the port with --port: shop\/db --port 5432/ },
    { what: 'a bad protocol', args: ['shop/frontend', 'shop/db', '--port', '5432', '--protocol', 'ICMP'], code: 'bad-flags', stderr: /protocol/ },
  ])('rejects $what with exit 2 and no stack trace', async ({ args, code, stderr, isText }) => {
    const r = await runKnet(['explain-policy', '--snapshot', demo, ...args, ...(isText ? [] : ['--json'])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(stderr);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    if (isText) expect(r.stdout).toBe('');
    else expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toBe(code);
  });
});

describe('knet explain-policy on generated snapshots', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knet-policy-'));
    const broken: NetworkPolicy[] = [
      buildPolicy('x', 'bad-cidr', podLabel('a'), { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] }),
      buildPolicy('x', 'bad-operator', podLabel('b'), { ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'Equals', values: ['c'] }] } }] }] }),
      { kind: 'NetworkPolicy', metadata: { name: 'no-spec', namespace: 'y' } },
      buildPolicy('z', 'allow-from-x', {}, { ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'x' } } }], ports: [{ port: 'serve-80-tcp' }] }] }),
    ];
    const cluster = buildModel(broken);
    const items = [...cluster.namespaces, ...cluster.nodes, ...cluster.pods, ...cluster.networkPolicies];
    await writeFile(join(dir, 'cluster.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports invalid policies with namespace/name and does not crash', async () => {
    const r = await runKnetJson<Verdict>(['explain-policy', '--snapshot', dir, 'x/b', 'x/a', '--port', '80']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.json.findings.map((f) => [f.code, f.severity, f.namespace, f.name])).toEqual([
      ['invalid-cidr', 'error', 'x', 'bad-cidr'],
      ['invalid-selector', 'error', 'x', 'bad-operator'],
    ]);
  });

  it('reads a policy with no spec as a default deny of ingress and says so', async () => {
    const r = await runKnetJson<Verdict>(['explain-policy', '--snapshot', dir, 'x/a', 'y/a', '--port', '80']);
    expect(r.code).toBe(1);
    expect(r.json.ingress.policies.map((p) => p.name)).toEqual(['no-spec']);
    expect(r.json.findings.map((f) => [f.code, f.namespace, f.name])).toContainEqual(['policy-without-spec', 'y', 'no-spec']);
  });

  it('gives the e2e truth table for a namespace selector with a named port, through the matrix', async () => {
    const r = await runKnetJson<Matrix>(['explain-policy', '--snapshot', dir, '--matrix', '-A', '--port', '80']);
    // The snapshot holds two invalid policies: the matrix reports them as error findings, so it exits 1.
    expect(r.code).toBe(1);
    expect(r.json.findings.filter((f) => f.severity === 'error').map((f) => f.code).sort()).toEqual(['invalid-cidr', 'invalid-selector']);
    const intoZ = r.json.cells.filter((c) => c.to.startsWith('z/')).filter((c) => c.allowed).map((c) => `${c.from}>${c.to}`);
    expect(intoZ.sort()).toEqual(['x/a>z/a', 'x/a>z/b', 'x/a>z/c', 'x/b>z/a', 'x/b>z/b', 'x/b>z/c', 'x/c>z/a', 'x/c>z/b', 'x/c>z/c']);
    expect(r.json.cells).toHaveLength(72);
  });
});
