import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KnetError } from '../../src/model/errors.js';
import type { Cluster } from '../../src/model/cluster.js';
import type { ConfigMap } from '../../src/model/k8s.js';
import { clusterDomainOf, openLiveCluster, podCIDRsOf, proxyModeOf } from '../../src/sources/live/cluster.js';
import { parseRequestTimeout } from '../../src/sources/live/duration.js';
import { loadSnapshot } from '../../src/sources/snapshot.js';
import { startTestApiServer, type TestApiServer } from '../support/api-server.js';
import { examplesDir } from '../support/cli.js';

const demo = join(examplesDir, 'demo');

function objectsOf(cluster: Cluster): Omit<Cluster, 'meta'> {
  const { meta: _meta, ...objects } = cluster;
  return objects;
}

async function failureOf(promise: Promise<unknown>): Promise<KnetError> {
  try {
    await promise;
  } catch (err) {
    return err as KnetError;
  }
  throw new Error('expected the call to fail');
}

let server: TestApiServer;
let kubeconfig: string;
let expected: Cluster;

beforeAll(async () => {
  server = await startTestApiServer({ snapshot: demo, maxPageSize: 2 });
  kubeconfig = await server.writeKubeconfig();
  expected = (await loadSnapshot(demo)).cluster;
});
afterAll(() => server.close());
afterEach(() => {
  server.clearFaults();
  server.requests.length = 0;
});

describe('openLiveCluster against the test API server', () => {
  it('reads every object cluster-wide, deep-equal to what the snapshot loader reads from the same objects', async () => {
    const opened = await openLiveCluster({ kubeconfig, allNamespaces: true });
    expect(objectsOf(opened.cluster)).toEqual(objectsOf(expected));
    expect(opened.cluster.meta).toEqual({ clusterDomain: 'cluster.local', context: 'knet-test', proxyMode: 'iptables', podCIDRs: ['10.244.0.0/16'] });
    expect(opened.origin).toBe('context knet-test');
    expect(opened.namespace).toBe('default');
  });

  it("takes the service CIDRs from the API server's ServiceCIDR object when it has one", async () => {
    server.store.set('servicecidrs', [{ metadata: { name: 'kubernetes' }, spec: { cidrs: ['10.96.0.0/16', 'fd00:10:96::/112'] } }]);
    try {
      const opened = await openLiveCluster({ kubeconfig, allNamespaces: true });
      expect(opened.cluster.meta.serviceCIDRs).toEqual(['10.96.0.0/16', 'fd00:10:96::/112']);
    } finally {
      server.store.set('servicecidrs', []);
    }
  });

  it('pages every list with limit 500 and follows continue tokens to the end', async () => {
    await openLiveCluster({ kubeconfig, allNamespaces: true });
    const podLists = server.requests.filter((r) => r.resource === 'pods' && r.verb === 'list');
    expect(podLists.every((r) => r.query.get('limit') === '500')).toBe(true);
    expect(podLists.length).toBe(Math.ceil(expected.pods.length / 2));
    expect(podLists.slice(1).every((r) => (r.query.get('continue') ?? '') !== '')).toBe(true);
  });

  it('never asks for Secrets, and reads only the kube-proxy and CoreDNS ConfigMaps, by name', async () => {
    await openLiveCluster({ kubeconfig, allNamespaces: true });
    expect(server.requests.filter((r) => r.resource === 'secrets')).toEqual([]);
    expect(server.requests.filter((r) => r.resource === 'configmaps').map((r) => `${r.verb} ${r.namespace}/${r.name}`).sort()).toEqual([
      'get kube-system/coredns',
      'get kube-system/kube-proxy',
    ]);
  });

  it('in one namespace lists namespaced kinds only there, and cluster-scoped kinds whole', async () => {
    const opened = await openLiveCluster({ kubeconfig, namespace: 'kube-system' });
    expect(opened.namespace).toBe('kube-system');
    expect(opened.cluster.pods.map((p) => p.metadata.name).sort()).toEqual(
      expected.pods.filter((p) => p.metadata.namespace === 'kube-system').map((p) => p.metadata.name).sort(),
    );
    expect(opened.cluster.nodes).toEqual(expected.nodes);
    const namespacedLists = server.requests.filter((r) => r.verb === 'list' && ['pods', 'services', 'endpoints', 'endpointslices', 'networkpolicies'].includes(r.resource!));
    expect(namespacedLists.every((r) => r.namespace === 'kube-system')).toBe(true);
  });

  it('lists the extra namespaces a command names, one list per namespace, and only those', async () => {
    const opened = await openLiveCluster({ kubeconfig, namespace: 'default', namespaces: ['kube-system', 'default'] });
    const inScope = (ns: string | undefined): boolean => ns === 'default' || ns === 'kube-system';
    expect(opened.cluster.pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort()).toEqual(
      expected.pods.filter((p) => inScope(p.metadata.namespace)).map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort(),
    );
    expect(server.requests.filter((r) => r.resource === 'services' && r.verb === 'list' && !r.query.has('continue')).map((r) => r.namespace)).toEqual(['default', 'kube-system']);
  });

  it("takes the context's namespace when -n is not given", async () => {
    const withNs = await server.writeKubeconfig({ namespace: 'kube-system' });
    const opened = await openLiveCluster({ kubeconfig: withNs });
    expect(opened.namespace).toBe('kube-system');
    expect(opened.cluster.services.every((s) => s.metadata.namespace === 'kube-system')).toBe(true);
  });
});

