import { describe, expect, it } from 'vitest';
import {
  addressOfReverseName,
  buildDnsIndex,
  expectRecords,
  judgeName,
  planResolver,
  reverseName,
  searchSequence,
  summarize,
  type ServerRun,
} from '../../src/dns/index.js';
import type { Pod } from '../../src/model/k8s.js';
import { loadSnapshot } from '../../src/sources/snapshot.js';
import { aCluster, aPod, aService, aSlice } from '../support/builders.js';
import { examplesDir } from '../support/cli.js';

const zone = 'cluster.local';

function withHostname(pod: Pod, hostname: string, subdomain?: string): Pod {
  return { ...pod, spec: { ...pod.spec, hostname, ...(subdomain ? { subdomain } : {}) } };
}

const web = aService('web', { selector: { app: 'web' } });
const db = aService('db', { ns: 'data', selector: { app: 'db' }, headless: true, ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] });
const dbPods = [
  withHostname(aPod('db-0', { ns: 'data', labels: { app: 'db' }, ip: '10.244.0.5' }), 'db-0', 'db'),
  withHostname(aPod('db-1', { ns: 'data', labels: { app: 'db' }, ip: '10.244.0.6', ready: false }), 'db-1', 'db'),
];
const dbSlice = {
  ...aSlice('db', [{ ip: '10.244.0.5', pod: 'db-0' }, { ip: '10.244.0.6', ready: false, pod: 'db-1' }], { ns: 'data', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }),
};
dbSlice.endpoints![0]!.hostname = 'db-0';
dbSlice.endpoints![1]!.hostname = 'db-1';
const cluster = aCluster({
  services: [web, db, aService('ext', { type: 'ExternalName', externalName: 'db.example.com.' }), aService('empty', { headless: true, selector: { app: 'none' } })],
  endpointSlices: [aSlice('web', [{ ip: '10.244.1.2', pod: 'web-1' }]), dbSlice, aSlice('empty', [{ ip: '10.244.9.9', ready: false }])],
  pods: [aPod('web-1', { labels: { app: 'web' }, ip: '10.244.1.2' }), ...dbPods, withHostname(aPod('cache-0', { ns: 'data', labels: { app: 'cache' }, ip: '10.244.0.7' }), 'cache-0', 'db')],
});
const index = buildDnsIndex(cluster, { clusterDomain: zone });
const plan = planResolver(cluster, { clusterDomain: zone, namespace: 'default' });
const codes = (r: { findings: { code: string; severity: string }[] }): string[] => r.findings.map((f) => `${f.severity}:${f.code}`).sort();

describe('records the API implies', () => {
  it.each([
    ['web.default.svc.cluster.local', 'A', ['10.96.0.100']],
    ['web.default.svc.cluster.local', 'SRV', ['80 web.default.svc.cluster.local']],
    ['_http._tcp.web.default.svc.cluster.local', 'SRV', ['80 web.default.svc.cluster.local']],
    ['10-244-1-2.web.default.svc.cluster.local', 'A', ['10.244.1.2']],
    ['db.data.svc.cluster.local', 'A', ['10.244.0.5']],
    ['db-0.db.data.svc.cluster.local', 'A', ['10.244.0.5']],
    ['_pg._tcp.db.data.svc.cluster.local', 'SRV', ['5432 db-0.db.data.svc.cluster.local']],
    ['ext.default.svc.cluster.local', 'A', ['db.example.com']],
    ['ext.default.svc.cluster.local', 'CNAME', ['db.example.com']],
    ['100.0.96.10.in-addr.arpa', 'PTR', ['web.default.svc.cluster.local']],
    ['5.0.244.10.in-addr.arpa', 'PTR', ['db-0.db.data.svc.cluster.local']],
    ['10-244-1-2.default.pod.cluster.local', 'A', ['10.244.1.2']],
    ['10-1-2-3.default.pod.cluster.local', 'A', ['10.1.2.3']],
    ['dns-version.cluster.local', 'TXT', ['1.1.0']],
  ] as const)('%s %s → %j', (fqdn, type, data) => {
    const e = expectRecords(index, fqdn, type);
    expect(e.exists).toBe(true);
    expect(e.records.map((r) => r.data).sort()).toEqual([...data].sort());
  });

  it.each([
    ['db-1.db.data.svc.cluster.local', 'not-ready endpoint'],
    ['empty.default.svc.cluster.local', 'headless with no ready endpoint'],
    ['nope.default.svc.cluster.local', 'no such Service'],
    ['10-1-2-3.nowhere.pod.cluster.local', 'no such namespace'],
  ])('%s does not exist (%s)', (fqdn) => {
    expect(expectRecords(index, fqdn, 'A')).toMatchObject({ exists: false, isAuthoritative: true, records: [] });
  });

  it('keeps the namespace name as an empty non-terminal, and leaves outside names to the servers', () => {
    expect(expectRecords(index, 'data.svc.cluster.local', 'A')).toMatchObject({ exists: true, records: [] });
    expect(expectRecords(index, 'example.com', 'A').isAuthoritative).toBe(false);
    expect(expectRecords(index, '4.3.2.1.in-addr.arpa', 'PTR').isAuthoritative).toBe(false);
  });

  it('turns addresses into reverse names and back', () => {
    expect(reverseName('10.96.0.1')).toBe('1.0.96.10.in-addr.arpa');
    expect(addressOfReverseName('1.0.96.10.in-addr.arpa.')).toBe('10.96.0.1');
    const v6 = reverseName('fd00::1')!;
    expect(v6).toMatch(/^1(\.0){29}\.d\.f\.ip6\.arpa$/);
    expect(addressOfReverseName(v6)).toBe('fd00::1');
  });
});

