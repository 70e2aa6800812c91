// `knet trace --probe` on a live cluster, through the whole path a user's run takes: the built CLI, the
// real client-node against the HTTPS test API server, node state read through a debug pod, an ephemeral
// container added to the source pod (PATCH pods/NAME/ephemeralcontainers), and the connection attempts
// run over exec (WebSocket) FOR REAL inside a network namespace this test made as the source pod's:
//
//   client pod (10.0.0.2)──eth0┐                 ┌──eth0── pods (10.180.0.1-4; servers on .1 .2 .3 :8080)
//                              node n1 (kube-proxy's rules loaded with iptables-restore)
//                   upstream (192.168.0.1)──up0 (the node's default route)
//
// The only part that is not real is the kubelet starting containers: the test server reports the
// debug pod and the ephemeral container running, and exec into them runs the command in the node's
// and the client's namespaces respectively. Cluster DNS is a real bind9 on 127.0.0.1 serving the API's
// records, reached through the port-forward of the kube-dns pod (test/support/portforward.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKubeProxyIptables } from '../../bench/generate-iptables.mjs';
import { buildDnsIndex, formatZones } from '../../src/dns/index.js';
import type { Cluster } from '../../src/model/cluster.js';
import type { ConfigMap, Service } from '../../src/model/k8s.js';
import type { TraceReport } from '../../src/trace/types.js';
import { startTestApiServer, type TestApiServer } from '../support/api-server.js';
import { bind9Missing, startBind9, type Bind9 } from '../support/bind9.js';
import { aCluster, aNetworkPolicy, aNode, aPod, aService, aSlice } from '../support/builders.js';
import { runKnet, runKnetJson } from '../support/cli.js';
import { netnsExec } from '../support/exec.js';
import { NetnsLab } from '../support/netns.js';
import { NETNS_COMMANDS, describeNeeding } from '../support/needs.js';
import { portForwardHandler } from '../support/portforward.js';

const NODE_IP = '192.168.0.2';

function svc(name: string, clusterIP: string): Service {
  const s = aService(name, { selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] });
  s.spec = { ...s.spec, clusterIP, clusterIPs: [clusterIP] };
  return s;
}

function kubeDns(): Service {
  const s = aService('kube-dns', { ns: 'kube-system', selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }] });
  s.spec = { ...s.spec, clusterIP: '172.30.0.10', clusterIPs: ['172.30.0.10'] };
  return s;
}

