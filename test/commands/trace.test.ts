import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceReport } from '../../src/trace/types.js';
import { examplesDir, runKnet, runKnetJson } from '../support/cli.js';

const demo = join(examplesDir, 'demo');

describe('knet trace (built CLI) on the demo snapshot', () => {
  it('pod-a → svc/xecho: one connection in three meets kube-proxy\'s stale rules on kind-worker2, exit 1', async () => {
    const { json, code, stderr } = await runKnetJson<TraceReport>(['trace', 'pod-a', 'svc/xecho', '--snapshot', demo]);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(json.verdict).toBe('dropped');
    expect(json.src).toMatchObject({ kind: 'pod', name: 'default/pod-a', node: 'kind-worker2' });
    expect(json.dst).toMatchObject({ kind: 'service', name: 'svc/default/xecho', ips: ['10.96.120.15'] });
    expect(json.port).toBe(8888);
    expect(json.hops.map((h) => [h.stage, h.status])).toEqual([
      ['resolve', 'ok'],
      ['service', 'ok'],
      ['endpoints', 'warn'],
      ['policy-egress', 'ok'],
      ['node-rules', 'warn'],
      ['route', 'ok'],
      ['policy-ingress', 'ok'],
      ['conntrack', 'skip'],
    ]);
    for (const h of json.hops) expect(Object.keys(h)).toEqual(expect.arrayContaining(['stage', 'status', 'summary', 'evidence']));
    expect(json.branches.map((b) => [b.endpoint, b.verdict])).toEqual([
      ['10.244.1.5:8080', 'delivered'],
      ['10.244.2.6:8080', 'delivered'],
      ['10.244.2.9:8080', 'dropped'],
    ]);
    expect(json.reachable.endpoints).toBe(2);
    expect(json.reachable.of).toBe(3);
    expect(json.reachable.probability).toBeCloseTo(2 / 3, 3);
    expect(json.firstFailure).toMatchObject({ stage: 'node-rules', endpoint: '10.244.2.9:8080' });
    expect(json.firstFailure?.remedy).toMatch(/kube-proxy on kind-worker2/);
    expect(json.findings.map((f) => f.code)).toEqual(['trace-dropped', 'ready-pod-missing']);
    // The route hop read kind-worker2's routes.
    expect(json.branches[0]!.hops.find((h) => h.stage === 'route')!.evidence).toContain('kind-worker2: 10.244.1.0/24 via 172.18.0.3 dev eth0');
  });

  it('prints the hop table, the failing branch, where it stops and the fix', async () => {
    const { stdout, code } = await runKnet(['trace', 'pod-a', 'svc/xecho', '--snapshot', demo]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^default\/pod-a → svc\/default\/xecho:8888\/TCP$/m);
    expect(stdout).toMatch(/⚠\s+node-rules\s+iptables on kind-worker2: DNAT to 10\.244\.1\.5:8080 \(33\.3%\)/);
    expect(stdout).toMatch(/–\s+conntrack\s+no conntrack table/);
    expect(stdout).toMatch(/10\.244\.2\.9:8080\s+-\s+-\s+33\.3%\s+dropped\s+node-rules:/);
    expect(stdout).toContain('DROPPED — 2 of 3 endpoints reachable (66.7% of new connections)');
    expect(stdout).toMatch(/^Stops at node-rules \(endpoint 10\.244\.2\.9:8080\): /m);
    expect(stdout).toMatch(/^Fix: kube-proxy on kind-worker2 has not synced/m);
  });

  it('a delivered connection exits 0; a policy denial stops at policy-ingress with the nearest rule', async () => {
    const ok = await runKnetJson<TraceReport>(['trace', 'shop/frontend', 'svc/shop/backend', '--snapshot', demo]);
    expect(ok.code).toBe(0);
    expect(ok.json.verdict).toBe('delivered');
    const denied = await runKnetJson<TraceReport>(['trace', 'shop/frontend', 'shop/db', '--port', '5432', '--snapshot', demo]);
    expect(denied.code).toBe(1);
    expect(denied.json.firstFailure?.stage).toBe('policy-ingress');
    expect(denied.json.verdict).toBe('dropped');
  });

  it('a Service without ready endpoints is rejected at endpoints, confirmed by the node\'s REJECT rule', async () => {
    const { json, code } = await runKnetJson<TraceReport>(['trace', 'xecho-6b8f9c7d5-4mzqp', 'svc/backend', '--snapshot', demo]);
    expect(code).toBe(1);
    expect(json.verdict).toBe('rejected');
    expect(json.firstFailure?.stage).toBe('endpoints');
    expect(json.hops.find((h) => h.stage === 'endpoints')!.evidence.join('\n')).toContain('selector-matches-nothing');
    expect(json.hops.find((h) => h.stage === 'node-rules')).toMatchObject({ status: 'fail', fate: 'rejected' });
  });

  it('-o dot and -o mermaid draw the path with every branch', async () => {
    const dot = await runKnet(['trace', 'pod-a', 'svc/xecho', '--snapshot', demo, '-o', 'dot']);
    expect(dot.code).toBe(1);
    expect(dot.stdout).toMatch(/^digraph knet_trace \{/);
    expect(dot.stdout.trim().endsWith('}')).toBe(true);
    expect(dot.stdout).toContain('"b2-node-rules" [label="✗ node-rules');
    expect(dot.stdout).toContain('verdict [label="dropped"');
    const mermaid = await runKnet(['trace', 'pod-a', 'svc/xecho', '--snapshot', demo, '-o', 'mermaid']);
    expect(mermaid.stdout).toMatch(/^flowchart LR$/m);
    expect(mermaid.stdout).toContain('class b2_node_rules fail');
    expect(mermaid.stdout).toMatch(/b0_policy_egress\["✓ policy-egress<br\/>/);
  });

  it.each([
    ['a Service as SRC', ['svc/xecho', 'pod-a'], /SRC "svc\/xecho" is a Service/],
    ['a pod that does not exist', ['pod-b', 'svc/xecho'], /pod "pod-b" not found in namespace default/],
    ['a Service with several ports and no --port', ['pod-a', 'svc/kube-system/kube-dns'], /has 2 TCP ports .*give --port/],
    ['a pod DST without --port', ['pod-a', 'shop/db'], /give --port/],
    ['a DNS name (no DNS engine in this build)', ['pod-a', 'xecho.default'], null],
  ])('%s', async (_what, args, message) => {
    const r = await runKnet(['trace', ...args, '--snapshot', demo]);
    if (message === null) {
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/–\s+resolve/);
      return;
    }
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
