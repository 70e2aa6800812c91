// `knet trace` to a DNS name and `knet check`'s dns checks against a real DNS server: bind9 on 127.0.0.1
// serving the demo cluster's records (as `knet dns --zones` writes them), asked with --server on the
// snapshot, and live through a port-forward to each kube-dns pod (the test API server relays each pod's
// port 53 to a bind9, since the pods' network namespaces cannot exist here: test/support/portforward.ts).
// Variants of the zone stand for a DNS replica that lags the API (a record missing) or serves a stale one.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildDnsIndex, formatZones, type ZoneFile } from '../../src/dns/index.js';
import { loadSnapshot } from '../../src/sources/snapshot.js';
import type { CheckReport } from '../../src/trace/checks.js';
import type { TraceReport } from '../../src/trace/types.js';
import { startTestApiServer, type TestApiServer } from '../support/api-server.js';
import { bind9Missing, startBind9, type Bind9 } from '../support/bind9.js';
import { examplesDir, runKnetJson } from '../support/cli.js';
import { describeNeeding } from '../support/needs.js';
import { portForwardHandler, type PortForwardLog } from '../support/portforward.js';

const demo = join(examplesDir, 'demo');
const BACKEND_A = /^backend\.shop\.svc\.cluster\.local\. IN A 10\.96\.140\.21\n/m;

function edit(zones: ZoneFile[], change: (text: string) => string): ZoneFile[] {
  const out = zones.map((z) => (z.origin === 'cluster.local' ? { ...z, text: change(z.text) } : z));
  // The edit must have changed something, or the test would prove nothing.
  expect(out.find((z) => z.origin === 'cluster.local')!.text).not.toBe(zones.find((z) => z.origin === 'cluster.local')!.text);
  return out;
}

const resolveHop = (r: TraceReport) => r.hops.find((h) => h.stage === 'resolve')!;

