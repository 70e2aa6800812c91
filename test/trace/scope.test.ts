// `knet trace` on a snapshot reads only the namespaces of SRC and DST (src/sources/scoped-list.ts) and
// keeps that answer only when nothing left out could change it (src/trace/scope.ts). Given snapshots in
// the two shapes the scoped read understands (a JSON List one item per line, as the benchmarks write it,
// and the YAML Lists `knet snapshot save` writes), when a trace runs with the scoped read and with the
// whole cluster read, then both answers are the same JSON, whatever the destination or the objects in
// other namespaces.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchServices, generateKubeProxyIptables, type GeneratedService } from '../../bench/generate-iptables.mjs';
import { runTrace, type TraceRequest } from '../../src/cli/trace-run.js';
import { openCluster } from '../../src/sources/cluster.js';
import { renderList } from '../../src/sources/live/save-snapshot.js';
import { splitJsonList, splitYamlList } from '../../src/sources/scoped-list.js';

const CLIENT_IP = '10.0.0.2';
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };

/** 300 Services in ns0…ns99 (three each), a pod per endpoint, one EndpointSlice each; and `plain` in default, written without a namespace. */
function clusterObjects(services: GeneratedService[]): Obj[] {
  const out: Obj[] = [];
  for (let n = 0; n < 100; n++) out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}`, labels: { 'kubernetes.io/metadata.name': `ns${n}` } } });
  for (let n = 0; n < 4; n++) out.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${n}` }, spec: { podCIDR: `10.${250 + n}.0.0/16` }, status: { addresses: [{ type: 'InternalIP', address: `192.168.0.${2 + n}` }] } });
  const pod = (ns: string | undefined, name: string, ip: string, node: string, labels: Record<string, string>): Obj => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, ...(ns ? { namespace: ns } : {}), labels },
    spec: { nodeName: node, containers: [{ name: 'main', image: 'registry.example/app:1', ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
  });
  out.push(pod('ns0', 'client', CLIENT_IP, 'node-0', { app: 'client' }));
  out.push(pod(undefined, 'client', '10.0.0.3', 'node-0', { app: 'client' }));
  for (const s of services) {
    const ns = s.name === 'plain' ? undefined : s.namespace;
    const port = s.ports[0]!;
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: s.name, ...(ns ? { namespace: ns } : {}) }, spec: { type: port.nodePort ? 'NodePort' : 'ClusterIP', clusterIP: s.clusterIP, clusterIPs: [s.clusterIP], selector: { app: s.name }, ports: [{ name: port.name, port: port.port, targetPort: port.targetPort, protocol: 'TCP', ...(port.nodePort ? { nodePort: port.nodePort } : {}) }] } });
    const eps = (s.endpoints ?? []).map((e, j) => ({ ip: e.ip, name: `${s.name}-${j}`, node: e.isLocal ? 'node-0' : `node-${1 + (j % 3)}` }));
    for (const e of eps) out.push(pod(ns, e.name, e.ip, e.node, { app: s.name }));
    out.push({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: `${s.name}-abcde`, ...(ns ? { namespace: ns } : {}), labels: { 'kubernetes.io/service-name': s.name } },
      endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: true }, nodeName: e.node, targetRef: { kind: 'Pod', ...(ns ? { namespace: ns } : {}), name: e.name } })),
      ports: [{ name: port.name, port: port.targetPort, protocol: 'TCP' }],
    });
  }
  return out;
}