describe('kubeconfig as kubectl reads it', () => {
  let dir: string;
  const savedEnv = process.env.KUBECONFIG;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knet-kubeconfig-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = savedEnv;
  });

  it('merges KUBECONFIG paths: missing files skipped, the first current-context and first definition win', async () => {
    const first = await server.writeKubeconfig({ contextName: 'first', namespace: 'kube-system' });
    const second = await server.writeKubeconfig({ contextName: 'second', token: 'wrong-token' });
    process.env.KUBECONFIG = [join(dir, 'missing.yaml'), first, second].join(':');
    const opened = await openLiveCluster({});
    expect(opened.origin).toBe('context first');
    expect(opened.namespace).toBe('kube-system');
    // --context picks the second file's context, whose user carries a token the server refuses.
    const err = await failureOf(openLiveCluster({ context: 'second' }));
    expect([err.exit, err.code]).toEqual([3, 'api-unauthorized']);
  });

  it('keeps the first definition of a context defined in two KUBECONFIG files', async () => {
    const first = await server.writeKubeconfig({ contextName: 'dup', namespace: 'kube-system', file: join(dir, 'one.yaml') });
    const second = await server.writeKubeconfig({ contextName: 'dup', namespace: 'default', token: 'wrong-token', file: join(dir, 'two.yaml') });
    process.env.KUBECONFIG = [first, second].join(':');
    const opened = await openLiveCluster({});
    expect([opened.origin, opened.namespace]).toEqual(['context dup', 'kube-system']);
  });

  it('a client certificate file that is gone is exit 3 naming the context', async () => {
    const file = join(dir, 'cert.yaml');
    await writeFile(file, (await readFile(kubeconfig, 'utf8')).replace(/token: .*/, `client-certificate: ${join(dir, 'gone.crt')}\n      client-key: ${join(dir, 'gone.key')}`));
    const err = await failureOf(openLiveCluster({ kubeconfig: file }));
    expect([err.exit, err.code]).toEqual([3, 'kubeconfig-credentials']);
    expect(err.message).toMatch(/cannot get credentials for context "knet-test": .*gone\.(crt|key)/);
  });

  it.each([
    { what: 'a file that does not exist', file: 'nope.yaml', text: undefined, code: 'kubeconfig-unreadable', message: /kubeconfig .*nope\.yaml does not exist/ },
    { what: 'YAML that does not parse', file: 'broken.yaml', text: 'clusters: [\n  - name: x\n   bad', code: 'kubeconfig-malformed', message: /kubeconfig .*broken\.yaml:2 is not valid YAML: Block collections are not allowed/ },
    { what: 'a cluster without a server', file: 'no-server.yaml', text: 'clusters:\n  - name: x\n    cluster: {}\ncontexts: []\nusers: []\n', code: 'kubeconfig-malformed', message: /no-server\.yaml is not valid: clusters\[0\]\.cluster\.server is missing/ },
  ])('refuses $what with exit 2 naming the file', async ({ file, text, code, message }) => {
    const path = join(dir, file);
    if (text !== undefined) await writeFile(path, text);
    const err = await failureOf(openLiveCluster({ kubeconfig: path }));
    expect([err.exit, err.code]).toEqual([2, code]);
    expect(err.message).toMatch(message);
  });

  it('names the closest context when --context matches none', async () => {
    const err = await failureOf(openLiveCluster({ kubeconfig, context: 'knet-tset' }));
    expect([err.exit, err.code]).toEqual([2, 'context-not-found']);
    expect(err.suggestions).toEqual(['Did you mean: knet-test?']);
  });
});

