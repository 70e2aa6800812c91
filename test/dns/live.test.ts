// The live path of knet dns: the kube-dns endpoints found through the real client-node against the test
// API server, and each replica asked over a port-forward (WebSocket, v4.channel.k8s.io) that carries TCP
// DNS to a real bind9. The pods' network namespaces cannot exist here: the port-forward handler relays
// each pod's port 53 to a bind9 on 127.0.0.1 instead (test/support/portforward.ts).
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildDnsIndex, formatZones, type DnsReport } from '../../src/dns/index.js';
import { loadSnapshot } from '../../src/sources/snapshot.js';
import { startTestApiServer, type TestApiServer } from '../support/api-server.js';
import { bind9Missing, startBind9, type Bind9 } from '../support/bind9.js';
import { examplesDir, runKnet } from '../support/cli.js';
import { describeNeeding } from '../support/needs.js';
import { portForwardHandler, type PortForwardLog } from '../support/portforward.js';

const demoDir = join(examplesDir, 'demo');
const replicas = ['kube-system/coredns-7db6d8ff4d-2xk9p:53', 'kube-system/coredns-7db6d8ff4d-tq8vn:53'];

describeNeeding({ check: bind9Missing }, 'knet dns on a live cluster, through port-forwards to each kube-dns pod', () => {
  let api: TestApiServer;
  let good: Bind9;
  let lagging: Bind9;
  let kubeconfig: string;
  const log: PortForwardLog = { connections: [] };
  // Which bind9 stands behind which CoreDNS pod; a test may point both at the good one.
  const behind = new Map<string, () => number>();

  beforeAll(async () => {
    const cluster = (await loadSnapshot(demoDir)).cluster;
    const zones = formatZones(buildDnsIndex(cluster, { clusterDomain: 'cluster.local' }));
    good = await startBind9(zones);
    lagging = await startBind9(zones.map((z) => (z.origin === 'cluster.local' ? { ...z, text: z.text.replace(/^myhost\.headless\.default\.svc\.cluster\.local\. IN A 10\.244\.1\.10\n/m, '') } : z)));
    behind.set('coredns-7db6d8ff4d-2xk9p', () => good.port);
    behind.set('coredns-7db6d8ff4d-tq8vn', () => lagging.port);
    api = await startTestApiServer({
      snapshot: demoDir,
      subresources: {
        portforward: {
          protocols: ['v4.channel.k8s.io'],
          handle: portForwardHandler((req, port) => {
            const to = behind.get(req.name ?? '');
            return port === 53 && to ? { host: '127.0.0.1', port: to() } : undefined;
          }, log),
        },
      },
    });
    kubeconfig = await api.writeKubeconfig({ namespace: 'default' });
  }, 30_000);
  afterAll(async () => {
    await api?.close();
    await good?.stop();
    await lagging?.stop();
  });

  it('asks each ready kube-dns pod over its own port-forward and names the replica that lags', async () => {
    log.connections.length = 0;
    const res = await runKnet(['dns', 'myhost.headless', '--kubeconfig', kubeconfig, '--json']);
    expect(res.code).toBe(1);
    const r = JSON.parse(res.stdout) as DnsReport;
    expect(r.judgedFrom).toBe('servers');
    expect(r.servers).toEqual(replicas);
    expect(r.tried.map((q) => [q.server, q.fqdn, q.rcode, q.isTcp])).toEqual(replicas.map((s) => [s, 'myhost.headless.default.svc.cluster.local', 'NOERROR', true]));
    expect(r.tried[0]!.answers.map((a) => a.data).sort()).toEqual(['10.244.1.10', '10.244.1.12', '10.244.2.11', '10.244.2.13']);
    expect(r.findings.map((f) => `${f.code} ${typeof f.server === 'string' ? f.server : ''}`).sort()).toEqual([`dns-record-missing ${replicas[1]}`, 'dns-replicas-disagree ']);
    expect([...log.connections].sort()).toEqual(replicas);
  });

  it('exits 0 when every replica answers as the API says', async () => {
    behind.set('coredns-7db6d8ff4d-tq8vn', () => good.port);
    try {
      const res = await runKnet(['dns', 'kube-dns.kube-system', '--kubeconfig', kubeconfig, '--json']);
      expect(res.code).toBe(0);
      const r = JSON.parse(res.stdout) as DnsReport;
      expect(r).toMatchObject({ outcome: 'resolves', servers: replicas, findings: [{ code: 'dns-search-expansion', severity: 'info' }] });
    } finally {
      behind.set('coredns-7db6d8ff4d-tq8vn', () => lagging.port);
    }
  });

  it('exits 3 naming RBAC when the API server refuses the port-forward', async () => {
    api.addFault({ match: (req) => req.subresource === 'portforward', status: 403 });
    try {
      const res = await runKnet(['dns', 'web', '--kubeconfig', kubeconfig]);
      expect(res.code).toBe(3);
      expect(res.stderr).toContain('no DNS server answered');
      expect(res.stderr).toMatch(/refused \(HTTP 403\).*pods\/portforward/);
    } finally {
      api.clearFaults();
    }
  });
});