const port8080 = [{ name: 'http', containerPort: 8080 }];
const kubeProxy: ConfigMap = { kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': 'mode: iptables\n' } };

/**
 * web: two endpoints whose servers listen. gone: one endpoint at an address where nothing listens (the
 * API and kube-proxy both think it serves). locked: a listening endpoint behind a NetworkPolicy that
 * denies all ingress, which nothing in this kernel enforces (as with a CNI without policy support).
 */
const cluster: Cluster = aCluster({
  nodes: [aNode('n1', { ip: NODE_IP, podCIDR: '10.180.0.0/24' })],
  pods: [
    aPod('client', { labels: { app: 'client' }, ip: '10.0.0.2', node: 'n1' }),
    aPod('w1', { labels: { app: 'web' }, ip: '10.180.0.1', node: 'n1', ports: port8080 }),
    aPod('w2', { labels: { app: 'web' }, ip: '10.180.0.2', node: 'n1', ports: port8080 }),
    aPod('l1', { labels: { app: 'locked' }, ip: '10.180.0.3', node: 'n1', ports: port8080 }),
    aPod('g1', { labels: { app: 'gone' }, ip: '10.180.0.4', node: 'n1', ports: port8080 }),
    // Cluster DNS: its pod's port 53 is relayed by the test server's port-forward to a bind9 serving the API's records.
    aPod('coredns-1', { ns: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ip: '10.180.0.53', node: 'n1' }),
  ],
  services: [svc('web', '172.30.1.10'), svc('locked', '172.30.1.11'), svc('gone', '172.30.1.12'), kubeDns()],
  endpointSlices: [
    aSlice('web', [{ ip: '10.180.0.1', pod: 'w1' }, { ip: '10.180.0.2', pod: 'w2' }]),
    aSlice('locked', [{ ip: '10.180.0.3', pod: 'l1' }]),
    aSlice('gone', [{ ip: '10.180.0.4', pod: 'g1' }]),
    aSlice('kube-dns', [{ ip: '10.180.0.53', pod: 'coredns-1' }], { ns: 'kube-system', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }),
  ],
  networkPolicies: [aNetworkPolicy('locked-deny-all', { podSelector: { matchLabels: { app: 'locked' } }, policyTypes: ['Ingress'] })],
  configMaps: [kubeProxy],
  namespaces: ['default', 'kube-system'].map((name) => ({ kind: 'Namespace', metadata: { name } })),
});

const rules = generateKubeProxyIptables({
  services: [
    { namespace: 'default', name: 'web', clusterIP: '172.30.1.10', ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: [{ ip: '10.180.0.1', isLocal: true }, { ip: '10.180.0.2', isLocal: true }] },
    { namespace: 'default', name: 'locked', clusterIP: '172.30.1.11', ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: [{ ip: '10.180.0.3', isLocal: true }] },
    { namespace: 'default', name: 'gone', clusterIP: '172.30.1.12', ports: [{ name: 'http', port: 80, targetPort: 8080 }], endpoints: [{ ip: '10.180.0.4', isLocal: true }] },
  ],
  podCIDR: '10.0.0.0/8',
});

const probeHop = (r: TraceReport) => r.hops.find((h) => h.stage === 'probe');

describeNeeding({ root: true, commands: [...NETNS_COMMANDS, 'iptables-restore', 'iptables-save', 'bash', 'timeout'], check: bind9Missing }, 'knet trace --probe: a real connection from inside the source pod', () => {
  const lab = new NetnsLab('probe');
  let server: TestApiServer;
  let kubeconfig = '';
  let client = '';
  let node = '';
  let dns: Bind9;
  const log: string[][] = [];

  beforeAll(async () => {
    client = await lab.addNamespace('client');
    node = await lab.addNamespace('node');
    const pods = await lab.addNamespace('pods');
    const upstream = await lab.addNamespace('up');
    await lab.addVeth({ ns: client, ifname: 'eth0', address: '10.0.0.2/24' }, { ns: node, ifname: 'c0', address: '10.0.0.1/24' });
    await lab.addVeth({ ns: pods, ifname: 'eth0', address: ['10.180.0.1/24', '10.180.0.2/24', '10.180.0.3/24', '10.180.0.4/24'] }, { ns: node, ifname: 'p0', address: '10.180.0.254/24' });
    await lab.addVeth({ ns: upstream, ifname: 'eth0', address: '192.168.0.1/24' }, { ns: node, ifname: 'up0', address: `${NODE_IP}/24` });
    await lab.addRoute(client, 'default', { gateway: '10.0.0.1' });
    await lab.addRoute(pods, 'default', { gateway: '10.180.0.254' });
    await lab.addRoute(node, 'default', { gateway: '192.168.0.1' });
    await lab.makeRouter(node);
    for (const ip of ['10.180.0.1', '10.180.0.2', '10.180.0.3']) await lab.startServer(pods, ip, [8080], [ip]);
    await lab.must(node, ['iptables-restore'], rules);
    dns = await startBind9(formatZones(buildDnsIndex(cluster, { clusterDomain: 'cluster.local' })));
    server = await startTestApiServer({
      cluster,
      subresources: {
        // The probe's container shares the client pod's network namespace; the debug pod is the node's.
        exec: netnsExec({ namespaceFor: (req) => ((req.query.get('container') ?? '').startsWith('knet-probe-') ? client : node), log }),
        portforward: { protocols: ['v4.channel.k8s.io'], handle: portForwardHandler((req, port) => (req.name === 'coredns-1' && port === 53 ? { host: '127.0.0.1', port: dns.port } : undefined)) },
      },
    });
    kubeconfig = await server.writeKubeconfig();
  }, 30_000);

  afterAll(async () => {
    await server?.close();
    await dns?.stop();
    await lab.cleanup();
  });

  it('delivered, and the real connections connect: the probe hop is ok, exit 0', async () => {
    const before = server.requests.length;
    const { json, code, stderr } = await runKnetJson<TraceReport>(['trace', 'client', 'svc/web', '--probe', '--probe-timeout', '1s', '--kubeconfig', kubeconfig]);
    expect(stderr).toBe('');
    expect(json.verdict).toBe('delivered');
    expect(probeHop(json)).toMatchObject({ status: 'ok' });
    expect(json.probe).toMatchObject({ pod: 'default/client', image: expect.stringMatching(/netshoot/) as unknown });
    const attempts = 'attempts' in json.probe! ? json.probe.attempts : [];
    expect(attempts.map((a) => [a.role, `${a.ip}:${a.port}`, a.expect, a.result])).toEqual([
      ['front', '172.30.1.10:80', 'connected', 'connected'],
      ['endpoint', '10.180.0.1:8080', 'connected', 'connected'],
      ['endpoint', '10.180.0.2:8080', 'connected', 'connected'],
    ]);
    expect(json.findings.map((f) => f.code)).not.toContain('trace-probe-disagrees');
    expect(code).toBe(0);

    // RBAC was asked first; the container was added by PATCH with a strategic merge, named and marked as knet's.
    const mine = server.requests.slice(before);
    const reviews = mine.filter((r) => r.resource === 'selfsubjectaccessreviews').map((r) => (r.body as unknown as { spec: { resourceAttributes: { verb: string; subresource?: string } } }).spec.resourceAttributes);
    expect(reviews.map((a) => `${a.verb} pods/${a.subresource ?? ''}`)).toEqual(expect.arrayContaining(['patch pods/ephemeralcontainers', 'create pods/exec']));
    const patches = mine.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => `${r.namespace}/${r.name}/${r.subresource}`)).toEqual(['default/client/ephemeralcontainers']);
    const added = (patches[0]!.body as unknown as { spec: { ephemeralContainers: { name: string; env: unknown; securityContext: unknown; command: string[] }[] } }).spec.ephemeralContainers[0]!;
    expect(added.name).toMatch(/^knet-probe-[0-9a-f]{6}$/);
    expect(added.env).toEqual([{ name: 'KNET_MANAGED_BY', value: 'knet' }]);
    expect(added.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(added.command[0]).toBe('sleep');
    // The attempts ran in that container, over exec.
    const execs = mine.filter((r) => r.subresource === 'exec' && r.query.get('container') === added.name);
    expect(execs).toHaveLength(1);
    // It cannot be removed; knet cleanup names it.
    const cleanup = await runKnetJson<{ probeContainers: { pod: string; container: string }[] }>(['cleanup', '--kubeconfig', kubeconfig]);
    expect(cleanup.json.probeContainers).toContainEqual(expect.objectContaining({ pod: 'client', container: added.name }));
  });

  it('a DNS name: asked of the kube-dns pod through a port-forward, as the API implies, then probed at the address it resolved to', async () => {
    const { json, code, stderr } = await runKnetJson<TraceReport>(['trace', 'client', 'web.default', '--probe', '--probe-timeout', '1s', '--kubeconfig', kubeconfig]);
    expect(stderr).toBe('');
    expect(json.hops.find((h) => h.stage === 'resolve')!.summary).toBe('web.default → web.default.svc.cluster.local → 172.30.1.10 (svc/default/web), asked kube-system/coredns-1:53, as the API implies');
    expect(json.verdict).toBe('delivered');
    expect(probeHop(json)).toMatchObject({ status: 'ok' });
    expect('attempts' in json.probe! ? json.probe.attempts.map((a) => `${a.ip}:${a.port} ${a.result}`) : []).toEqual(['172.30.1.10:80 connected', '10.180.0.1:8080 connected', '10.180.0.2:8080 connected']);
    expect(code).toBe(0);
  });

  it('delivered, but the real connection is refused (nothing listens): the probe hop fails with trace-probe-disagrees, exit 1', async () => {
    const { json, code } = await runKnetJson<TraceReport>(['trace', 'client', 'svc/gone', '--probe', '--probe-timeout', '1s', '--kubeconfig', kubeconfig]);
    expect(json.verdict).toBe('delivered');
    expect(probeHop(json)).toMatchObject({ status: 'fail', fate: 'rejected' });
    expect(probeHop(json)!.summary).toBe('a real connection from default/client to 172.30.1.12:80 was refused, but the trace expects a connection: the simulation missed something (2 of 2 attempts disagree)');
    expect(json.findings[0]).toMatchObject({ code: 'trace-probe-disagrees', severity: 'error', target: '172.30.1.12:80', expected: 'connected', actual: 'refused' });
    expect(json.firstFailure).toMatchObject({ stage: 'probe' });
    expect(code).toBe(1);
  });

  it('dropped by a NetworkPolicy that nothing enforces, and the real connection connects: trace-probe-disagrees, and the text says so', async () => {
    const { stdout, code } = await runKnet(['trace', 'client', 'svc/locked', '--probe', '--probe-timeout', '1s', '--kubeconfig', kubeconfig, '--no-color']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗\s+policy-ingress/);
    expect(stdout).toMatch(/✗\s+probe\s+a real connection from default\/client to 172\.30\.1\.11:80 connected, but the trace expects a timeout \(dropped\)/);
    expect(stdout).toContain('trace-probe-disagrees');
  });

  it('exits 3 naming the RBAC rule when patch pods/ephemeralcontainers is not allowed, and adds nothing', async () => {
    server.setAccess((a) => !(a.verb === 'patch' && a.subresource === 'ephemeralcontainers'));
    const before = server.requests.length;
    try {
      const r = await runKnet(['trace', 'client', 'svc/web', '--probe', '--kubeconfig', kubeconfig]);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/RBAC forbids "patch pods\/ephemeralcontainers" in namespace default, which --probe needs/);
      expect(r.stderr).toContain('resources: ["pods/ephemeralcontainers"], verbs: ["patch"]');
      expect(server.requests.slice(before).filter((q) => q.method === 'PATCH')).toEqual([]);
    } finally {
      server.setAccess(() => true);
    }
  });
});
