// knet's DNS engine and UDP/TCP transport against a real DNS server: bind9 serving the zones the demo
// snapshot implies, then zones with planted differences, and two servers that disagree.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDnsIndex, formatZones, planResolver, resolveName, reverseName, type DnsIndex, type DnsReport, type RecordType, type ResolverPlan } from '../../src/dns/index.js';
import type { Cluster } from '../../src/model/cluster.js';
import { SocketDnsTransport } from '../../src/sources/dns-transport.js';
import { loadSnapshot } from '../../src/sources/snapshot.js';
import { bind9Missing, startBind9, type Bind9 } from '../support/bind9.js';
import { aCluster, aService, aSlice } from '../support/builders.js';
import { examplesDir, runKnet } from '../support/cli.js';
import { describeNeeding } from '../support/needs.js';

const demoDir = join(examplesDir, 'demo');
const codes = (r: DnsReport): string[] => r.findings.map((f) => `${f.severity}:${f.code}`).sort();
const sortedData = (r: DnsReport): string[] => r.tried.at(-1)!.answers.map((a) => `${a.type} ${a.data}`).sort();

describeNeeding({ check: bind9Missing }, 'against bind9 serving what the API implies', () => {
  let cluster: Cluster;
  let index: DnsIndex;
  let plan: ResolverPlan;
  let good: Bind9;
  let planted: Bind9;
  let transport: SocketDnsTransport;

  beforeAll(async () => {
    cluster = (await loadSnapshot(demoDir)).cluster;
    index = buildDnsIndex(cluster, { clusterDomain: 'cluster.local' });
    plan = planResolver(cluster, { clusterDomain: 'cluster.local', namespace: 'default' });
    const zones = formatZones(index);
    good = await startBind9(zones);
    // A replica that lags the API: one headless address gone, an old address of web still served.
    const lagging = zones.map((z) =>
      z.origin === 'cluster.local'
        ? { ...z, text: z.text.replace(/^myhost\.headless\.default\.svc\.cluster\.local\. IN A 10\.244\.2\.13\n/m, '') + 'web.default.svc.cluster.local. IN A 10.96.45.99\n' }
        : z,
    );
    expect(lagging[0]!.text).not.toEqual(zones[0]!.text);
    planted = await startBind9(lagging);
    transport = new SocketDnsTransport({ timeoutMs: 1000, retries: 1 });
  }, 30_000);
  afterAll(async () => {
    transport?.close();
    await good?.stop();
    await planted?.stop();
  });

  const ask = (servers: string[], isTcp = false) => ({ transport, servers, isTcp, nextId: transport.nextId });

  it.each<[string, RecordType, string[]]>([
    ['myhost.headless', 'A', ['A 10.244.1.10', 'A 10.244.1.12', 'A 10.244.2.11', 'A 10.244.2.13']],
    ['web', 'A', ['A 10.96.45.20']],
    ['_http._tcp.headless', 'SRV', ['SRV 8080 myhost.headless.default.svc.cluster.local']],
    ['ext-db', 'A', ['CNAME db.prod.example.com']],
    ['kube-dns.kube-system', 'A', ['A 10.96.0.10']],
    ['dns-version.cluster.local.', 'TXT', ['TXT 1.1.0']],
    [`${reverseName('10.96.45.20')!}.`, 'PTR', ['PTR web.default.svc.cluster.local']],
    ['10-244-1-5.default.pod.cluster.local.', 'A', ['A 10.244.1.5']],
  ])('%s %s resolves over UDP and TCP as the API says', async (name, type, want) => {
    for (const isTcp of [false, true]) {
      const r = await resolveName({ name, type, plan, index, ask: ask([good.server], isTcp) });
      expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
      expect(r.outcome).toBe('resolves');
      expect(sortedData(r)).toEqual(want);
      expect(r.tried.every((q) => q.isTcp === isTcp && typeof q.ms === 'number')).toBe(true);
    }
  });

  it('walks the search list to NXDOMAIN for a name nobody serves, and names close ones', async () => {
    const r = await resolveName({ name: 'myhost.headles', type: 'A', plan, index, ask: ask([good.server]) });
    expect(r.tried.map((q) => [q.fqdn, q.rcode])).toEqual([
      ['myhost.headles.default.svc.cluster.local', 'NXDOMAIN'],
      ['myhost.headles.svc.cluster.local', 'NXDOMAIN'],
      ['myhost.headles.cluster.local', 'NXDOMAIN'],
      ['myhost.headles', 'NXDOMAIN'],
    ]);
    expect(codes(r)).toEqual(['error:dns-nxdomain']);
    expect(r.findings[0]!.suggestions).toContain('myhost.headless');
  });

  it('counts the queries a long name costs', async () => {
    const r = await resolveName({ name: 'web.default.svc.cluster.local', type: 'A', plan, index, ask: ask([good.server]) });
    expect(r.tried).toHaveLength(4);
    expect(codes(r)).toEqual(['warning:dns-search-expansion']);
  });

  it('names the records a lagging replica lacks and the ones it should not have, and the disagreement', async () => {
    const headless = await resolveName({ name: 'myhost.headless', type: 'A', plan, index, ask: ask([good.server, planted.server]) });
    expect(codes(headless)).toEqual(['error:dns-record-missing', 'error:dns-replicas-disagree']);
    const missingFinding = headless.findings.find((f) => f.code === 'dns-record-missing')!;
    expect(missingFinding.server).toBe(planted.server);
    expect(missingFinding.missing).toEqual([{ type: 'A', data: '10.244.2.13', from: 'endpointslice default/headless-d8v4c (pod default/headless-79c8d6f5b9-zr6vp)' }]);

    const web = await resolveName({ name: 'web', type: 'A', plan, index, ask: ask([good.server, planted.server], true) });
    expect(codes(web)).toEqual(['error:dns-record-stale', 'error:dns-replicas-disagree']);
    expect(web.findings.find((f) => f.code === 'dns-record-stale')!.stale).toEqual([{ type: 'A', data: '10.96.45.99' }]);
  });

  it('asks again over TCP when a UDP answer is truncated', async () => {
    const ips = Array.from({ length: 80 }, (_, i) => `10.250.${Math.floor(i / 200)}.${(i % 200) + 1}`);
    const big = aCluster({ services: [aService('big', { headless: true })], endpointSlices: [aSlice('big', ips.map((ip) => ({ ip })))] });
    const bigIndex = buildDnsIndex(big, { clusterDomain: 'cluster.local' });
    const server = await startBind9(formatZones(bigIndex));
    try {
      const r = await resolveName({ name: 'big.default.svc.cluster.local.', type: 'A', plan, index: bigIndex, ask: ask([server.server]) });
      expect(r.tried).toHaveLength(1);
      expect(r.tried[0]!.isTcp).toBe(true);
      expect(r.tried[0]!.answers).toHaveLength(80);
      expect(r.findings).toEqual([]);
    } finally {
      await server.stop();
    }
  }, 20_000);

  describe('the CLI', () => {
    it('judges myhost.headless against a server and exits 0', async () => {
      const res = await runKnet(['dns', 'myhost.headless', '--snapshot', demoDir, '--server', good.server, '--json']);
      expect(res.code).toBe(0);
      const json = JSON.parse(res.stdout) as DnsReport;
      expect(json).toMatchObject({ judgedFrom: 'servers', servers: [good.server], outcome: 'resolves', findings: [] });
      expect(json.tried[0]).toMatchObject({ fqdn: 'myhost.headless.default.svc.cluster.local', server: good.server, rcode: 'NOERROR' });
    });

    it('exits 1 with the lagging replica beside the good one', async () => {
      const res = await runKnet(['dns', 'myhost.headless', '--snapshot', demoDir, '--server', good.server, '--server', planted.server, '--no-color']);
      expect(res.code).toBe(1);
      expect(res.stdout).toContain(`ERROR   dns-record-missing: ${planted.server} answered myhost.headless.default.svc.cluster.local A`);
    });

    it('writes zone files and a named.conf that bind9 serves, as the README shows', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'knet-zones-'));
      const port = 20000 + Math.floor(Math.random() * 40000);
      try {
        const res = await runKnet(['dns', '--zones', dir, '--zones-port', String(port), '--snapshot', demoDir, '--json']);
        expect(res.code).toBe(0);
        const written = JSON.parse(res.stdout) as { zones: { origin: string }[]; config: string; server: string };
        expect(written.zones.map((z) => z.origin)).toEqual(['cluster.local', 'in-addr.arpa']);
        expect(written.server).toBe(`127.0.0.1:${port}`);
        const named = spawn('/usr/sbin/named', ['-g', '-c', written.config, '-n', '1'], { stdio: 'ignore' });
        try {
          let r = await runKnet(['dns', 'myhost.headless', '--snapshot', demoDir, '--server', written.server, '--json', '--timeout', '300ms']);
          for (let i = 0; i < 20 && r.code === 3; i++) r = await runKnet(['dns', 'myhost.headless', '--snapshot', demoDir, '--server', written.server, '--json', '--timeout', '300ms']);
          expect(r.code).toBe(0);
          expect(JSON.parse(r.stdout)).toMatchObject({ judgedFrom: 'servers', outcome: 'resolves', findings: [] });
        } finally {
          named.kill('SIGTERM');
          await new Promise((resolve) => named.once('exit', resolve));
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }, 30_000);

    it('exits 3 when no server answers', async () => {
      const res = await runKnet(['dns', 'web', '--snapshot', demoDir, '--server', '127.0.0.1:9', '--timeout', '200ms', '--retries', '0']);
      expect(res.code).toBe(3);
      expect(res.stderr).toMatch(/no DNS server answered \(127\.0\.0\.1:9\)/);
    });
  });
});
