import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyCluster, type Cluster } from '../../src/model/cluster.js';
import type { Pod } from '../../src/model/k8s.js';
import { startTestApiServer, type TestApiServer } from '../support/api-server.js';
import { runKnet, runKnetJson } from '../support/cli.js';

// Needs the built CLI: npm run build.

function pod(namespace: string, name: string, labels: Record<string, string>, nodeName = 'kind-worker'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name, labels }, spec: { nodeName }, status: { phase: 'Running' } };
}

const KNET = { 'app.kubernetes.io/managed-by': 'knet' };

function cluster(): Cluster {
  const c = emptyCluster();
  c.pods.push(
    pod('default', 'knet-debug-a1', KNET),
    pod('default', 'web-1', { app: 'web' }),
    pod('default', 'helm-thing', { 'app.kubernetes.io/managed-by': 'Helm' }),
    pod('knet-debug', 'knet-debug-b2', KNET, 'kind-control-plane'),
    pod('kube-system', 'coredns-1', { 'k8s-app': 'kube-dns' }),
  );
  return c;
}

let server: TestApiServer;
let kubeconfig: string;

interface CleanupJson {
  namespace: string | null;
  dryRun: boolean;
  pods: { namespace: string; name: string; node: string | null; phase: string | null; result: string }[];
}

beforeEach(async () => {
  server = await startTestApiServer({ cluster: cluster(), maxPageSize: 1 });
  kubeconfig = await server.writeKubeconfig();
});
afterEach(() => server.close());
afterAll(() => undefined);

const remaining = (): string[] => server.store.get('pods')!.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort();

