// Findings fold past a bound in every engine whose findings grow with its input: a Service with 50,000
// stale endpoints is one `stale-endpoint` finding with `count: 50000`, and the exit code is the same as
// without the folding (1: an error finding).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointsReport } from '../../src/endpoints/diff.js';
import { runKnet, runKnetJson } from '../support/cli.js';

const STALE = 50_000;
let dir = '';

/**
 * One Service whose EndpointSlices (1,000 endpoints each, the API's maximum) name pods that no longer
 * exist, as a JSON List (`kubectl get -o json`).
 */
function staleEndpointsSnapshot(n: number): string {
  const items: unknown[] = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'big', namespace: 'shop' }, spec: { clusterIP: '10.96.5.5', selector: { app: 'big' }, ports: [{ port: 80, protocol: 'TCP' }] } },
  ];
  for (let s = 0; s * 1000 < n; s++) {
    const endpoints: unknown[] = [];
    for (let i = s * 1000; i < Math.min(n, (s + 1) * 1000); i++) {
      endpoints.push({ addresses: [`10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'shop', name: `big-${i}` } });
    }
    items.push({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `big-${s}`, namespace: 'shop', labels: { 'kubernetes.io/service-name': 'big' } }, addressType: 'IPv4', ports: [{ port: 80, protocol: 'TCP' }], endpoints });
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'knet-fold-'));
  await writeFile(join(dir, 'knet-snapshot.yaml'), 'clusterDomain: cluster.local\n');
  await writeFile(join(dir, 'cluster.json'), staleEndpointsSnapshot(STALE));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('knet endpoints (built CLI) on a Service with 50,000 stale endpoints', () => {
  it('prints one stale-endpoint finding with the count and the first five examples, and exits 1', async () => {
    const { json, code } = await runKnetJson<EndpointsReport>(['endpoints', '-n', 'shop', '--snapshot', dir]);
    expect(code).toBe(1);
    const [svc] = json.services;
    // No pod is selected (one finding), and every endpoint names a pod that is gone (one folded finding).
    expect(svc?.findings.map((f) => [f.code, f.severity, f.count ?? null])).toEqual([
      ['selector-matches-nothing', 'error', null],
      ['stale-endpoint', 'error', STALE],
    ]);
    const folded = svc!.findings[1]!;
    expect((folded.examples as { ip: string }[]).map((e) => e.ip)).toEqual(['10.100.0.0', '10.100.0.1', '10.100.0.2', '10.100.0.3', '10.100.0.4']);
    expect(folded.message).toMatch(/^50000 findings like this one; the first: endpoint 10\.100\.0\.0 points to pod big-0, which no longer exists/);
    // The summary counts the problems, not the lines that show them.
    expect(json.summary).toMatchObject({ errors: STALE + 1, servicesWithErrors: 1 });
  });

  it('the table says it once, with the count, and exits 1', async () => {
    const { stdout, code } = await runKnet(['endpoints', '-n', 'shop', '--snapshot', dir]);
    expect(code).toBe(1);
    expect(stdout.match(/stale-endpoint/g)?.length).toBe(1);
    expect(stdout).toContain('50000 findings like this one');
  });
});
