// `knet endpoints --json` writes each Service's entry as it is made instead of building the whole
// report first. What it prints must be, byte for byte, the whole report rendered at once: checked on
// the demo snapshot with a few hundred more Services over several namespaces beside it (every kind of
// finding, folded findings, names with C1 controls and non-ASCII letters), in every scope.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffEndpoints, type EndpointsOptions } from '../../src/endpoints/diff.js';
import type { KnownObject } from '../../src/model/k8s.js';
import { renderJson } from '../../src/render/document.js';
import { openCluster } from '../../src/sources/cluster.js';
import { aPod, aService, aSlice, anEndpoints } from '../support/builders.js';
import { examplesDir, runKnet } from '../support/cli.js';

/** 6 namespaces, 260 Services: mostly healthy, every 7th with a fault of its own kind. */
function manyServices(): KnownObject[] {
  const objects: KnownObject[] = [];
  for (let s = 0; s < 260; s++) {
    const ns = `team-${s % 6}`;
    const app = s === 13 ? `café-\u009b-${s}` : `app-${s}`;
    const fault = s % 7 === 3 ? s % 6 : -1;
    const pods = Array.from({ length: 3 }, (_, i) =>
      aPod(`${app}-pod-${i}`, { ns, labels: { app }, ip: `10.${s >> 8}.${s & 255}.${i + 1}`, ready: !(fault === 0 && i === 0), deleting: fault === 1 && i === 1, ports: [{ name: 'http', containerPort: 8080 }] }),
    );
    const selector = fault === 2 ? { app: `${app}-typo` } : { app };
    const targetPort = fault === 3 ? 'metrics' : 'http';
    objects.push(aService(app, { ns, selector, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort }] }), ...pods);
    const endpoints = pods.map((p, i) => ({ ip: p.status!.podIP!, pod: p.metadata.name, ready: fault === 1 && i === 1 ? true : undefined, terminating: fault === 1 && i === 1 ? false : undefined }));
    // Fault 4: one ready pod missing from the slice; fault 5: thirty endpoints whose pods are gone (folded into one finding).
    if (fault === 4) endpoints.pop();
    if (fault === 5) for (let i = 0; i < 30; i++) endpoints.push({ ip: `10.250.${s}.${i + 1}`, pod: `${app}-gone-${i}`, ready: undefined, terminating: undefined });
    if (s % 50 === 49) objects.push(anEndpoints(app, endpoints.map((e) => e.ip), [], { ns }));
    else objects.push(aSlice(app, endpoints, { ns, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }));
  }
  return objects;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'knet-stream-'));
  await cp(join(examplesDir, 'demo'), dir, { recursive: true });
  await writeFile(join(dir, 'many.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manyServices() }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The report as one object, rendered at once: what --json printed before it was written in steps. */
async function wholeReport(options: EndpointsOptions): Promise<string> {
  const opened = await openCluster({ snapshot: dir, allNamespaces: options.allNamespaces });
  return `${renderJson(diffEndpoints(opened.cluster, options))}\n`;
}

describe('knet endpoints --json, written Service by Service', () => {
  it.each([
    { scope: 'every namespace', args: ['-A'], options: { namespace: 'default', allNamespaces: true }, services: 272, code: 1 },
    { scope: 'one namespace', args: ['-n', 'team-3'], options: { namespace: 'team-3', allNamespaces: false }, services: 43, code: 1 },
    { scope: 'one healthy Service', args: ['svc/team-1/app-7'], options: { namespace: 'default', allNamespaces: false, service: { namespace: 'team-1', name: 'app-7' } }, services: 1, code: 0 },
    { scope: 'the demo namespace', args: [], options: { namespace: 'default', allNamespaces: false }, services: 9, code: 1 },
  ])('prints exactly the whole report for $scope, with its exit code', async ({ args, options, services, code }) => {
    const run = await runKnet(['endpoints', ...args, '--json', '--snapshot', dir]);
    expect(run.stderr).toBe('');
    const whole = await wholeReport(options);
    expect(run.stdout).toBe(whole);
    expect((JSON.parse(whole) as { services: unknown[] }).services).toHaveLength(services);
    expect(run.code).toBe(code);
  });

  it('holds every kind of finding the generated faults plant, folded where there are many', async () => {
    const report = JSON.parse(await wholeReport({ allNamespaces: true })) as { services: { findings: { code: string; count?: number }[] }[] };
    const codes = new Set(report.services.flatMap((s) => s.findings.map((f) => f.code)));
    for (const code of ['not-ready-pod-serving', 'terminating-endpoint', 'selector-matches-nothing', 'target-port-unresolved', 'ready-pod-missing', 'stale-endpoint', 'no-ready-endpoints']) expect(codes).toContain(code);
    expect(report.services.some((s) => s.findings.some((f) => f.code === 'stale-endpoint' && f.count === 30))).toBe(true);
  });

  it('prints the same document with -o json', async () => {
    const a = await runKnet(['endpoints', '-A', '-o', 'json', '--snapshot', dir]);
    const b = await runKnet(['endpoints', '-A', '--json', '--snapshot', dir]);
    expect(a.stdout).toBe(b.stdout);
  });
});