describeNeeding({ check: bind9Missing }, 'trace and check ask a real DNS server, and compare its answer with the API', () => {
  let good: Bind9;
  let lagging: Bind9;
  let stale: Bind9;
  let api: TestApiServer;
  let kubeconfig = '';
  let dir = '';
  const log: PortForwardLog = { connections: [] };
  // Which bind9 stands behind both CoreDNS pods of the demo.
  let behind: () => Bind9;

  beforeAll(async () => {
    const zones = formatZones(buildDnsIndex((await loadSnapshot(demo)).cluster, { clusterDomain: 'cluster.local' }));
    [good, lagging, stale] = await Promise.all([
      startBind9(zones),
      startBind9(edit(zones, (t) => t.replace(BACKEND_A, ''))),
      startBind9(edit(zones, (t) => t.replace(BACKEND_A, 'backend.shop.svc.cluster.local. IN A 10.96.140.99\n'))),
    ]);
    behind = () => good;
    api = await startTestApiServer({
      snapshot: demo,
      subresources: {
        portforward: { protocols: ['v4.channel.k8s.io'], handle: portForwardHandler((req, port) => (port === 53 && req.namespace === 'kube-system' ? { host: '127.0.0.1', port: behind().port } : undefined), log) },
      },
    });
    kubeconfig = await api.writeKubeconfig({ namespace: 'default' });
    dir = await mkdtemp(join(tmpdir(), 'knet-trace-dns-'));
  }, 30_000);

  afterAll(async () => {
    await api?.close();
    await Promise.all([good?.stop(), lagging?.stop(), stale?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('trace on a snapshot with --server: the resolve hop names the server and agrees with the API, the connection is delivered', async () => {
    const { json, code } = await runKnetJson<TraceReport>(['trace', 'shop/frontend', 'backend.shop', '--snapshot', demo, '--server', good.server]);
    expect(code).toBe(0);
    expect(json.verdict).toBe('delivered');
    const hop = resolveHop(json);
    expect(hop.status).toBe('ok');
    expect(hop.summary).toBe(`backend.shop → backend.shop.svc.cluster.local → 10.96.140.21 (svc/shop/backend), asked ${good.server}, as the API implies`);
    expect(hop.evidence).toContain('the API implies: backend.shop.svc.cluster.local A 10.96.140.21');
    expect(hop.evidence).toContain(`backend.shop.svc.cluster.local → NOERROR A 10.96.140.21 (${good.server})`);
  });

  it('a server that lags the API (the A record is missing, the name has its SRV: NODATA): the resolve hop fails with dns-record-missing and says what the API implies', async () => {
    const { json, code } = await runKnetJson<TraceReport>(['trace', 'shop/frontend', 'backend.shop', '--snapshot', demo, '--dns-server', lagging.server]);
    expect(code).toBe(1);
    expect(json.verdict).toBe('rejected');
    const hop = resolveHop(json);
    expect(hop).toMatchObject({ status: 'fail', fate: 'rejected' });
    expect(hop.summary).toMatch(new RegExp(`^backend\\.shop does not resolve from shop/frontend: NOERROR \\(no address\\); asked ${lagging.server.replace(/\./g, '\\.')}; the API implies backend\\.shop\\.svc\\.cluster\\.local A 10\\.96\\.140\\.21 \\(dns-record-missing\\)$`));
    expect(json.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['trace-rejected', 'dns-record-missing']));
    expect(json.firstFailure).toMatchObject({ stage: 'resolve' });
  });

  it('a server with a stale record: the resolve hop fails with dns-record-stale, showing both answers', async () => {
    const { json, code } = await runKnetJson<TraceReport>(['trace', 'shop/frontend', 'backend.shop', '--snapshot', demo, '--server', stale.server]);
    expect(code).toBe(1);
    const hop = resolveHop(json);
    expect(hop).toMatchObject({ status: 'fail', fate: 'unknown' });
    expect(hop.summary).toContain('→ 10.96.140.99');
    expect(hop.summary).toContain('the API implies backend.shop.svc.cluster.local A 10.96.140.21 (dns-record-missing, dns-record-stale)');
    expect(json.findings.map((f) => f.code)).toContain('dns-record-stale');
  });

  it('a name the server does not know: NXDOMAIN from the server, where the API alone cannot say', async () => {
    const offline = await runKnetJson<TraceReport>(['trace', 'shop/frontend', 'nothing.example', '--port', '443', '--snapshot', demo]);
    expect(offline.json.verdict).toBe('unknown');
    expect(resolveHop(offline.json).status).toBe('skip');
    const { json, code } = await runKnetJson<TraceReport>(['trace', 'shop/frontend', 'nothing.example', '--port', '443', '--snapshot', demo, '--server', good.server]);
    expect(code).toBe(1);
    expect(json.verdict).toBe('rejected');
    expect(resolveHop(json)).toMatchObject({ status: 'fail', fate: 'rejected' });
    expect(resolveHop(json).summary).toMatch(/^nothing\.example does not resolve from shop\/frontend: NXDOMAIN; asked 127\.0\.0\.1:\d+$/);
    expect(json.findings.map((f) => f.code)).toContain('dns-nxdomain');
  });

  it('check with --server: a dns check passes where the server agrees, fails where it lags, and a name the server does not know is nxdomain', async () => {
    const file = join(dir, 'checks.yaml');
    await writeFile(file, [
      'checks:',
      '  - name: the frontend resolves the backend',
      '    dns: { name: backend, from: shop/frontend }',
      '    expect: resolves',
      '  - name: an unknown name',
      '    dns: { name: nosuch.shop, from: shop/frontend }',
      '    expect: nxdomain',
      '',
    ].join('\n'));
    const ok = await runKnetJson<CheckReport>(['check', '-f', file, '--snapshot', demo, '--server', good.server]);
    expect(ok.json.checks.map((c) => [c.name, c.status])).toEqual([['the frontend resolves the backend', 'pass'], ['an unknown name', 'pass']]);
    expect(ok.json.checks[0]!.reason).toContain(`asked ${good.server}`);
    expect(ok.code).toBe(0);
    const bad = await runKnetJson<CheckReport>(['check', '-f', file, '--snapshot', demo, '--server', lagging.server]);
    expect(bad.code).toBe(1);
    expect(bad.json.checks[0]).toMatchObject({ status: 'fail', actual: 'nodata, not as the API implies' });
    expect(bad.json.checks[0]!.reason).toContain('the API implies A 10.96.140.21: dns-record-missing');
    expect(bad.json.failures).toEqual(['the frontend resolves the backend']);
    // A stale answer still "resolves", as expected; it is not what the API implies, and that fails the check.
    const wrong = await runKnetJson<CheckReport>(['check', '-f', file, '--snapshot', demo, '--server', stale.server]);
    expect(wrong.json.checks[0]).toMatchObject({ status: 'fail', actual: 'resolves, not as the API implies' });
    expect(wrong.json.checks[0]!.reason).toContain('dns-record-stale');
    expect(wrong.code).toBe(1);
  });

  it('check on a live cluster asks each kube-dns pod through a port-forward; a lagging replica fails the dns check', async () => {
    const file = join(dir, 'live.yaml');
    await writeFile(file, 'checks:\n  - name: the frontend resolves the backend\n    dns: { name: backend, from: shop/frontend }\n    expect: resolves\n');
    log.connections.length = 0;
    behind = () => good;
    const ok = await runKnetJson<CheckReport>(['check', '-f', file, '--kubeconfig', kubeconfig]);
    expect(ok.json.checks[0]).toMatchObject({ status: 'pass' });
    expect(ok.json.checks[0]!.reason).toContain('asked kube-system/coredns-7db6d8ff4d-2xk9p:53, kube-system/coredns-7db6d8ff4d-tq8vn:53');
    expect(new Set(log.connections)).toEqual(new Set(['kube-system/coredns-7db6d8ff4d-2xk9p:53', 'kube-system/coredns-7db6d8ff4d-tq8vn:53']));
    expect(ok.code).toBe(0);
    behind = () => lagging;
    const bad = await runKnetJson<CheckReport>(['check', '-f', file, '--kubeconfig', kubeconfig]);
    expect(bad.json.checks[0]).toMatchObject({ status: 'fail' });
    expect(bad.json.checks[0]!.reason).toContain('dns-record-missing');
    expect(bad.code).toBe(1);
  });
});