describe('API errors become exit 3 with what failed and what to do', () => {
  const onList = (resource: string) => (r: { resource?: string; verb: string }) => r.resource === resource && r.verb === 'list';

  it.each([
    {
      what: '403 on a cluster-wide list',
      fault: { match: onList('endpointslices'), status: 403 },
      code: 'api-forbidden',
      message: /RBAC forbids "list endpointslices\.discovery\.k8s\.io" cluster-wide \(403 Forbidden\): endpointslices\.discovery\.k8s\.io is forbidden: User "system:serviceaccount:default:knet" cannot list/,
      suggestion: /-n NAMESPACE/,
    },
    { what: '500', fault: { match: onList('pods'), status: 500 }, code: 'api-server-error', message: /list pods cluster-wide: the API server failed \(500 InternalError\)/, suggestion: /readyz/ },
    { what: '429 that never ends', fault: { match: onList('services'), status: 429, retryAfter: 0 }, code: 'api-throttled', message: /still throttling after 3 retries/, suggestion: /-n/ },
    { what: '404 on a core kind', fault: { match: onList('nodes'), status: 404 }, code: 'api-not-found', message: /list nodes: not found \(404\)/, suggestion: /does not serve v1 nodes/ },
  ])('$what', async ({ fault, code, message, suggestion }) => {
    server.addFault(fault);
    const err = await failureOf(openLiveCluster({ kubeconfig, allNamespaces: true }));
    expect([err.exit, err.code]).toEqual([3, code]);
    expect(err.message).toMatch(message);
    expect(err.suggestions.join('\n')).toMatch(suggestion);
  });

  it('401 when the token is refused', async () => {
    const err = await failureOf(openLiveCluster({ kubeconfig: await server.writeKubeconfig({ token: 'stolen' }), allNamespaces: true }));
    expect([err.exit, err.code]).toEqual([3, 'api-unauthorized']);
    expect(err.message).toMatch(/rejected the credentials of context "knet-test" \(401 Unauthorized\)/);
  });

  it('a server certificate from another CA is a TLS error that points at the CA', async () => {
    const err = await failureOf(openLiveCluster({ kubeconfig: await server.writeKubeconfig({ caCert: server.certs.otherCaCert }), allNamespaces: true }));
    expect([err.exit, err.code]).toEqual([3, 'api-tls']);
    expect(err.message).toMatch(/TLS certificate of https:\/\/127\.0\.0\.1:\d+ was refused \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\)/);
    expect(err.suggestions[0]).toMatch(/not signed by the CA of context "knet-test"/);
  });

  it('a closed port is "cannot connect"', async () => {
    const err = await failureOf(openLiveCluster({ kubeconfig: await server.writeKubeconfig({ server: 'https://127.0.0.1:1' }), allNamespaces: true }));
    expect([err.exit, err.code]).toEqual([3, 'api-unreachable']);
    expect(err.message).toMatch(/cannot connect to the API server at https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  });

  it('a host name that does not resolve is named as such', async () => {
    // .invalid never resolves (RFC 6761); without a resolver the lookup fails the same way.
    const err = await failureOf(openLiveCluster({ kubeconfig: await server.writeKubeconfig({ server: 'https://api.knet-test.invalid:6443' }), allNamespaces: true }));
    expect([err.exit, err.code]).toEqual([3, 'api-unreachable']);
    expect(err.message).toMatch(/host name in https:\/\/api\.knet-test\.invalid:6443 does not resolve \((ENOTFOUND|EAI_AGAIN)\)/);
  });

  it('a page that is not JSON (a proxy in the way) says so instead of crashing', async () => {
    server.addFault({ match: onList('pods'), body: '<html><body>Please sign in</body></html>' });
    const err = await failureOf(openLiveCluster({ kubeconfig, allNamespaces: true }));
    expect([err.exit, err.code]).toEqual([3, 'api-bad-response']);
    expect(err.message).toMatch(/list pods cluster-wide: https:\/\/127\.0\.0\.1:\d+ answered with something that is not JSON \("<html><body>Please sign in/);
  });

  it('a slow answer stops at --request-timeout', async () => {
    server.addFault({ match: onList('networkpolicies'), delayMs: 3000 });
    const err = await failureOf(openLiveCluster({ kubeconfig, allNamespaces: true, 'request-timeout': '300ms' }));
    expect([err.exit, err.code]).toEqual([3, 'api-timeout']);
    expect(err.message).toMatch(/list networkpolicies\.networking\.k8s\.io cluster-wide: .* did not answer within --request-timeout 300ms/);
  });

  it.each([
    ['429 with Retry-After, twice', { status: 429, retryAfter: 1, times: 2 }, 3],
    ['503 with Retry-After, once', { status: 503, retryAfter: 1, times: 1 }, 2],
  ])('retries %s and then succeeds', async (_what, fault, attempts) => {
    server.addFault({ match: (r) => onList('services')(r) && !r.query.has('continue'), ...fault });
    const opened = await openLiveCluster({ kubeconfig, allNamespaces: true });
    expect(opened.cluster.services).toEqual(expected.services);
    expect(server.requests.filter((r) => onList('services')(r) && !r.query.has('continue')).length).toBe(attempts);
  });

  it('restarts a list once when its continue token has expired (410)', async () => {
    server.addFault({ match: (r) => onList('pods')(r) && r.query.has('continue'), status: 410, times: 1 });
    const opened = await openLiveCluster({ kubeconfig, allNamespaces: true });
    expect(opened.cluster.pods).toEqual(expected.pods);
  });

  it('the admin policy API being absent (404) is no error; forbidden (403) is a warning', async () => {
    expect(server.requests).toEqual([]);
    await openLiveCluster({ kubeconfig, allNamespaces: true });
    expect(server.requests.filter((r) => r.resource === 'adminnetworkpolicies').length).toBe(1);
    server.addFault({ match: onList('baselineadminnetworkpolicies'), status: 403 });
    const opened = await openLiveCluster({ kubeconfig, allNamespaces: true });
    expect(opened.cluster.baselineAdminNetworkPolicies).toEqual([]);
  });

  it('in one namespace, forbidden Nodes and Namespaces lists are left out and the namespace is read by name', async () => {
    server.addFault({ match: (r) => (r.resource === 'nodes' || r.resource === 'namespaces') && r.verb === 'list', status: 403 });
    const opened = await openLiveCluster({ kubeconfig, namespace: 'default' });
    expect(opened.cluster.nodes).toEqual([]);
    expect(opened.cluster.namespaces.map((n) => n.metadata.name)).toEqual(['default']);
    // With -A the same refusal is fatal.
    const err = await failureOf(openLiveCluster({ kubeconfig, allNamespaces: true }));
    expect([err.exit, err.code]).toEqual([3, 'api-forbidden']);
  });
});

describe('parseRequestTimeout', () => {
  it.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['2', 2000],
    ['1h', 3_600_000],
    ['0', undefined],
    [undefined, undefined],
  ])('%s → %s ms', (text, ms) => {
    expect(parseRequestTimeout(text)).toBe(ms);
  });

  // --request-timeout 1000h overflowed Node's 32-bit timer: every request timed out at once.
  it.each(['30 seconds', 's', '1x', '-1s', '1000h', '9999999999'])('refuses %s with exit 2', (text) => {
    expect(() => parseRequestTimeout(text)).toThrow(expect.objectContaining({ exit: 2, code: 'bad-duration' }) as Error);
  });
});

