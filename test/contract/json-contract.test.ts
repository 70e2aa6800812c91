// The JSON fields docs/cli.md promises are a contract: users' scripts read them. This test
// checks the minimum shape of each command's --json output on the demo snapshot and on a kube-proxy
// fixture, so that removing or renaming a field fails here first.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { examplesDir, fixturesDir, repoRoot, runKnet } from '../support/cli.js';

type Shape = 'string' | 'number' | 'boolean' | 'string|null' | 'any' | readonly [Shape] | { [field: string]: Shape } | ((v: unknown) => string | null);

function check(value: unknown, shape: Shape, path = '$'): string[] {
  if (typeof shape === 'function') {
    const problem = shape(value);
    return problem ? [`${path}: ${problem}`] : [];
  }
  if (shape === 'any') return value === undefined ? [`${path}: missing`] : [];
  if (shape === 'string|null') return value === null || typeof value === 'string' ? [] : [`${path}: expected string or null, got ${JSON.stringify(value)}`];
  if (typeof shape === 'string') return typeof value === shape ? [] : [`${path}: expected ${shape}, got ${JSON.stringify(value)}`];
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path}: expected an array`];
    return value.flatMap((v, i) => check(v, shape[0] as Shape, `${path}[${i}]`));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object`];
  return Object.entries(shape).flatMap(([k, s]) => (k in value ? check((value as Record<string, unknown>)[k], s, `${path}.${k}`) : [`${path}.${k}: missing`]));
}

const oneOf = (...values: string[]) => (v: unknown) => (typeof v === 'string' && values.includes(v) ? null : `expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
const finding = { code: (v: unknown) => (typeof v === 'string' && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(v) ? null : `not a kebab-case code: ${JSON.stringify(v)}`), severity: oneOf('error', 'warning', 'info'), message: 'string' } as const;
const demo = join(examplesDir, 'demo');
const fixture = join(fixturesDir, 'kube-proxy/iptables-1.26-TestClusterIPEndpointsMore/rules.txt');

const cases: { name: string; args: string[]; shape: Shape; codes: number[] }[] = [
  {
    name: 'endpoints',
    args: ['endpoints', '-A', '--snapshot', demo],
    codes: [1],
    shape: {
      services: [{ namespace: 'string', name: 'string', type: 'string', selector: (v: unknown) => (v === null || typeof v === 'object' ? null : 'expected an object or null'), endpoints: { ready: ['string'], notReady: ['string'] }, findings: [finding] }],
    },
  },
  {
    name: 'rules trace',
    args: ['rules', 'trace', '--file', fixture, '--src', '10.0.0.2', '--dst', '172.30.0.41', '--dport', '80'],
    codes: [0, 1],
    shape: {
      verdict: oneOf('accept', 'drop', 'reject', 'unknown'),
      outcomes: [{ probability: 'number', verdict: 'string', dnat: 'string|null', masquerade: 'boolean', path: [{ table: 'string', chain: 'string', rule: 'string', line: 'number' }] }],
    },
  },
  {
    name: 'explain-policy',
    args: ['explain-policy', 'shop/frontend', 'shop/backend', '--port', '8080', '--snapshot', demo],
    codes: [0, 1],
    shape: {
      allowed: 'boolean',
      // namespace is null for cluster-scoped AdminNetworkPolicies.
      egress: { allowed: 'boolean', policies: [{ namespace: 'string|null', name: 'string', rule: 'any' }], reason: 'string' },
      ingress: { allowed: 'boolean', policies: [{ namespace: 'string|null', name: 'string', rule: 'any' }], reason: 'string' },
    },
  },
  {
    name: 'explain-policy --matrix',
    args: ['explain-policy', '--matrix', '-n', 'shop', '--port', '8080', '--snapshot', demo],
    codes: [0, 1],
    shape: { cells: [{ from: (v: unknown) => (typeof v === 'string' && v.includes('/') ? null : 'expected NS/POD'), to: (v: unknown) => (typeof v === 'string' && v.includes('/') ? null : 'expected NS/POD'), port: 'any', protocol: 'string', allowed: 'boolean' }] },
  },
  {
    name: 'rules diff',
    args: ['rules', 'diff', 'kind-worker', '--snapshot', demo],
    codes: [0, 1],
    shape: {
      node: 'string',
      mode: oneOf('iptables', 'nftables', 'ipvs'),
      services: [{ namespace: 'string', name: 'string', port: (v: unknown) => (v === null || typeof v === 'number' ? null : 'expected a number or null'), findings: [finding] }],
      findings: [finding],
      summary: { servicePorts: 'number', errors: 'number', warnings: 'number', isInSync: 'boolean' },
    },
  },
];

describe('the JSON contract of docs/cli.md', () => {
  it.each(cases)('$name --json has the promised fields', async ({ args, shape, codes }) => {
    const { stdout, stderr, code } = await runKnet([...args, '--json']);
    expect(codes, stderr).toContain(code);
    const json: unknown = JSON.parse(stdout);
    expect(check(json, shape)).toEqual([]);
  });

  it('the checker itself reports a missing or renamed field', () => {
    expect(check({ services: [{ namespace: 'a' }] }, { services: [{ namespace: 'string', name: 'string' }] })).toEqual(['$.services[0].name: missing']);
    expect(check({ verdict: 'maybe' }, { verdict: oneOf('accept', 'drop') })).toHaveLength(1);
  });
});

// docs/cli.md is the contract users' scripts are written against: every command it names must exist,
// and every finding code it lists must be documented in the README.
describe('docs/cli.md against the built CLI', () => {
  const doc = readFileSync(join(repoRoot, 'docs/cli.md'), 'utf8');
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, unknown> };

  it('names only commands the CLI has', () => {
    const named = new Set<string>();
    for (const heading of doc.split('\n').filter((l) => l.startsWith('### '))) {
      for (const m of heading.matchAll(/`knet ([a-z-]+)(?: \(([a-z0-9|]+)\)| ([a-z][a-z-]*))?/g)) {
        const [, first, alternatives, second] = m;
        if (alternatives) for (const a of alternatives.split('|')) named.add(`${first}:${a}`);
        else if (second && `${first}:${second}` in manifest.commands) named.add(`${first}:${second}`);
        else named.add(first!);
      }
    }
    expect(named.size).toBeGreaterThanOrEqual(16);
    expect([...named].filter((c) => !(c in manifest.commands))).toEqual([]);
  });

  it('lists only finding codes the README documents', () => {
    const codes = new Set<string>();
    for (const m of doc.matchAll(/Finding codes[^:]*:([\s\S]*?)(?:\n\n|\n###|$)/g)) for (const c of m[1]!.matchAll(/`([a-z0-9]+(?:-[a-z0-9]+)+)`/g)) codes.add(c[1]!);
    expect(codes.size).toBeGreaterThanOrEqual(25);
    expect([...codes].filter((c) => !readme.includes(`\`${c}\``))).toEqual([]);
  });
});
