// `knet node …` on a live cluster, through the whole path a user's run takes: the built CLI, the real
// client-node against the HTTPS test API server, a debug pod created, waited for and deleted, and its
// commands run over exec (WebSocket) for real inside a network namespace this test made and loaded with
// kube-proxy's rules and conntrack entries. The only part not real is the kubelet starting a container:
// the test server plays the pod's status changes (and, for failures, what a kubelet reports).
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { POD_BEHAVIOURS, startTestApiServer, type RecordedRequest, type SubresourceHandler, type TestApiServer } from '../support/api-server.js';
import { examplesDir, repoRoot, runKnet, runKnetJson } from '../support/cli.js';
import { EXEC_PROTOCOLS, netnsExec, silentExec } from '../support/exec.js';
import { NetnsLab } from '../support/netns.js';
import { NETNS_COMMANDS, describeNeeding } from '../support/needs.js';

const demo = join(examplesDir, 'demo');
const NODE = 'kind-worker';

/** Everything but `source` (a file path offline, the debug pod live): the rest must be identical. */
function withoutSource(report: { nodes: Record<string, unknown>[] }): unknown {
  return { ...report, nodes: report.nodes.map(({ source: _s, ...rest }) => rest) };
}

const knetPods = (server: TestApiServer): string[] => server.store.get('pods')!.filter((p) => p.metadata.labels?.['app.kubernetes.io/managed-by'] === 'knet').map((p) => p.metadata.name);
const podRequests = (server: TestApiServer, verb: RecordedRequest['verb']): RecordedRequest[] => server.requests.filter((r) => r.resource === 'pods' && r.verb === verb && r.subresource === undefined);

/** A snapshot directory holding the demo's objects and the given node files. */
function snapshotWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'knet-node-live-'));
  for (const f of ['cluster.yaml', 'shop.yaml', 'policies.yaml', 'knet-snapshot.yaml']) cpSync(join(demo, f), join(dir, f));
  mkdirSync(join(dir, 'nodes', NODE), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'nodes', NODE, name), text);
  return dir;
}