/** ns0's svc0 admits only role=frontend pods; ns5 has a policy of its own that no trace here meets. */
const policies: Obj[] = [
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'svc0-frontends', namespace: 'ns0' }, spec: { podSelector: { matchLabels: { app: 'svc0' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ns0' } }, podSelector: { matchLabels: { role: 'frontend' } } }] }] } },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-all', namespace: 'ns5' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
];

/** svc200's third endpoint is gone from its EndpointSlice (the node's rules still send there), and its address now belongs to a pod in ns7. */
function withStaleEndpoint(objects: Obj[]): Obj[] {
  return objects.map((o) => {
    if (o.kind === 'EndpointSlice' && o.metadata.name === 'svc200-abcde') return { ...o, endpoints: (o.endpoints as unknown[]).slice(0, 2) };
    if (o.kind === 'Pod' && o.metadata.name === 'svc200-2') return { ...o, metadata: { ...o.metadata, name: 'reused', namespace: 'ns7' } };
    return o;
  });
}

function jsonList(items: object[]): string {
  return `{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[\n${items.map((i) => JSON.stringify(i)).join(',\n')}\n]}\n`;
}

const root = mkdtempSync(join(tmpdir(), 'knet-trace-scope-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeSnapshot(name: string, objects: Obj[], format: 'json' | 'yaml', rules: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'nodes', 'node-0'), { recursive: true });
  writeFileSync(join(dir, 'knet-snapshot.yaml'), 'clusterDomain: cluster.local\nproxyMode: iptables\n');
  writeFileSync(join(dir, 'nodes', 'node-0', 'iptables-save.txt'), rules);
  if (format === 'json') writeFileSync(join(dir, 'cluster.json'), jsonList(objects));
  else {
    // As `knet snapshot save` writes them: one kind: List file per kind.
    const kinds = [...new Set(objects.map((o) => o.kind))];
    for (const kind of kinds) writeFileSync(join(dir, `${kind.toLowerCase()}s.yaml`), renderList(objects.filter((o) => o.kind === kind)));
  }
  return dir;
}

/** The trace as `knet trace` runs it (scoped read), and on the whole cluster read up front. */
async function both(dir: string, request: TraceRequest, namespace?: string): Promise<{ scoped: unknown; full: unknown }> {
  const options = { snapshot: dir, ...(namespace ? { namespace } : {}) };
  const settle = (p: Promise<unknown>): Promise<unknown> => p.then((r) => JSON.parse(JSON.stringify(r)) as unknown, (err: Error) => ({ error: err.message }));
  const scoped = await settle(runTrace(options, request));
  const full = await settle(openCluster({ ...options, allNamespaces: true }).then((opened) => runTrace(options, request, opened)));
  return { scoped, full };
}

const services: GeneratedService[] = [...benchServices(300, 3), { namespace: 'default', name: 'plain', clusterIP: '172.30.200.1', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'tcp' }], endpoints: [{ ip: '10.200.0.1', isLocal: true }] }];
const rules = generateKubeProxyIptables({ services });
const base = [...clusterObjects(services), ...policies];
const stale = withStaleEndpoint(base);

describe.each(['json', 'yaml'] as const)('trace on a %s snapshot: the scoped read gives what the whole cluster gives', (format) => {
  let dir = '';
  let staleDir = '';
  beforeAll(() => {
    dir = writeSnapshot(`${format}-base`, base, format, rules);
    staleDir = writeSnapshot(`${format}-stale`, stale, format, rules);
  });

  it.each([
    ['a Service in the source namespace', 'ns0/client', 'svc/ns0/svc100', undefined],
    ['a Service whose ingress policy drops the client (namespaceSelector peer)', 'ns0/client', 'svc/ns0/svc0', undefined],
    ['a Service in another namespace (ns1, a prefix of ns10…ns19)', 'ns0/client', 'svc/ns1/svc101', undefined],
    ['a pod', 'ns0/client', 'ns2/svc2-1', 8080],
    ['an IP and port', 'ns0/client', '172.30.0.100:80', undefined],
    ['a DNS name', 'ns0/client', 'svc100.ns0', undefined],
    ['a pod that does not exist', 'ns0/client', 'ns3/nope', 8080],
  ])('to %s', async (_what, src, dst, port) => {
    const { scoped, full } = await both(dir, { src, dst, ...(port ? { port } : {}) });
    expect(scoped).toEqual(full);
  });

  it('in the default namespace, with objects written without a namespace', async () => {
    const { scoped, full } = await both(dir, { src: 'client', dst: 'svc/plain' });
    expect((full as { verdict: string }).verdict).toBe('delivered');
    expect(scoped).toEqual(full);
  });

  it('the stale rule whose address now belongs to a pod in a namespace not read: the whole cluster is read', async () => {
    const { scoped, full } = await both(staleDir, { src: 'ns0/client', dst: 'svc/ns0/svc200' });
    expect(JSON.stringify(full)).toContain('the address now belongs to pod ns7/reused');
    expect(scoped).toEqual(full);
  });

  it('reads only ns0 and the cluster-scoped objects, and says what it left out', async () => {
    const opened = await openCluster({ snapshot: dir, allNamespaces: true, onlyNamespaces: ['ns0'] });
    const c = opened.cluster;
    expect(new Set([...c.pods, ...c.services, ...c.endpointSlices, ...c.networkPolicies].map((o) => o.metadata.namespace))).toEqual(new Set(['ns0']));
    expect(c.services.map((s) => s.metadata.name)).toEqual(['svc0', 'svc100', 'svc200']);
    expect(c.networkPolicies.map((p) => p.metadata.name)).toEqual(['svc0-frontends']);
    expect(c.namespaces).toHaveLength(100);
    expect(c.nodes).toHaveLength(4);
    // Everything but the Namespaces, the Nodes, ns0's client, its three Services (each with 3 pods and a slice) and its policy.
    expect(opened.partial?.itemsLeftOut).toBe(base.length - 100 - 4 - 1 - 3 * 5 - 1);
    expect(opened.partial?.mentions('svc7-abcde')).toBe(true);
    expect(opened.partial?.mentions('svc100-abcde')).toBe(false);
  });
});

describe('what the scoped read does with objects it cannot read', () => {
  const broken = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"broken","namespace":"NS"},"spec":{"containers":"oops"}}';

  it('an invalid object in the namespace traced: the same error as the full read', async () => {
    const dir = writeSnapshot('json-broken-ns0', [...base, JSON.parse(broken.replace('NS', 'ns0')) as Obj], 'json', rules);
    const { scoped, full } = await both(dir, { src: 'ns0/client', dst: 'svc/ns0/svc100' });
    expect((full as { error?: string }).error).toMatch(/broken/);
    expect(scoped).toEqual(full);
  });

  it('an item that is not valid JSON, in another namespace: the same error as the full read', async () => {
    const dir = join(root, 'json-truncated');
    writeSnapshot('json-truncated', base, 'json', rules);
    writeFileSync(join(dir, 'cluster.json'), jsonList(base).replace('\n]}\n', `,\n${broken.replace('NS', 'ns42').slice(0, -1)}\n]}\n`));
    const { scoped, full } = await both(dir, { src: 'ns0/client', dst: 'svc/ns0/svc100' });
    expect((full as { error?: string }).error).toMatch(/not valid JSON/);
    expect(scoped).toEqual(full);
  });

  it('an invalid object in a namespace not traced is not read, so not reported: the trace is that of the cluster without it', async () => {
    const dir = writeSnapshot('json-broken-ns42', [...base, JSON.parse(broken.replace('NS', 'ns42')) as Obj], 'json', rules);
    const { scoped, full } = await both(dir, { src: 'ns0/client', dst: 'svc/ns0/svc100' });
    expect((full as { error?: string }).error).toMatch(/broken/);
    const cleanDir = writeSnapshot('json-clean', base, 'json', rules);
    const clean = await both(cleanDir, { src: 'ns0/client', dst: 'svc/ns0/svc100' });
    expect(JSON.stringify(scoped).replaceAll(dir, cleanDir)).toEqual(JSON.stringify(clean.full));
  });
});

