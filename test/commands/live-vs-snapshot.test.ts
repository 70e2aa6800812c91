import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type Fault, type RecordedRequest, type TestApiServer } from '../support/api-server.js';
import { examplesDir, runKnet, runKnetJson } from '../support/cli.js';

// Needs the built CLI: npm run build.
const demo = join(examplesDir, 'demo');

let server: TestApiServer;
let kubeconfig: string;

beforeAll(async () => {
  // Pages of at most 2 items, so that every list the CLI makes is followed across many pages.
  server = await startTestApiServer({ snapshot: demo, maxPageSize: 2 });
  kubeconfig = await server.writeKubeconfig();
});
afterAll(() => server.close());
afterEach(() => {
  server.clearFaults();
  server.requests.length = 0;
});

describe('the same command live and on a snapshot of the same objects gives the same JSON', () => {
  it.each([
    [['endpoints', '-A']],
    [['endpoints', '-n', 'default']],
    [['endpoints', '-n', 'kube-system']],
    [['endpoints', 'svc/xecho', '-n', 'default']],
    [['endpoints', 'kube-dns', '-n', 'kube-system']],
    [['endpoints', 'kube-dns.kube-system']],
    [['endpoints', 'svc/kube-system/kube-dns', '-n', 'shop']],
    [['explain-policy', 'shop/frontend', 'kube-system/coredns-7db6d8ff4d-2xk9p', '--port', '53', '--protocol', 'UDP']],
    [['explain-policy', 'shop/frontend', 'shop/db', '--port', '5432', '-n', 'default']],
    [['explain-policy', '--matrix', '-n', 'default', '--port', '8080']],
    [['explain-policy', '--matrix', '-A', '--port', '53', '--protocol', 'UDP']],
  ])('knet %j', async (args) => {
    const live = await runKnetJson<Record<string, unknown[]>>([...args, '--kubeconfig', kubeconfig]);
    const snapshot = await runKnetJson<Record<string, unknown[]>>([...args, '--snapshot', demo]);
    expect(live.stderr).toBe('');
    // Something to compare: every Service, every matrix cell, or a verdict with its reasons.
    const json = snapshot.json as Record<string, unknown>;
    if ('allowed' in json && !('cells' in json)) expect((json.ingress as { reason: string }).reason).toMatch(/\w/);
    else expect((snapshot.json.services ?? snapshot.json.cells ?? []).length).toBeGreaterThan(0);
    expect(live.json).toEqual(snapshot.json);
    expect(live.code).toBe(snapshot.code);
    expect(server.requests.some((r) => r.query.has('continue'))).toBe(true);
  });
});

describe('a live failure exits 3 (environment) or 2 (input) with a message and no stack trace', () => {
  const onList = (resource: string) => (r: RecordedRequest) => r.resource === resource && r.verb === 'list';
  const cases: { what: string; fault?: Fault; args?: () => string[] | Promise<string[]>; exit: number; code: string; stderr: RegExp }[] = [
    { what: '401', args: async () => ['--kubeconfig', await server.writeKubeconfig({ token: 'expired' })], exit: 3, code: 'api-unauthorized', stderr: /401 Unauthorized/ },
    { what: '403 on a cluster-wide list', fault: { match: onList('pods'), status: 403 }, exit: 3, code: 'api-forbidden', stderr: /RBAC forbids "list pods" cluster-wide[^\n]*\n {2}Run with -n NAMESPACE/ },
    { what: '429 for ever', fault: { match: onList('services'), status: 429, retryAfter: 0 }, exit: 3, code: 'api-throttled', stderr: /429 Too Many Requests/ },
    { what: '500', fault: { match: onList('endpoints'), status: 500 }, exit: 3, code: 'api-server-error', stderr: /list endpoints cluster-wide: the API server failed \(500/ },
    { what: 'a slow server', fault: { match: onList('nodes'), delayMs: 3000 }, args: () => ['--kubeconfig', kubeconfig, '--request-timeout', '400ms'], exit: 3, code: 'api-timeout', stderr: /did not answer within --request-timeout 400ms/ },
    { what: 'the wrong CA', args: async () => ['--kubeconfig', await server.writeKubeconfig({ caCert: server.certs.otherCaCert })], exit: 3, code: 'api-tls', stderr: /not signed by the CA/ },
    { what: 'nothing listening', args: async () => ['--kubeconfig', await server.writeKubeconfig({ server: 'https://127.0.0.1:1' })], exit: 3, code: 'api-unreachable', stderr: /ECONNREFUSED/ },
    { what: 'a missing kubeconfig', args: () => ['--kubeconfig', join(server.certs.dir, 'absent.yaml')], exit: 2, code: 'kubeconfig-unreadable', stderr: /absent\.yaml does not exist/ },
    {
      what: 'a kubeconfig that does not parse',
      args: async () => {
        const file = join(server.certs.dir, 'broken.yaml');
        await writeFile(file, 'apiVersion: v1\nclusters: [\n');
        return ['--kubeconfig', file];
      },
      exit: 2,
      code: 'kubeconfig-malformed',
      stderr: /broken\.yaml:\d+ is not valid YAML/,
    },
    { what: 'an unknown context', args: () => ['--kubeconfig', kubeconfig, '--context', 'knet-tes'], exit: 2, code: 'context-not-found', stderr: /Did you mean: knet-test\?/ },
    { what: 'a bad --request-timeout', args: () => ['--kubeconfig', kubeconfig, '--request-timeout', 'soon'], exit: 2, code: 'bad-duration', stderr: /"soon" is not a duration/ },
  ];

  it.each(cases)('$what', async ({ fault, args, exit, code, stderr }) => {
    if (fault) server.addFault(fault);
    const result = await runKnet(['endpoints', '-A', '--json', ...(args ? await args() : ['--kubeconfig', kubeconfig])]);
    expect(result.code).toBe(exit);
    expect(result.stderr).toMatch(stderr);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(JSON.parse(result.stdout)).toEqual({ error: { code, message: expect.any(String) as string, exitCode: exit } });
  });
});

// The whole live node path (a real kernel read through a debug pod) is in node-live.test.ts.
describe('node state on a live cluster', () => {
  it('a server that does not serve exec: exit 3, not a node without rules, and the debug pod deleted', async () => {
    const result = await runKnet(['node', 'iptables', 'kind-worker', '--kubeconfig', kubeconfig]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^Error: pod default\/knet-debug-kind-worker-[0-9a-f]+ is gone: exec answered 404/);
    expect(result.stdout).toBe('');
    expect(server.store.get('pods')!.filter((p) => p.metadata.labels?.['app.kubernetes.io/managed-by'] === 'knet')).toEqual([]);
  });
});
