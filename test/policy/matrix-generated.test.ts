// The compiled matrix against the one-connection evaluator on every pair of a generated cluster with
// the policy shapes of the benchmark (default deny, named ports, endPort ranges, ipBlocks with except,
// cross-namespace selectors, egress): rows shared between pods isolated by the same rules must not
// change a single verdict.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a benchmark data generator in plain JavaScript, without type declarations
import { buildPolicyCluster } from '../../bench/gen/policy-cluster.mjs';
import type { Protocol } from '../../src/model/k8s.js';
import { buildPolicyEngine, evaluateConnection } from '../../src/policy/evaluate.js';
import { computeMatrix, selectMatrixPods } from '../../src/policy/matrix.js';
import { loadSnapshot } from '../../src/sources/snapshot.js';

describe('the matrix on a generated cluster', () => {
  it('agrees with evaluateConnection on every pair, for every port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'knet-matrix-'));
    const file = join(dir, 'cluster.json');
    writeFileSync(file, JSON.stringify((buildPolicyCluster as (o: object) => unknown)({ namespaces: 6, podsPerNamespace: 8, policies: 30 })));
    const { cluster } = await loadSnapshot(file);
    const pods = selectMatrixPods(cluster, {});
    const engine = buildPolicyEngine(cluster);
    const ports: { port: number; protocol: Protocol }[] = [
      { port: 80, protocol: 'TCP' },
      { port: 85, protocol: 'TCP' },
      { port: 8080, protocol: 'TCP' },
      { port: 8081, protocol: 'TCP' },
      { port: 5432, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
    ];
    const m = computeMatrix(cluster, { pods, ports }, { engine });
    const n = pods.length;
    let allowedCount = 0;
    ports.forEach(({ port, protocol }, k) => {
      for (let s = 0; s < n; s++) {
        for (let d = 0; d < n; d++) {
          if (s === d) continue;
          const want = evaluateConnection(cluster, { source: { kind: 'pod', pod: pods[s]! }, destination: { kind: 'pod', pod: pods[d]! }, port, protocol }, { engine }).allowed;
          const got = m.allowed[k]![s * n + d] === 1;
          if (got !== want) expect(`${m.pods[s]} → ${m.pods[d]} ${protocol}/${port}: ${got}`).toBe(`${m.pods[s]} → ${m.pods[d]} ${protocol}/${port}: ${want}`);
          if (got) allowedCount++;
        }
      }
    });
    // Neither everything nor nothing: the policies decide.
    expect(allowedCount).toBeGreaterThan(0);
    expect(allowedCount).toBeLessThan(ports.length * n * (n - 1));
  });
});
