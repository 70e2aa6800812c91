// `knet node conntrack` as a user runs it: the built CLI against the demo snapshot, whose kind-worker
// has one UDP entry to kube-dns still DNATed to a pod that is no longer an endpoint.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shouldEscapeControl } from '../../src/model/text.js';
import { examplesDir, repoRoot, runKnet, runKnetJson } from '../support/cli.js';
import { describeNeeding } from '../support/needs.js';

const execFileAsync = promisify(execFile);

const demo = join(examplesDir, 'demo');

interface Report {
  kind: string;
  filter?: string;
  nodes: { node: string; lines: number; matched: number; dnatMatched: number; entries: { line: number; protocol: string; original: { src: string; dst: string }; reply: { src: string } }[]; findings: { code: string; severity: string; backend?: string; hint?: string }[] }[];
}

describe('knet node conntrack', () => {
  it('finds the stale kube-dns entry and exits 1', async () => {
    const { json, code } = await runKnetJson<Report>(['node', 'conntrack', 'kind-worker', '--snapshot', demo]);
    expect(code).toBe(1);
    const n = json.nodes[0]!;
    expect([json.kind, n.node, n.lines, n.matched, n.dnatMatched]).toEqual(['conntrack', 'kind-worker', 13, 13, 11]);
    expect(n.findings.map((f) => [f.code, f.severity, f.backend])).toEqual([['conntrack-stale-udp', 'error', '10.244.0.4']]);
    expect(n.findings[0]!.hint).toContain('conntrack -D -p udp --orig-dst 10.96.0.10');
  });

  it.each([
    ['--service kube-system/kube-dns', ['--service', 'kube-system/kube-dns'], [3, 4, 5, 6]],
    ['--service svc/xecho (ClusterIP, NodePort, and its endpoints in either direction)', ['--service', 'svc/xecho'], [2, 3, 7, 8, 9]],
    ['--ip (any address, either direction)', ['--ip', '10.244.1.15'], [4, 7, 8]],
    ['--port', ['--port', '8080'], [7, 8, 9]],
    ['--protocol udp --state UNREPLIED', ['--protocol', 'udp', '--state', 'UNREPLIED'], [6]],
    ['--dnat --protocol tcp --ip 172.18.0.3', ['--dnat', '--protocol', 'tcp', '--ip', '172.18.0.3'], [1, 2, 9, 11]],
  ])('filters with %s', async (_name, flags, lines) => {
    const { json } = await runKnetJson<Report>(['node', 'conntrack', 'kind-worker', '--snapshot', demo, ...flags]);
    expect(json.nodes[0]!.entries.map((e) => e.line)).toEqual(lines);
  });

  it('prints a table people read, with the finding and what to do', async () => {
    const { stdout, code } = await runKnet(['node', 'conntrack', 'kind-worker', '--snapshot', demo, '--service', 'kube-system/kube-dns']);
    expect(code).toBe(1);
    expect(stdout).toContain('4 of 13 entries match, 4 DNATed');
    expect(stdout).toContain('10.244.1.7:47766 → 10.96.0.10:53');
    expect(stdout).toContain('conntrack-stale-udp');
    expect(stdout).toContain('→ delete the entry on the node');
  });

  it('--raw prints the capture unchanged', async () => {
    const { stdout, code } = await runKnet(['node', 'conntrack', 'kind-worker', '--snapshot', demo, '--raw']);
    expect(code).toBe(0);
    expect(stdout).toBe(readFileSync(join(demo, 'nodes/kind-worker/conntrack.txt'), 'utf8'));
  });

  it('--all-nodes reads every node that has a capture', async () => {
    const { json } = await runKnetJson<Report>(['node', 'conntrack', '--all-nodes', '--snapshot', demo]);
    expect(json.nodes.map((n) => n.node)).toEqual(['kind-worker']);
  });

  it.each([
    ['an unknown node', ['nope'], 'node "nope" has no state', 'Nodes with state: kind-worker, kind-worker2'],
    ['a node without the file', ['kind-worker2'], 'no conntrack.txt', 'conntrack -L > nodes/kind-worker2/conntrack.txt'],
    ['no node and no --all-nodes', [], 'name a node, or use --all-nodes', ''],
    ['an unknown Service', ['kind-worker', '--service', 'default/xcho'], 'not found', 'svc/xecho'],
    ['a bad --ip', ['kind-worker', '--ip', '10.0.0.999'], 'is not an IP address', ''],
  ])('%s: exit 2 with what to do', async (_name, args, message, suggestion) => {
    const { stderr, code } = await runKnet(['node', 'conntrack', ...args, '--snapshot', demo]);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain(suggestion);
  });

  it('without --snapshot and without a cluster: exit 3 (environment)', async () => {
    const { code } = await runKnet(['node', 'conntrack', 'kind-worker'], { env: { KUBECONFIG: '/nonexistent/kubeconfig', HOME: '/nonexistent' } });
    expect(code).toBe(3);
  });
});

describe('knet node conntrack --raw and control characters', () => {
  // An entry whose secctx label holds an escape sequence that clears a terminal and retitles its window.
  const hostile = `udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=47636 dport=53 src=10.244.0.2 dst=10.244.1.5 sport=53 dport=47636 mark=0 secctx=\u001b[2J\u001b]0;owned\u0007 use=1\n`;
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knet-raw-'));
    await mkdir(join(dir, 'nodes', 'n1'), { recursive: true });
    await writeFile(join(dir, 'knet-snapshot.yaml'), 'clusterDomain: cluster.local\n');
    await writeFile(join(dir, 'cluster.yaml'), 'apiVersion: v1\nkind: Node\nmetadata: { name: n1 }\n');
    await writeFile(join(dir, 'nodes', 'n1', 'conntrack.txt'), hostile);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('decides by where the output goes: escaped for a terminal, unchanged for a file or a pipe', () => {
    expect([
      shouldEscapeControl({ isRaw: true, isTTY: true }),
      shouldEscapeControl({ isRaw: true, isTTY: false }),
      shouldEscapeControl({ isRaw: false, isTTY: true }),
      shouldEscapeControl({ isRaw: false, isTTY: false }),
    ]).toEqual([true, false, true, true]);
  });

  it('to a pipe, --raw writes the capture unchanged, control characters included', async () => {
    const { stdout, code } = await runKnet(['node', 'conntrack', 'n1', '--snapshot', dir, '--raw']);
    expect(code).toBe(0);
    expect(stdout).toBe(hostile);
  });

  describeNeeding({ commands: ['script'] }, 'to a terminal (a pty made by script(1))', () => {
    it('--raw shows them as \\xNN', async () => {
      const argv = [process.execPath, join(repoRoot, 'bin', 'run.js'), 'node', 'conntrack', 'n1', '--snapshot', dir, '--raw'].map((a) => `'${a}'`).join(' ');
      const { stdout } = await execFileAsync('script', ['-qec', argv, '/dev/null'], { env: { ...process.env, NO_COLOR: '1' } });
      expect(stdout).toContain('secctx=\\x1b[2J\\x1b]0;owned\\x07 use=1');
      expect(stdout).not.toContain('\u001b');
    });
  });

  it('without --raw, the table escapes them even to a pipe', async () => {
    const { stdout } = await runKnet(['node', 'conntrack', 'n1', '--snapshot', dir, '--wide']);
    expect(stdout).not.toContain('\u001b');
  });
});