describe('knet cleanup', () => {
  it.each([
    { args: [], namespace: 'default', deleted: ['default/knet-debug-a1'] },
    { args: ['--debug-namespace', 'knet-debug'], namespace: 'knet-debug', deleted: ['knet-debug/knet-debug-b2'] },
    { args: ['-A'], namespace: null, deleted: ['default/knet-debug-a1', 'knet-debug/knet-debug-b2'] },
  ])('deletes only pods labelled managed-by=knet: $args', async ({ args, namespace, deleted }) => {
    const before = remaining();
    const { json, code } = await runKnetJson<CleanupJson>(['cleanup', ...args, '--kubeconfig', kubeconfig]);
    expect(code).toBe(0);
    expect(json.namespace).toBe(namespace);
    expect(json.pods.map((p) => `${p.namespace}/${p.name}:${p.result}`)).toEqual(deleted.map((d) => `${d}:deleted`));
    expect(remaining()).toEqual(before.filter((p) => !deleted.includes(p)));
    // What it deletes it finds by label; the one list without a selector is of pods, for the probe containers it reports.
    const lists = server.requests.filter((r) => r.verb === 'list' && r.query.get('labelSelector') !== 'app.kubernetes.io/managed-by=knet');
    expect(lists.every((r) => r.resource === 'pods' && !r.query.has('labelSelector'))).toBe(true);
    expect(server.requests.filter((r) => r.verb === 'delete').map((r) => r.query.get('gracePeriodSeconds'))).toEqual(deleted.map(() => '1'));
  });

  it('--dry-run lists and deletes nothing', async () => {
    const before = remaining();
    const { json, code } = await runKnetJson<CleanupJson>(['cleanup', '-A', '--dry-run', '--kubeconfig', kubeconfig]);
    expect(code).toBe(0);
    expect(json.pods).toEqual([
      { namespace: 'default', name: 'knet-debug-a1', node: 'kind-worker', phase: 'Running', result: 'would-delete' },
      { namespace: 'knet-debug', name: 'knet-debug-b2', node: 'kind-control-plane', phase: 'Running', result: 'would-delete' },
    ]);
    expect(remaining()).toEqual(before);
    expect(server.requests.filter((r) => r.verb === 'delete')).toEqual([]);
  });

  it('says what it deleted, and when there was nothing', async () => {
    const first = await runKnet(['cleanup', '-A', '--kubeconfig', kubeconfig]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/default\s+knet-debug-a1\s+kind-worker\s+Running\s+deleted/);
    expect(first.stdout).toMatch(/Deleted 2 debug pods in any namespace\./);
    const second = await runKnet(['cleanup', '-A', '--kubeconfig', kubeconfig]);
    expect([second.code, second.stdout]).toEqual([0, 'No knet debug pods in any namespace.\n']);
  });

  it('a pod already gone when deleted (404) is reported, not an error', async () => {
    server.addFault({ match: (r) => r.verb === 'delete', status: 404 });
    const { json, code } = await runKnetJson<CleanupJson>(['cleanup', '--kubeconfig', kubeconfig]);
    expect(code).toBe(0);
    expect(json.pods.map((p) => p.result)).toEqual(['already-gone']);
  });

  it.each([
    ['403 on delete', { match: (r: { verb: string }) => r.verb === 'delete', status: 403 }, /RBAC forbids "delete pods" in namespace default[^\n]*\n(.*\n)*.*Role in namespace default/],
    ['409 on delete', { match: (r: { verb: string }) => r.verb === 'delete', status: 409 }, /delete pods\/knet-debug-a1 in namespace default: conflict \(409\)/],
    ['403 on the list', { match: (r: { verb: string }) => r.verb === 'list', status: 403 }, /RBAC forbids "list pods" in namespace default/],
  ])('%s exits 3 without a stack trace', async (_what, fault, stderr) => {
    server.addFault(fault);
    const result = await runKnet(['cleanup', '--kubeconfig', kubeconfig]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(stderr);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a refused delete does not stop the others: each is tried, then exit 3 says what was deleted', async () => {
    server.addFault({ match: (r) => r.verb === 'delete' && r.namespace === 'default', status: 403 });
    const result = await runKnet(['cleanup', '-A', '--kubeconfig', kubeconfig]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/RBAC forbids "delete pods" in namespace default .*; deleted: knet-debug\/knet-debug-b2\n/);
    expect(remaining()).not.toContain('knet-debug/knet-debug-b2');
    expect(remaining()).toContain('default/knet-debug-a1');
  });

  it('reports the ephemeral probe containers of knet trace --probe, which it cannot remove, and touches their pods not', async () => {
    const web = server.store.get('pods')!.find((p) => p.metadata.name === 'web-1')! as Record<string, unknown>;
    web.spec = { nodeName: 'kind-worker', ephemeralContainers: [
      { name: 'knet-probe-0a1b2c', image: 'nicolaka/netshoot:v0.13', env: [{ name: 'KNET_MANAGED_BY', value: 'knet' }] },
      { name: 'debugger-x7', image: 'busybox' },
      { name: 'knet-probe-ffffff', image: 'busybox' },
    ] };
    web.status = { phase: 'Running', ephemeralContainerStatuses: [{ name: 'knet-probe-0a1b2c', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] };
    const before = remaining();
    const { json, code } = await runKnetJson<CleanupJson & { probeContainers: unknown[] }>(['cleanup', '--kubeconfig', kubeconfig]);
    expect(code).toBe(0);
    expect(json.probeContainers).toEqual([{ namespace: 'default', pod: 'web-1', container: 'knet-probe-0a1b2c', state: 'exited (0)' }]);
    expect(remaining()).toEqual(before.filter((p) => p !== 'default/knet-debug-a1'));
    const text = await runKnet(['cleanup', '--kubeconfig', kubeconfig]);
    expect(text.stdout).toMatch(/default\s+web-1\s+knet-probe-0a1b2c\s+exited \(0\)/);
    expect(text.stdout).toContain('1 ephemeral probe container of knet trace --probe: Kubernetes cannot remove them');
  });

  it('--debug-namespace with -A is an input error', async () => {
    const result = await runKnet(['cleanup', '-A', '--debug-namespace', 'x', '--kubeconfig', join(server.certs.dir, 'unused')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--debug-namespace and -A/);
  });

  it('deletes DaemonSets of --daemonset runs (their pods go with them) and says so', async () => {
    server.store.get('daemonsets')!.push({ metadata: { namespace: 'default', name: 'knet-debug-ab12', labels: KNET } });
    server.store.get('daemonsets')!.push({ metadata: { namespace: 'default', name: 'fluentd', labels: { app: 'fluentd' } } });
    server.store.get('pods')!.push({ metadata: { namespace: 'default', name: 'knet-debug-ab12-kind-worker', labels: KNET, ownerReferences: [{ kind: 'DaemonSet', name: 'knet-debug-ab12' }] } } as never);
    const dry = await runKnetJson<CleanupJson & { daemonSets: { name: string; result: string }[] }>(['cleanup', '--kubeconfig', kubeconfig, '--dry-run']);
    expect(dry.json.daemonSets).toEqual([{ namespace: 'default', name: 'knet-debug-ab12', result: 'would-delete' }]);
    expect(dry.json.pods.map((p) => p.name)).toEqual(['knet-debug-a1']);
    const { json, code } = await runKnetJson<CleanupJson & { daemonSets: { name: string; result: string }[] }>(['cleanup', '--kubeconfig', kubeconfig]);
    expect(code).toBe(0);
    expect(json.daemonSets).toEqual([{ namespace: 'default', name: 'knet-debug-ab12', result: 'deleted' }]);
    expect(server.store.get('daemonsets')!.map((d) => d.metadata.name)).toEqual(['fluentd']);
    expect(remaining()).not.toContain('default/knet-debug-ab12-kind-worker');
    const text = await runKnet(['cleanup', '--kubeconfig', kubeconfig]);
    expect(text.stdout).toContain('No knet debug pods in namespace default.');
  });
});
