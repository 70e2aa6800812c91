// `--all-nodes` and `--daemonset` when some nodes cannot be read: the built CLI against the HTTPS test
// API server with the real client-node. Not real: the kubelet (the server plays each pod's status) and
// the commands in the pods, which a scripted exec answers with captured output (no root needed), over
// the same WebSocket frames a real API server sends.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { POD_BEHAVIOURS, startTestApiServer, type RecordedRequest, type TestApiServer } from '../support/api-server.js';
import { examplesDir, runKnetJson } from '../support/cli.js';
import { scriptedExec, type ScriptedAnswer } from '../support/exec.js';

const demo = join(examplesDir, 'demo');
const DUMP = readFileSync(join(demo, 'nodes', 'kind-worker', 'iptables-save.txt'), 'utf8');
const NODES = ['kind-control-plane', 'kind-worker', 'kind-worker2'];

interface Report {
  nodes: { node: string; source: string; findings: { code: string; severity: string }[] }[];
  failedNodes?: { node: string; code: string; reason: string; suggestions: string[] }[];
}

/** The node a debug pod (or the DaemonSet's pod) runs on, from its name. */
const nodeOfPod = (req: RecordedRequest): string => NODES.filter((n) => (req.name ?? '').includes(n)).sort((a, b) => b.length - a.length)[0] ?? '?';

/** iptables-nft-save answers with the demo's dump, iptables-legacy-save is not installed. */
const answerIptables = (argv: string[]): ScriptedAnswer => (argv[0] === 'iptables-nft-save' ? { code: 0, stdout: DUMP } : { code: 127, stderr: `${argv[0]}: not found\n` });

describe('--all-nodes and --daemonset when some nodes cannot be read', () => {
  let server: TestApiServer;
  let kubeconfig = '';
  let answer: (argv: string[], req: RecordedRequest) => ScriptedAnswer = answerIptables;

  beforeAll(async () => {
    server = await startTestApiServer({ snapshot: demo, subresources: { exec: scriptedExec((argv, req) => answer(argv, req)) } });
    kubeconfig = await server.writeKubeconfig();
  });
  afterEach(() => {
    server.setPodBehaviour(() => POD_BEHAVIOURS.running);
    answer = answerIptables;
  });
  afterAll(() => server.close());

  const knetObjects = (): unknown[] => [
    ...server.store.get('pods')!.filter((p) => p.metadata.labels?.['app.kubernetes.io/managed-by'] === 'knet'),
    ...server.store.get('daemonsets')!,
  ];

  it('a debug pod that never runs on one node: the others are read, the node is named with its reason, exit 3', async () => {
    server.setPodBehaviour((pod) => ((pod.spec as { nodeName?: string }).nodeName === 'kind-worker2' ? POD_BEHAVIOURS.imagePullBackOff('nicolaka/netshoot:v0.13') : POD_BEHAVIOURS.running));
    const r = await runKnetJson<Report>(['node', 'iptables', '--all-nodes', '--kubeconfig', kubeconfig, '--pod-timeout', '10s']);
    expect(r.code).toBe(3);
    expect(r.json.nodes.map((n) => n.node)).toEqual(['kind-control-plane', 'kind-worker']);
    expect(r.json.failedNodes).toEqual([{ node: 'kind-worker2', code: 'debug-pod-failed', reason: expect.stringContaining('never ran: ImagePullBackOff') as string, suggestions: expect.any(Array) as string[] }]);
    expect(r.stderr).toContain('node kind-worker2 not read: the debug pod on node kind-worker2 never ran: ImagePullBackOff');
    expect(knetObjects()).toEqual([]);
  });

  it('an exec that fails on one node: the others are read, the node is named, exit 3', async () => {
    answer = (argv, req) => (nodeOfPod(req) === 'kind-worker' ? null : answerIptables(argv));
    const r = await runKnetJson<Report>(['node', 'iptables', '--all-nodes', '--kubeconfig', kubeconfig, '--exec-timeout', '1s']);
    expect(r.code).toBe(3);
    expect(r.json.nodes.map((n) => n.node)).toEqual(['kind-control-plane', 'kind-worker2']);
    expect(r.json.failedNodes!.map((f) => [f.node, f.code])).toEqual([['kind-worker', 'debug-exec-timeout']]);
    expect(knetObjects()).toEqual([]);
  });

  it('an error finding on a node read outranks a node not read: exit 1, and the failed node is still listed', async () => {
    answer = (argv, req) => {
      if (nodeOfPod(req) === 'kind-worker') return null;
      if (nodeOfPod(req) === 'kind-control-plane' && argv[0] === 'iptables-nft-save') return { code: 0, stdout: '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport\nCOMMIT\n' };
      return answerIptables(argv);
    };
    const r = await runKnetJson<Report>(['node', 'iptables', '--all-nodes', '--kubeconfig', kubeconfig, '--exec-timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.json.nodes.find((n) => n.node === 'kind-control-plane')!.findings.map((f) => f.code)).toContain('iptables-bad-rule');
    expect(r.json.failedNodes!.map((f) => f.node)).toEqual(['kind-worker']);
  });

  it('every node read: failedNodes is empty, exit 0', async () => {
    const r = await runKnetJson<Report>(['node', 'iptables', '--all-nodes', '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(0);
    expect(r.json.nodes).toHaveLength(3);
    expect(r.json.failedNodes).toEqual([]);
  });

  it('--daemonset-deadline: past it the DaemonSet is deleted, the nodes that never answered are named, exit 3', async () => {
    // kind-worker2's pod never runs and kind-worker's exec never answers; neither timeout would end before the deadline.
    server.setPodBehaviour((pod) => ((pod.spec as { nodeName?: string }).nodeName === 'kind-worker2' ? POD_BEHAVIOURS.pending : POD_BEHAVIOURS.running));
    answer = (argv, req) => (nodeOfPod(req) === 'kind-worker' ? null : answerIptables(argv));
    const before = server.requests.length;
    const started = Date.now();
    const r = await runKnetJson<Report>(['node', 'iptables', '--all-nodes', '--daemonset', '--daemonset-deadline', '3s', '--kubeconfig', kubeconfig, '--pod-timeout', '5m', '--exec-timeout', '5m']);
    const elapsed = Date.now() - started;
    expect(r.code).toBe(3);
    expect(r.json.nodes.map((n) => n.node)).toEqual(['kind-control-plane']);
    expect(r.json.failedNodes!.map((f) => [f.node, f.code])).toEqual([
      ['kind-worker', 'daemonset-deadline'],
      ['kind-worker2', 'daemonset-deadline'],
    ]);
    expect(r.json.failedNodes![0]!.reason).toMatch(/^node kind-worker did not answer before the --daemonset deadline of 3s: DaemonSet default\/knet-debug-[0-9a-f]+ was deleted$/);
    expect(server.requests.slice(before).filter((q) => q.resource === 'daemonsets').map((q) => q.verb)).toEqual(['create', 'delete']);
    expect(knetObjects()).toEqual([]);
    expect(elapsed).toBeLessThan(60_000);
  }, 90_000);

  it('--daemonset-deadline without --daemonset is bad input', async () => {
    const r = await runKnetJson<Report>(['node', 'iptables', 'kind-worker', '--daemonset-deadline', '3s', '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(2);
  });
});