describeNeeding({ root: true, commands: [...NETNS_COMMANDS, 'iptables-restore', 'iptables-save', 'iptables-nft-save', 'iptables-legacy-save', 'conntrack'] }, 'knet node … live: a real kernel read through a debug pod', () => {
  const lab = new NetnsLab('nodelive');
  let server: TestApiServer;
  let kubeconfig = '';
  let ns = '';
  const log: string[][] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    ns = await lab.addNamespace('node');
    // kube-proxy's rules as the demo cluster's node has them, loaded into the kernel (iptables-nft).
    await lab.must(ns, ['iptables-restore'], readFileSync(join(demo, 'nodes', NODE, 'iptables-save.txt'), 'utf8'));
    await lab.must(ns, ['conntrack', '-I', '-p', 'udp', '-s', '10.244.1.5', '-d', '10.96.0.10', '--sport', '47636', '--dport', '53', '-r', '10.244.0.2', '-q', '10.244.1.5', '--reply-port-src', '53', '--reply-port-dst', '47636', '-t', '3000']);
    await lab.must(ns, ['conntrack', '-I', '-p', 'tcp', '-s', '10.244.1.5', '-d', '10.96.45.20', '--sport', '40000', '--dport', '80', '-r', '10.244.2.9', '-q', '10.244.1.5', '--reply-port-src', '8080', '--reply-port-dst', '40000', '--state', 'ESTABLISHED', '-u', 'ASSURED', '-t', '3000']);
    server = await startTestApiServer({ snapshot: demo, subresources: { exec: netnsExec({ namespaceFor: () => ns, log }) } });
    kubeconfig = await server.writeKubeconfig();
  });
  afterAll(async () => {
    await server?.close();
    await lab.cleanup();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('knet node iptables NODE reads the kernel through a debug pod and equals the snapshot of the same state', async () => {
    const dump = await lab.must(ns, ['iptables-save']);
    const dir = snapshotWith({ 'iptables-save.txt': dump });
    dirs.push(dir);
    const before = server.requests.length;
    const live = await runKnetJson<{ nodes: Record<string, unknown>[] }>(['node', 'iptables', NODE, '--kubeconfig', kubeconfig]);
    const offline = await runKnetJson<{ nodes: Record<string, unknown>[] }>(['node', 'iptables', NODE, '--snapshot', dir]);
    expect(live.stderr).toBe('');
    expect(live.code).toBe(0);
    expect((live.json.nodes[0] as { ruleCount?: number }).ruleCount).toBeGreaterThan(20);
    expect(withoutSource(live.json)).toEqual(withoutSource(offline.json));
    expect(live.json.nodes[0]!.source).toContain(`debug pod on node ${NODE}`);

    // Both backends were read, as iptables-wrapper does, and the one with the rules was chosen.
    expect(log).toEqual(expect.arrayContaining([['iptables-legacy-save'], ['iptables-nft-save']]));
    // One pod, as the architecture says, created and deleted.
    const mine = server.requests.slice(before);
    const created = mine.filter((r) => r.resource === 'pods' && r.verb === 'create');
    expect(created).toHaveLength(1);
    const pod = created[0]!.body as unknown as { metadata: { name: string; labels: Record<string, string> }; spec: Record<string, unknown> & { containers: { securityContext: unknown; image: string }[] } };
    expect(pod.metadata.labels['app.kubernetes.io/managed-by']).toBe('knet');
    expect(pod.spec).toMatchObject({ nodeName: NODE, hostNetwork: true, restartPolicy: 'Never', tolerations: [{ operator: 'Exists' }] });
    expect(pod.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(pod.spec.hostPID).toBeUndefined();
    expect(pod.spec.containers[0]!.securityContext).toEqual({ capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } });
    expect(pod.spec.containers[0]!.image).toMatch(/^nicolaka\/netshoot:v\d/);
    expect(mine.filter((r) => r.resource === 'pods' && r.verb === 'delete').map((r) => r.name)).toEqual([pod.metadata.name]);
    // RBAC was asked before: create pods, and both exec verbs.
    const reviews = mine.filter((r) => r.resource === 'selfsubjectaccessreviews').map((r) => (r.body as unknown as { spec: { resourceAttributes: { verb: string; subresource?: string } } }).spec.resourceAttributes);
    expect(reviews.map((a) => `${a.verb} pods${a.subresource ? `/${a.subresource}` : ''}`).sort()).toEqual(['create pods', 'create pods/exec', 'get pods/exec']);
    expect(knetPods(server)).toEqual([]);
  });

  it('--image, --privileged and --debug-namespace shape the pod', async () => {
    const before = server.requests.length;
    const r = await runKnet(['node', 'ip6tables', NODE, '--kubeconfig', kubeconfig, '--image', 'registry.local/netshoot:1', '--privileged', '--debug-namespace', 'kube-system', '--json']);
    expect(r.code).toBe(0);
    const created = server.requests.slice(before).find((q) => q.resource === 'pods' && q.verb === 'create')!;
    expect(created.namespace).toBe('kube-system');
    const spec = (created.body as unknown as { spec: { containers: { image: string; securityContext: unknown }[] } }).spec;
    expect(spec.containers[0]).toMatchObject({ image: 'registry.local/netshoot:1', securityContext: { privileged: true } });
    expect(knetPods(server)).toEqual([]);
  });

  it('knet node conntrack NODE streams the kernel table and finds what the snapshot finds (timeouts tick)', async () => {
    const dir = snapshotWith({ 'conntrack.txt': await lab.must(ns, ['conntrack', '-L']) });
    dirs.push(dir);
    const live = await runKnetJson<{ nodes: (Record<string, unknown> & { entries: Record<string, unknown>[] })[] }>(['node', 'conntrack', NODE, '--kubeconfig', kubeconfig]);
    const offline = await runKnetJson<{ nodes: (Record<string, unknown> & { entries: Record<string, unknown>[] })[] }>(['node', 'conntrack', NODE, '--snapshot', dir]);
    const strip = (j: typeof live.json): unknown => withoutSource({ ...j, nodes: j.nodes.map((n) => ({ ...n, entries: n.entries.map(({ timeout: _t, ...e }) => e) })) });
    expect(live.json.nodes[0]!.entries).toHaveLength(2);
    expect(strip(live.json)).toEqual(strip(offline.json));
    expect(live.code).toBe(offline.code);
  });

  it('knet rules diff NODE live names the drift of the rules in the kernel, as the snapshot of the same state does', async () => {
    const dir = snapshotWith({ 'iptables-save.txt': await lab.must(ns, ['iptables-save']) });
    dirs.push(dir);
    type Diff = { sources: string[]; findings: { code: string; endpoint?: string }[] } & Record<string, unknown>;
    const live = await runKnetJson<Diff>(['rules', 'diff', NODE, '--kubeconfig', kubeconfig]);
    const offline = await runKnetJson<Diff>(['rules', 'diff', NODE, '--snapshot', dir]);
    expect(live.stderr).toBe('');
    expect(live.code).toBe(1);
    // The kernel holds the demo's kind-worker rules: kube-proxy there is behind the API on legacy-db.
    expect(live.json.findings.map((f) => [f.code, f.endpoint])).toEqual([
      ['endpoint-not-programmed', '192.168.50.10:5432'],
      ['stale-endpoint-rules', '192.168.50.9:5432'],
    ]);
    const { sources: liveSources, ...liveRest } = live.json;
    const { sources: _offline, ...offlineRest } = offline.json;
    expect(liveRest).toEqual(offlineRest);
    expect(liveSources.join(' ')).toContain(`debug pod on node ${NODE}`);
    expect(knetPods(server)).toEqual([]);
  });

  it('snapshot save --nodes NODE: the live node state, replayed offline, gives the same JSON', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'knet-node-save-')), 'snap');
    dirs.push(dirname(dir));
    const saved = await runKnetJson<{ nodeState: { saved: boolean; nodes: { node: string; files: string[] }[] } }>(['snapshot', 'save', dir, '--kubeconfig', kubeconfig, '--nodes', NODE]);
    expect(saved.code).toBe(0);
    expect(saved.json.nodeState.saved).toBe(true);
    expect(saved.json.nodeState.nodes[0]!.files.sort()).toEqual(
      ['conntrack.txt', 'ip-addr.txt', 'ip-route.txt', 'ip6tables-save.txt', 'ipset.txt', 'iptables-save.txt', 'nft-ruleset.json', 'nft-ruleset.txt'].map((f) => `nodes/${NODE}/${f}`),
    );
    expect(knetPods(server)).toEqual([]);
    for (const command of ['iptables', 'nft', 'routes']) {
      const live = await runKnetJson<{ nodes: Record<string, unknown>[] }>(['node', command, NODE, '--kubeconfig', kubeconfig]);
      const offline = await runKnetJson<{ nodes: Record<string, unknown>[] }>(['node', command, NODE, '--snapshot', dir]);
      expect([command, live.code]).toEqual([command, 0]);
      expect(withoutSource(live.json)).toEqual(withoutSource(offline.json));
    }
  }, 180_000);

  it('--daemonset: one DaemonSet instead of a pod per node, the node read through its pod, then deleted', async () => {
    const dir = snapshotWith({ 'iptables-save.txt': await lab.must(ns, ['iptables-save']) });
    dirs.push(dir);
    const before = server.requests.length;
    const live = await runKnetJson<{ nodes: Record<string, unknown>[] }>(['node', 'iptables', NODE, '--kubeconfig', kubeconfig, '--daemonset']);
    const offline = await runKnetJson<{ nodes: Record<string, unknown>[] }>(['node', 'iptables', NODE, '--snapshot', dir]);
    expect(live.code).toBe(0);
    expect(withoutSource(live.json)).toEqual(withoutSource(offline.json));
    const mine = server.requests.slice(before);
    expect(mine.filter((r) => r.resource === 'daemonsets').map((r) => r.verb)).toEqual(['create', 'delete']);
    expect(mine.filter((r) => r.resource === 'pods' && r.verb === 'create')).toEqual([]);
    expect(server.store.get('daemonsets')).toEqual([]);
    expect(knetPods(server)).toEqual([]);
  }, 120_000);

  it('--local: the same collection on the machine knet runs on (here: inside the node namespace)', async () => {
    const dir = snapshotWith({ 'iptables-save.txt': await lab.must(ns, ['iptables-save']) });
    dirs.push(dir);
    const local = await lab.exec(ns, ['env', `KNET_NODE_NAME=${NODE}`, process.execPath, join(repoRoot, 'bin/run.js'), 'node', 'iptables', NODE, '--local', '--snapshot', dir, '--json'], { timeoutMs: 60_000 });
    const offline = await runKnetJson<{ nodes: Record<string, unknown>[] }>(['node', 'iptables', NODE, '--snapshot', dir]);
    expect(local.code).toBe(0);
    const json = JSON.parse(local.stdout) as { nodes: Record<string, unknown>[] };
    expect(json.nodes[0]!.source).toContain('this machine');
    expect(withoutSource(json)).toEqual(withoutSource(offline.json));
  }, 120_000);

  it('a kind the node lacks (no IPVS in this kernel) is named with what the tool said', async () => {
    const r = await runKnet(['node', 'ipvs', NODE, '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ipvsadm -Ln');
    expect(r.stderr).toContain('Protocol not available');
    expect(knetPods(server)).toEqual([]);
  });
});