describe('the resolver plan', () => {
  it('gives a ClusterFirst pod the cluster search list and ndots 5', () => {
    expect(plan).toMatchObject({ namespace: 'default', dnsPolicy: 'ClusterFirst', ndots: 5, searchList: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'] });
  });

  it.each([
    ['web', ['web.default.svc.cluster.local', 'web.svc.cluster.local', 'web.cluster.local', 'web']],
    ['web.default.svc.cluster.local.', ['web.default.svc.cluster.local']],
    ['a.b.c.d.e.f', ['a.b.c.d.e.f', 'a.b.c.d.e.f.default.svc.cluster.local', 'a.b.c.d.e.f.svc.cluster.local', 'a.b.c.d.e.f.cluster.local']],
  ])('%s is tried as %j', (name, tried) => {
    expect(searchSequence(name, plan)).toEqual(tried);
  });

  it('follows dnsPolicy None with dnsConfig, and Default on the node', () => {
    const none = { ...aPod('x', { ns: 'app' }), spec: { dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['corp.example'], options: [{ name: 'ndots', value: '2' }] } } } as Pod;
    expect(planResolver(cluster, { clusterDomain: zone, namespace: 'default', pod: none })).toMatchObject({ pod: 'app/x', nameservers: ['1.1.1.1'], searchList: ['corp.example'], ndots: 2 });
    const host = { ...aPod('h'), spec: { hostNetwork: true, dnsPolicy: 'ClusterFirst' } } as Pod;
    const p = planResolver(cluster, { clusterDomain: zone, namespace: 'default', pod: host });
    expect(p.searchList).toEqual([]);
    expect(p.notes.join(' ')).toMatch(/ClusterFirstWithHostNet/);
  });
});

describe('judging from the API alone', () => {
  it('resolves a short name at the first try, with the expected records', () => {
    const r = judgeName({ name: 'web', type: 'A', plan, index, runs: null });
    expect(r).toMatchObject({ outcome: 'resolves', judgedFrom: 'api', servers: [], resolvedAs: 'web.default.svc.cluster.local', findings: [] });
    expect(r.tried).toEqual([{ fqdn: 'web.default.svc.cluster.local', server: null, rcode: 'NOERROR', answers: [{ name: 'web.default.svc.cluster.local', type: 'A', ttl: 0, data: '10.96.0.100' }], ms: null }]);
    expect(r.expected.map((e) => e.data)).toEqual(['10.96.0.100']);
  });

  it('says a name in another namespace costs a query, and a long one three', () => {
    expect(codes(judgeName({ name: 'db.data', type: 'A', plan, index, runs: null }))).toEqual(['info:dns-search-expansion']);
    const r = judgeName({ name: 'web.default.svc.cluster.local', type: 'A', plan, index, runs: null });
    expect(codes(r)).toEqual(['warning:dns-search-expansion']);
    expect(r.tried).toHaveLength(4);
  });

  it('names close names that exist for an NXDOMAIN', () => {
    const r = judgeName({ name: 'db', type: 'A', plan, index, runs: null });
    expect(r.outcome).toBe('nxdomain');
    expect(codes(r)).toEqual(['error:dns-nxdomain']);
    expect(r.findings[0]!.suggestions).toContain('db.data');
  });

  it('explains a hostname whose subdomain has no matching Service', () => {
    const r = judgeName({ name: 'cache-0.db.data', type: 'A', plan, index, runs: null });
    expect(r.outcome).toBe('nxdomain');
    expect(codes(r)).toEqual(['error:dns-nxdomain', 'error:dns-subdomain-no-service']);
    expect(r.findings.find((f) => f.code === 'dns-subdomain-no-service')!.message).toMatch(/selects other pods/);
  });

  it('explains a pod whose subdomain names no Service, suggesting the one it meant', () => {
    const typo = withHostname(aPod('db-2', { ns: 'data', labels: { app: 'db' }, ip: '10.244.0.8' }), 'db-2', 'dbs');
    const c = aCluster({ ...cluster, pods: [...cluster.pods, typo] });
    const r = judgeName({ name: 'db-2.db.data', type: 'A', plan, index: buildDnsIndex(c, { clusterDomain: zone }), runs: null });
    expect(codes(r)).toEqual(['error:dns-nxdomain', 'error:dns-subdomain-no-service']);
    const f = r.findings.find((x) => x.code === 'dns-subdomain-no-service')!;
    expect(f.message).toBe('Pod data/db-2 sets hostname db-2 and subdomain dbs, but namespace data has no Service dbs: db-2.dbs can never exist. Did you mean subdomain db?');
    expect(f.hint).toBe('Set spec.subdomain: db on the pod, or create a headless Service dbs that selects it.');
  });

  it('explains a headless Service with no ready endpoint', () => {
    expect(codes(judgeName({ name: 'empty', type: 'A', plan, index, runs: null }))).toEqual(['error:dns-no-ready-endpoints', 'error:dns-nxdomain']);
  });

  it('cannot judge a name outside the cluster without a server', () => {
    const r = judgeName({ name: 'example.com', type: 'A', plan, index, runs: null });
    expect(r.outcome).toBe('unknown');
    expect(r.tried.at(-1)).toMatchObject({ fqdn: 'example.com', rcode: 'UNKNOWN' });
  });
});

describe('judging server answers', () => {
  const q = (server: string, fqdn: string, rcode: string, data: string[] = []) => ({
    fqdn, server, rcode, ms: 1, answers: data.map((d) => ({ name: fqdn, type: 'A', ttl: 5, data: d })),
  });
  const fq = 'web.default.svc.cluster.local';

  it.each<[string, ServerRun[], string[]]>([
    ['agreeing servers', [{ server: 'a', queries: [q('a', fq, 'NOERROR', ['10.96.0.100'])] }, { server: 'b', queries: [q('b', fq, 'NOERROR', ['10.96.0.100'])] }], []],
    ['a stale address', [{ server: 'a', queries: [q('a', fq, 'NOERROR', ['10.96.0.100', '10.96.0.99'])] }], ['error:dns-record-stale']],
    ['a missing name', [{ server: 'a', queries: [q('a', fq, 'NXDOMAIN'), q('a', 'web.svc.cluster.local', 'NXDOMAIN'), q('a', 'web.cluster.local', 'NXDOMAIN'), q('a', 'web', 'NXDOMAIN')] }], ['error:dns-nxdomain', 'error:dns-record-missing']],
    ['replicas that disagree', [{ server: 'a', queries: [q('a', fq, 'NOERROR', ['10.96.0.100'])] }, { server: 'b', queries: [q('b', fq, 'NOERROR', ['10.96.0.7'])] }], ['error:dns-record-missing', 'error:dns-record-stale', 'error:dns-replicas-disagree']],
    ['a failing server', [{ server: 'a', queries: [q('a', fq, 'SERVFAIL')] }, { server: 'b', queries: [q('b', fq, 'NOERROR', ['10.96.0.100'])] }], ['error:dns-server-failure']],
  ])('%s', (_, runs, want) => {
    expect(codes(judgeName({ name: 'web', type: 'A', plan, index, runs }))).toEqual(want);
  });

  it('folds 30 replicas failing alike for one name into one finding with a count', () => {
    const servers = Array.from({ length: 30 }, (_, i) => `10.244.9.${i + 1}`);
    const runs: ServerRun[] = servers.map((s) => ({ server: s, queries: [q(s, fq, 'SERVFAIL')] }));
    const r = judgeName({ name: 'web', type: 'A', plan, index, runs });
    const failures = r.findings.filter((f) => f.code === 'dns-server-failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ severity: 'error', count: 30, message: expect.stringMatching(/^30 findings like this one; the first: /) as string });
    expect(failures[0]!.examples).toHaveLength(5);
    expect(summarize([r]).errors).toBe(r.findings.reduce((n, f) => n + (f.severity === 'error' ? (typeof f.count === 'number' ? f.count : 1) : 0), 0));
    expect(summarize([r]).errors).toBeGreaterThanOrEqual(30);
  });
});

describe('the demo snapshot', () => {
  it('resolves myhost.headless to the four endpoints the slice lists', async () => {
    const snap = await loadSnapshot(`${examplesDir}/demo`);
    const idx = buildDnsIndex(snap.cluster, { clusterDomain: 'cluster.local' });
    const r = judgeName({ name: 'myhost.headless', type: 'A', plan: planResolver(snap.cluster, { clusterDomain: 'cluster.local', namespace: 'default' }), index: idx, runs: null });
    expect(r.resolvedAs).toBe('myhost.headless.default.svc.cluster.local');
    expect(r.expected.map((e) => e.data).sort()).toEqual(['10.244.1.10', '10.244.1.12', '10.244.2.11', '10.244.2.13']);
  });
});