describe('splitting a List on its text', () => {
  it.each([
    ['an item that names a wanted namespace anywhere', '{"kind":"Pod","metadata":{"name":"a","namespace":"x","labels":{"from":"ns0"}}}', 'kept'],
    ['a cluster-scoped kind', '{"kind":"Node","metadata":{"name":"ns9-node"}}', 'kept'],
    ['a name spelt with a \\u escape', '{"kind":"Pod","metadata":{"name":"a","namespace":"ns\\u0030"}}', 'kept'],
    ['an item of another namespace', '{"kind":"Pod","metadata":{"name":"a","namespace":"ns9"},"spec":{"type":"NodePort"}}', 'skipped'],
  ])('JSON: %s is %s', (_what, item, expected) => {
    const split = splitJsonList(Buffer.from(`{"kind":"List","items":[\n${item}\n]}`), ['ns0']);
    expect(split && (split.skipped.length ? 'skipped' : 'kept')).toBe(expected);
  });

  it('JSON: items over several lines are no List it understands', () => {
    const text = '{"kind":"List","items":[\n{"kind":"Pod","metadata":{"name":"a","namespace":"ns9"},"x":[{"a":1},\n{"kind":"Pod","metadata":{"name":"b","namespace":"ns0"}},\n{"b":2}]}\n]}';
    const split = splitJsonList(Buffer.from(text), ['ns0']);
    // Each line is checked to be one whole object before it is skipped: the first is not, so it is parsed (and fails).
    expect(split?.kept.map((k) => k.index)).toEqual([0, 1, 2]);
  });

  it('JSON: in default, an item is skipped only when its text shows its namespace', () => {
    const split = splitJsonList(Buffer.from('{"kind":"List","items":[\n{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"ns9"}},\n{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"},"x":{"namespace":"ns9"}}\n]}'), ['default']);
    expect(split?.skipped).toHaveLength(2); // one item: its start and end
    expect(split?.kept.map((k) => k.index)).toEqual([1]);
  });

  it('YAML: entries split at their marker, aliases and tags never skipped', () => {
    const text = renderList([
      { kind: 'Pod', metadata: { name: 'a', namespace: 'ns9' }, spec: { containers: [{ name: 'c' }] } },
      { kind: 'Pod', metadata: { name: 'b', namespace: 'ns0' } },
      { kind: 'Pod', metadata: { name: 'c', namespace: 'ns9', annotations: { note: 'x*y' } } },
    ]);
    const split = splitYamlList(text, ['ns0']);
    expect(split?.skipped).toHaveLength(2); // one item: its start and end
    expect(split?.kept.map((k) => [k.index, k.line])).toEqual([[1, 11], [2, 15]]);
  });
});