describe('debug pods that fail, are refused or are interrupted (no root needed: the exec never runs a command)', () => {
  let server: TestApiServer;
  let kubeconfig = '';
  let handler: SubresourceHandler = silentExec().handle;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    server = await startTestApiServer({
      snapshot: demo,
      subresources: {
        exec: {
          protocols: EXEC_PROTOCOLS,
          handle: (req, ws, protocol) => {
            sockets.push(ws);
            handler(req, ws, protocol);
          },
        },
      },
    });
    kubeconfig = await server.writeKubeconfig();
  });
  afterEach(() => {
    server.setAccess(() => true);
    server.setPodBehaviour(() => POD_BEHAVIOURS.running);
    server.clearFaults();
    handler = silentExec().handle;
    const nsDefault = server.store.get('namespaces')!.find((n) => n.metadata.name === 'default')!;
    delete nsDefault.metadata.labels?.['pod-security.kubernetes.io/enforce'];
  });
  afterAll(() => server.close());

  const read = (podTimeout = '3s'): ReturnType<typeof runKnet> => runKnet(['node', 'iptables', NODE, '--kubeconfig', kubeconfig, '--exec-timeout', '1s', '--pod-timeout', podTimeout]);

  it('RBAC without create pods: the verb, the Role to ask for, exit 3, nothing created', async () => {
    server.setAccess((a) => !(a.verb === 'create' && a.resource === 'pods' && a.subresource === undefined));
    const before = podRequests(server, 'create').length;
    const r = await read();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('RBAC forbids "create pods" in namespace default');
    expect(r.stderr).toContain('resources: ["pods/exec"]');
    expect(podRequests(server, 'create').length).toBe(before);
    expect(knetPods(server)).toEqual([]);
  });

  it('a 403 on the create itself (no access review allowed): the RBAC message, exit 3', async () => {
    server.addFault({ match: (q) => q.resource === 'selfsubjectaccessreviews', status: 403 });
    server.addFault({ match: (q) => q.resource === 'pods' && q.verb === 'create', status: 403 });
    const r = await read();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('RBAC forbids "create pods" in namespace default, which a debug pod needs');
    expect(knetPods(server)).toEqual([]);
  });

  it('Pod Security of the namespace: which level, what to label, exit 3, nothing created', async () => {
    server.store.get('namespaces')!.find((n) => n.metadata.name === 'default')!.metadata.labels!['pod-security.kubernetes.io/enforce'] = 'baseline';
    const before = podRequests(server, 'create').length;
    const r = await read();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Pod Security "baseline" of namespace default forbids the debug pod');
    expect(r.stderr).toContain('pod-security.kubernetes.io/enforce=privileged');
    expect(podRequests(server, 'create').length).toBe(before);
  });

  it('Pod Security admission the labels do not show (a cluster default): the rejection explained, exit 3', async () => {
    server.addFault({ match: (q) => q.resource === 'pods' && q.verb === 'create', status: 403, message: 'pods "x" is forbidden: violates PodSecurity "restricted:latest": host namespaces (hostNetwork=true)' });
    const r = await read();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Pod Security "restricted" of namespace default forbids the debug pod');
    expect(r.stderr).toContain('host namespaces (hostNetwork=true)');
  });

  it('an admission webhook: its words, exit 3', async () => {
    server.setPodBehaviour(() => POD_BEHAVIOURS.webhook);
    const r = await read();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('an admission webhook refused the debug pod');
    expect(r.stderr).toContain('disallow-host-namespaces');
    expect(knetPods(server)).toEqual([]);
  });

  it('an image that never pulls: the reason and the event, the pod deleted, exit 3', async () => {
    server.setPodBehaviour(() => POD_BEHAVIOURS.imagePullBackOff('nicolaka/netshoot:v0.13'));
    const deletes = podRequests(server, 'delete').length;
    const r = await read();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`the debug pod on node ${NODE} never ran: ImagePullBackOff`);
    expect(r.stderr).toContain('Event Failed: Failed to pull image');
    expect(r.stderr).toContain('--image');
    expect(podRequests(server, 'delete').length).toBe(deletes + 1);
    expect(knetPods(server)).toEqual([]);
  });

  it('a pod that cannot be placed: Unschedulable with the scheduler message, deleted, exit 3', async () => {
    server.setPodBehaviour(() => POD_BEHAVIOURS.unschedulable);
    const r = await read();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('never ran: Unschedulable: 0/3 nodes are available');
    expect(knetPods(server)).toEqual([]);
  });

  it('a pod that stays Pending: the start timeout, deleted, exit 3', async () => {
    server.setPodBehaviour(() => POD_BEHAVIOURS.pending);
    const r = await read('500ms');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('never ran: still Pending after 500ms');
    expect(knetPods(server)).toEqual([]);
  });

  it('an exec that never answers: the timeout, the pod deleted, exit 3', async () => {
    const deletes = podRequests(server, 'delete').length;
    const r = await read();
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/`iptables-(legacy|nft)-save` in pod default\/knet-debug-kind-worker-[0-9a-f]+: no answer for 1s/);
    expect(podRequests(server, 'delete').length).toBe(deletes + 1);
    expect(knetPods(server)).toEqual([]);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during a read still deletes the pod (the server sees the DELETE)', async (signal, exitCode) => {
    const execs = server.requests.filter((q) => q.subresource === 'exec').length;
    const deletes = podRequests(server, 'delete').length;
    const child = spawn(process.execPath, [join(repoRoot, 'bin/run.js'), 'node', 'iptables', NODE, '--kubeconfig', kubeconfig, '--exec-timeout', '60s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait until the read is under way: the exec is open and silent.
    for (let i = 0; i < 200 && server.requests.filter((q) => q.subresource === 'exec').length === execs; i++) await new Promise((r) => setTimeout(r, 50));
    expect(server.requests.filter((q) => q.subresource === 'exec').length).toBeGreaterThan(execs);
    child.kill(signal);
    expect(await exited).toBe(exitCode);
    expect(stderr).toContain('Interrupted: deleting debug pods default/knet-debug-kind-worker-');
    expect(podRequests(server, 'delete').length).toBe(deletes + 1);
    expect(knetPods(server)).toEqual([]);
  });
});
