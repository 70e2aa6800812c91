import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { TraceReport } from '../../src/trace/types.js';
import { examplesDir, repoRoot, runKnet, runKnetJson } from '../support/cli.js';
import { describeNeeding } from '../support/needs.js';

const execFileAsync = promisify(execFile);

const demo = join(examplesDir, 'demo');

describe('knet trace (built CLI) on the demo snapshot', () => {
  it('pod-a → svc/xecho: both endpoints refuse pod-a at their ingress policy, exit 1', async () => {
    const { json, code, stderr } = await runKnetJson<TraceReport>(['trace', 'pod-a', 'svc/xecho', '--snapshot', demo]);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(json.verdict).toBe('dropped');
    expect(json.src).toEqual({ kind: 'pod', name: 'default/pod-a', ips: ['10.244.1.50'], node: 'kind-worker' });
    expect(json.dst).toMatchObject({ kind: 'service', name: 'svc/default/xecho', ips: ['10.96.120.15'] });
    expect(json.port).toBe(8888);
    expect(json.hops.map((h) => [h.stage, h.status])).toEqual([
      ['resolve', 'ok'],
      ['service', 'ok'],
      ['endpoints', 'warn'],
      ['policy-egress', 'ok'],
      ['node-rules', 'ok'],
      ['route', 'ok'],
      ['policy-ingress', 'fail'],
      ['conntrack', 'ok'],
    ]);
    for (const h of json.hops) expect(Object.keys(h)).toEqual(expect.arrayContaining(['stage', 'status', 'summary', 'evidence']));
    // kube-proxy's rules on pod-a's node, simulated: an even split between the two endpoints.
    expect(json.hops.find((h) => h.stage === 'node-rules')!.summary).toBe('iptables on kind-worker: DNAT to 10.244.1.5:8080 (50%), 10.244.2.6:8080 (50%)');
    expect(json.branches.map((b) => [b.endpoint, b.pod, b.probability, b.verdict])).toEqual([
      ['10.244.1.5:8080', 'default/xecho-6b8f9c7d5-4mzqp', 0.5, 'dropped'],
      ['10.244.2.6:8080', 'default/xecho-6b8f9c7d5-h7wks', 0.5, 'dropped'],
    ]);
    expect(json.reachable).toEqual({ endpoints: 0, of: 2, probability: 0 });
    expect(json.firstFailure).toMatchObject({ stage: 'policy-ingress', endpoint: '10.244.1.5:8080' });
    expect(json.firstFailure?.remedy).toBe('The nearest rule: `default/xecho-allow-frontends` would allow this if the source had `role=frontend`; it has `role=front-end`.');
    expect(json.findings.map((f) => f.code)).toEqual(['trace-dropped', 'ready-pod-missing']);
    // The route hop read kind-worker's routes; the conntrack hop its table.
    expect(json.branches[1]!.hops.find((h) => h.stage === 'route')!.evidence).toContain('kind-worker: 10.244.2.0/24 via 172.18.0.4 dev eth0');
    expect(json.hops.find((h) => h.stage === 'conntrack')!.summary).toMatch(/^2 conntrack entries on kind-worker for 10\.96\.120\.15:8888\/tcp, none stale$/);
  });

  it('prints the hop table, where it stops and the fix', async () => {
    const { stdout, code } = await runKnet(['trace', 'pod-a', 'svc/xecho', '--snapshot', demo]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^default\/pod-a → svc\/default\/xecho:8888\/TCP$/m);
    expect(stdout).toMatch(/✓\s+node-rules\s+iptables on kind-worker: DNAT to 10\.244\.1\.5:8080 \(50%\)/);
    expect(stdout).toMatch(/✗\s+policy-ingress\s+ingress denied for both endpoints/);
    expect(stdout).toMatch(/10\.244\.2\.6:8080\s+default\/xecho-6b8f9c7d5-h7wks\s+kind-worker2\s+50%\s+dropped\s+policy-ingress:/);
    expect(stdout).toContain('DROPPED — 0 of 2 endpoints reachable (0% of new connections)');
    expect(stdout).toMatch(/^Stops at policy-ingress \(endpoint 10\.244\.1\.5:8080\): Ingress to default\/xecho-6b8f9c7d5-4mzqp from default\/pod-a on TCP port 8080 is denied/m);
    expect(stdout).toMatch(/^Fix: The nearest rule: `default\/xecho-allow-frontends` would allow this if the source had `role=frontend`/m);
  });

  it('pod-a → svc/legacy-db: kube-proxy on kind-worker still sends every connection to the old address (stale rules)', async () => {
    const { json, code } = await runKnetJson<TraceReport>(['trace', 'pod-a', 'svc/legacy-db', '--snapshot', demo]);
    expect(code).toBe(1);
    expect(json.verdict).toBe('dropped');
    expect(json.firstFailure).toMatchObject({ stage: 'node-rules', endpoint: '192.168.50.9:5432' });
    expect(json.hops.find((h) => h.stage === 'node-rules')!.status).toBe('fail');
    expect(json.branches.map((b) => [b.endpoint, b.probability])).toEqual([['192.168.50.10:5432', 0], ['192.168.50.9:5432', 1]]);
  });

  it('a DNS name is resolved as the source pod\'s resolver would, from the records the API implies', async () => {
    const ok = await runKnetJson<TraceReport>(['trace', 'shop/frontend', 'backend', '--snapshot', demo]);
    expect(ok.code).toBe(2); // a single label is a pod name, not a DNS name
    const svc = await runKnetJson<TraceReport>(['trace', 'shop/frontend', 'backend.shop', '--snapshot', demo]);
    expect(svc.code).toBe(0);
    expect(svc.json.hops[0]).toMatchObject({ stage: 'resolve', status: 'ok' });
    expect(svc.json.hops[0]!.summary).toBe('backend.shop → backend.shop.svc.cluster.local → 10.96.140.21 (svc/shop/backend), judged from the records the API implies (no DNS server was asked)');
    const nx = await runKnetJson<TraceReport>(['trace', 'shop/frontend', 'backnd.shop', '--port', '80', '--snapshot', demo]);
    expect(nx.code).toBe(1);
    expect(nx.json.verdict).toBe('rejected');
    expect(nx.json.hops.map((h) => [h.stage, h.status])).toEqual([['resolve', 'fail']]);
    const outside = await runKnetJson<TraceReport>(['trace', 'shop/frontend', 'example.com', '--port', '443', '--snapshot', demo]);
    expect(outside.code).toBe(1);
    expect(outside.json.verdict).toBe('unknown');
    expect(outside.json.hops[0]).toMatchObject({ stage: 'resolve', status: 'skip' });
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

  it('another node\'s NodePort is translated by that node\'s rules (its state read from the snapshot), masqueraded to its address', async () => {
    const { json } = await runKnetJson<TraceReport>(['trace', 'pod-a', 'node/kind-worker2', '--port', '31401', '--snapshot', demo]);
    const rules = json.hops.find((h) => h.stage === 'node-rules')!;
    expect(rules.summary).toMatch(/^iptables on kind-worker2: DNAT to /);
    expect(rules.evidence).toContain(`rules: ${join(demo, 'nodes', 'kind-worker2', 'iptables-save.txt')}`);
    expect(rules.evidence[0]).toMatch(/^kind-worker forwards 172\.18\.0\.4:31401 untranslated/);
    // kube-proxy on kind-worker2 masquerades NodePort traffic: the endpoints see kind-worker2.
    expect(json.hops.find((h) => h.stage === 'policy-ingress')!.evidence.join('\n')).toContain('from node/kind-worker2');
  });

  it('a pod to 127.0.0.1 stays in the pod: delivered, exit 0, no node rule in the way', async () => {
    const { json, code } = await runKnetJson<TraceReport>(['trace', 'pod-a', '127.0.0.1:8080', '--snapshot', demo]);
    expect(code).toBe(0);
    expect(json.verdict).toBe('delivered');
    expect(json.hops.map((h) => h.stage)).toEqual(['resolve', 'route']);
  });

  it('--probe on a snapshot: the probe hop is skipped, saying it needs a live cluster', async () => {
    const { json, code } = await runKnetJson<TraceReport>(['trace', 'shop/frontend', 'svc/shop/backend', '--probe', '--snapshot', demo]);
    expect(code).toBe(0);
    expect(json.verdict).toBe('delivered');
    expect(json.hops.at(-1)).toMatchObject({ stage: 'probe', status: 'skip', summary: '--probe needs a live cluster: a snapshot has no pod to connect from' });
    expect(json.notJudged).toContain('probe');
    expect(json.probe).toEqual({ skipped: '--probe needs a live cluster: a snapshot has no pod to connect from', remedy: 'Trace the live cluster (without --snapshot).' });
  });

  it('-o dot and -o mermaid draw the path with every branch', async () => {
    const dot = await runKnet(['trace', 'pod-a', 'svc/xecho', '--snapshot', demo, '-o', 'dot']);
    expect(dot.code).toBe(1);
    expect(dot.stdout).toMatch(/^digraph knet_trace \{/);
    expect(dot.stdout.trim().endsWith('}')).toBe(true);
    expect(dot.stdout).toContain('"b1-policy-ingress" [label="✗ policy-ingress');
    expect(dot.stdout).toContain('verdict [label="dropped"');
    const mermaid = await runKnet(['trace', 'pod-a', 'svc/xecho', '--snapshot', demo, '-o', 'mermaid']);
    expect(mermaid.stdout).toMatch(/^flowchart LR$/m);
    expect(mermaid.stdout).toContain('class b1_policy_ingress fail');
    expect(mermaid.stdout).toMatch(/b0_policy_egress\["✓ policy-egress<br\/>/);
  });

  it.each([
    ['a Service as SRC', ['svc/xecho', 'pod-a'], /SRC "svc\/xecho" is a Service/],
    ['a pod that does not exist', ['pod-b', 'svc/xecho'], /pod "pod-b" not found in namespace default/],
    ['a Service with several ports and no --port', ['pod-a', 'svc/kube-system/kube-dns'], /has 2 TCP ports .*give --port/],
    ['a pod DST without --port', ['pod-a', 'shop/db'], /give --port/],
  ])('%s', async (_what, args, message) => {
    const r = await runKnet(['trace', ...args, '--snapshot', demo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describeNeeding({ commands: ['script', 'stty'] }, 'knet trace to a terminal 70 columns wide (a pty made by script(1))', () => {
  it('wraps the long summaries under their column; into a pipe they stay one line each', async () => {
    const argv = [process.execPath, join(repoRoot, 'bin', 'run.js'), 'trace', 'pod-a', 'svc/xecho', '--snapshot', demo].map((a) => `'${a}'`).join(' ');
    const { stdout } = await execFileAsync('script', ['-qec', `stty cols 70; ${argv}; exit 0`, '/dev/null'], { env: { ...process.env, NO_COLOR: '1' } });
    const lines = stdout.replaceAll('\r', '').split('\n');
    const table = lines.slice(lines.findIndex((l) => l.includes('STAGE')), lines.findIndex((l) => l.startsWith('✓   conntrack')) + 1);
    expect(table.length).toBeGreaterThan(9);
    for (const line of table) expect(line.length).toBeLessThanOrEqual(70);
    const ingress = table.findIndex((l) => l.includes('policy-ingress'));
    // Continuation lines start under the SUMMARY column (the trace exits 1: dropped; script(1) is told to exit 0).
    expect(table[ingress + 1]).toMatch(/^ {21}\S/);
    const piped = await runKnet(['trace', 'pod-a', 'svc/xecho', '--snapshot', demo]);
    expect(piped.stdout.split('\n').find((l) => l.includes('policy-ingress'))!.length).toBeGreaterThan(70);
  });
});