describe('what the kube-proxy and CoreDNS ConfigMaps tell', () => {
  const cm = (name: string, data: Record<string, string>): ConfigMap => ({ kind: 'ConfigMap', metadata: { namespace: 'kube-system', name }, data });
  it.each([
    [[cm('kube-proxy', { 'config.conf': 'kind: KubeProxyConfiguration\nmode: ipvs\n' })], 'ipvs'],
    [[cm('kube-proxy', { 'config.conf': 'mode: "nftables"\n' })], 'nftables'],
    [[cm('kube-proxy', { 'config.conf': 'mode: ""\n' })], 'iptables'],
    [[cm('kube-proxy', { 'config.conf': 'clusterCIDR: 10.0.0.0/8\n' })], 'iptables'],
    [[cm('kube-proxy', { 'config.conf': 'mode: kernelspace\n' })], undefined],
    [[], undefined],
  ])('proxyModeOf %#', (configMaps, mode) => {
    expect(proxyModeOf(configMaps)).toBe(mode);
  });

  it.each([
    ['mode: iptables\nclusterCIDR: 10.244.0.0/16\n', ['10.244.0.0/16']],
    ['clusterCIDR: "10.244.0.0/16,fd00:10:244::/56"\n', ['10.244.0.0/16', 'fd00:10:244::/56']],
    ['clusterCIDR: ""\n', undefined],
    ['mode: ipvs\n', undefined],
  ])('podCIDRsOf %j', (conf, cidrs) => {
    expect(podCIDRsOf([cm('kube-proxy', { 'config.conf': conf })])).toEqual(cidrs);
  });

  it.each([
    ['.:53 {\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n      pods insecure\n    }\n}\n', 'cluster.local'],
    ['.:53 {\n    kubernetes corp.example. {\n    }\n}\n', 'corp.example'],
    ['.:53 {\n    forward . /etc/resolv.conf\n}\n', undefined],
  ])('clusterDomainOf %#', (corefile, domain) => {
    expect(clusterDomainOf([cm('coredns', { Corefile: corefile })])).toBe(domain);
  });
});
