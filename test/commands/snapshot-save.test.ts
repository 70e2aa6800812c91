import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../src/model/cluster.js';
import { loadSnapshot } from '../../src/sources/snapshot.js';
import { startTestApiServer, type TestApiServer } from '../support/api-server.js';
import { examplesDir, runKnet, runKnetJson } from '../support/cli.js';

// Needs the built CLI: npm run build.
const demo = join(examplesDir, 'demo');

function objectsOf(cluster: Cluster): Omit<Cluster, 'meta'> {
  const { meta: _meta, ...objects } = cluster;
  return objects;
}

let server: TestApiServer;
let kubeconfig: string;
let work: string;
let expected: Cluster;

beforeAll(async () => {
  server = await startTestApiServer({ snapshot: demo, maxPageSize: 2 });
  kubeconfig = await server.writeKubeconfig({ contextName: 'kind-kind' });
  work = await mkdtemp(join(tmpdir(), 'knet-save-'));
  expected = (await loadSnapshot(demo)).cluster;
});
afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});
afterEach(() => {
  server.clearFaults();
  server.requests.length = 0;
});

/** Every file of a directory and its bytes. */
async function contentsOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await readdir(dir)) out[f] = (await readFile(join(dir, f))).toString('base64');
  return out;
}

const FILES = [
  'adminnetworkpolicies.yaml',
  'baselineadminnetworkpolicies.yaml',
  'configmaps.yaml',
  'endpoints.yaml',
  'endpointslices.yaml',
  'knet-snapshot.yaml',
  'namespaces.yaml',
  'networkpolicies.yaml',
  'nodes.yaml',
  'pods.yaml',
  'services.yaml',
];

describe('knet snapshot save', () => {
  it('writes one List per kind and knet-snapshot.yaml, which the snapshot loader reads back as the same objects', async () => {
    const dir = join(work, 'full');
    const { json, code, stderr } = await runKnetJson<{ objects: number; files: { file: string; kind: string; count: number }[]; nodeState: { saved: boolean } }>([
      'snapshot', 'save', dir, '--kubeconfig', kubeconfig,
    ]);
    expect([code, stderr]).toEqual([0, '']);
    expect((await readdir(dir)).sort()).toEqual(FILES);
    expect(json.files.find((f) => f.file === 'pods.yaml')).toEqual({ file: 'pods.yaml', kind: 'Pod', count: expected.pods.length });
    expect(json.nodeState.saved).toBe(false);
    const pods = parse(await readFile(join(dir, 'pods.yaml'), 'utf8')) as { apiVersion: string; kind: string; items: { kind: string }[] };
    expect([pods.apiVersion, pods.kind, pods.items[0]?.kind]).toEqual(['v1', 'List', 'Pod']);

    const back = await loadSnapshot(dir);
    expect(objectsOf(back.cluster)).toEqual(objectsOf(expected));
    expect(back.cluster.meta).toEqual({
      clusterDomain: 'cluster.local',
      proxyMode: 'iptables',
      context: 'kind-kind',
      takenBy: 'knet 0.1.0',
      podCIDRs: ['10.244.0.0/16'],
      takenAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as string,
    });
    expect(server.requests.filter((r) => r.resource === 'secrets')).toEqual([]);
  });

  it('a saved snapshot gives the same endpoints report as the objects it came from', async () => {
    const dir = join(work, 'report');
    expect((await runKnet(['snapshot', 'save', dir, '--kubeconfig', kubeconfig])).code).toBe(0);
    const fromSaved = await runKnetJson(['endpoints', '-A', '--snapshot', dir]);
    const fromDemo = await runKnetJson(['endpoints', '-A', '--snapshot', demo]);
    expect(fromSaved.json).toEqual(fromDemo.json);
  });

  it('-n saves one namespace of the namespaced kinds; --cluster-domain is recorded', async () => {
    const dir = join(work, 'one-ns');
    const { json, code } = await runKnetJson<{ namespace: string }>(['snapshot', 'save', dir, '-n', 'default', '--cluster-domain', 'corp.example', '--kubeconfig', kubeconfig]);
    expect([code, json.namespace]).toEqual([0, 'default']);
    const back = await loadSnapshot(dir);
    expect(back.cluster.meta.clusterDomain).toBe('corp.example');
    expect((parse(await readFile(join(dir, 'knet-snapshot.yaml'), 'utf8')) as { namespace?: string }).namespace).toBe('default');
    expect(back.cluster.pods.map((p) => p.metadata.name)).toEqual(expected.pods.filter((p) => p.metadata.namespace === 'default').map((p) => p.metadata.name));
    expect(back.cluster.nodes.length).toBe(expected.nodes.length);
  });

  it('refuses a non-empty directory knet did not write, and changes nothing in it, even with --force', async () => {
    const dir = join(work, 'mine');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'my notes');
    for (const force of [[], ['--force']]) {
      const result = await runKnet(['snapshot', 'save', dir, '--kubeconfig', kubeconfig, ...force]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/is not empty and is not a knet snapshot/);
    }
    expect(await readdir(dir)).toEqual(['notes.txt']);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('my notes');
    expect(server.requests).toEqual([]);
  });

  it('replaces a previous knet snapshot only with --force', async () => {
    const dir = join(work, 'again');
    expect((await runKnet(['snapshot', 'save', dir, '--kubeconfig', kubeconfig])).code).toBe(0);
    const refused = await runKnet(['snapshot', 'save', dir, '--kubeconfig', kubeconfig]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already holds a knet snapshot\n {2}Add --force/);
    const forced = await runKnetJson<{ replaced: boolean }>(['snapshot', 'save', dir, '--kubeconfig', kubeconfig, '--force']);
    expect([forced.code, forced.json.replaced]).toEqual([0, true]);
    expect((await readdir(dir)).sort()).toEqual(FILES);
    expect((await readdir(work)).filter((f) => f.startsWith('.'))).toEqual([]);
    const meta = parse(await readFile(join(dir, 'knet-snapshot.yaml'), 'utf8')) as { files: string[] };
    expect([...meta.files].sort()).toEqual(FILES);
  });

  it('--force with files the user added since (node dumps, notes) refuses, names them, and loses nothing', async () => {
    const dir = join(work, 'added');
    expect((await runKnet(['snapshot', 'save', dir, '--kubeconfig', kubeconfig])).code).toBe(0);
    await mkdir(join(dir, 'nodes', 'kind-worker'), { recursive: true });
    await writeFile(join(dir, 'nodes', 'kind-worker', 'iptables-save.txt'), '*nat\nCOMMIT\n');
    await writeFile(join(dir, 'notes.txt'), 'my notes');
    const before = await readFile(join(dir, 'pods.yaml'), 'utf8');
    const refused = await runKnet(['snapshot', 'save', dir, '--kubeconfig', kubeconfig, '--force']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/holds 2 files knet did not write, which replacing the snapshot would lose: nodes\/kind-worker\/iptables-save\.txt, notes\.txt/);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('my notes');
    expect(await readFile(join(dir, 'nodes', 'kind-worker', 'iptables-save.txt'), 'utf8')).toBe('*nat\nCOMMIT\n');
    expect(await readFile(join(dir, 'pods.yaml'), 'utf8')).toBe(before);
  });

  it('a knet-snapshot.yaml saying `takenBy: knet` in a home directory cannot make --force wipe it', async () => {
    const home = join(work, 'home');
    await mkdir(home);
    await writeFile(join(home, '.bashrc'), 'export PS1=x');
    await writeFile(join(home, 'pods.yaml'), 'mine');
    await writeFile(join(home, 'knet-snapshot.yaml'), 'takenBy: knet 0.1.0\nfiles: [.bashrc, pods.yaml, ../outside]\n');
    const result = await runKnet(['snapshot', 'save', home, '--kubeconfig', kubeconfig, '--force']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/holds 1 file knet did not write, which replacing the snapshot would lose: \.bashrc/);
    expect((await readdir(home)).sort()).toEqual(['.bashrc', 'knet-snapshot.yaml', 'pods.yaml']);
    expect(await readFile(join(home, 'pods.yaml'), 'utf8')).toBe('mine');
  });

  it('a snapshot from before the manifest is replaced when it holds only the files knet writes', async () => {
    const dir = join(work, 'old-layout');
    expect((await runKnet(['snapshot', 'save', dir, '--kubeconfig', kubeconfig])).code).toBe(0);
    const metaPath = join(dir, 'knet-snapshot.yaml');
    await writeFile(metaPath, (await readFile(metaPath, 'utf8')).replace(/^files:[\s\S]*$/m, ''));
    expect(await readFile(metaPath, 'utf8')).not.toMatch(/files:/);
    const forced = await runKnet(['snapshot', 'save', dir, '--kubeconfig', kubeconfig, '--force']);
    expect(forced.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(FILES);
  });

  it('a directory it cannot create is exit 2 naming it', async () => {
    const file = join(work, 'a-file');
    await writeFile(file, 'not a directory');
    const result = await runKnet(['snapshot', 'save', join(file, 'snap'), '--kubeconfig', kubeconfig]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot use .*a-file\/snap: a part of the path is not a directory/);
    expect(result.stderr).toMatch(/Give a new or empty directory/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('writes into an existing empty directory', async () => {
    const dir = join(work, 'empty');
    await mkdir(dir);
    expect((await runKnet(['snapshot', 'save', dir, '--kubeconfig', kubeconfig])).code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(FILES);
  });

  it('a --force save that fails part-way (the API server errors from its third list on) leaves the old snapshot byte for byte, and no temporary sibling', async () => {
    const dir = join(work, 'kept');
    expect((await runKnet(['snapshot', 'save', dir, '--kubeconfig', kubeconfig])).code).toBe(0);
    await writeFile(join(dir, 'pods.yaml'), `# a byte the new save would not write\n${await readFile(join(dir, 'pods.yaml'), 'utf8')}`);
    const before = await contentsOf(dir);
    const siblings = (await readdir(work)).sort();
    expect(Object.keys(before).sort()).toEqual(FILES);
    let lists = 0;
    server.addFault({ match: (r) => r.verb === 'list' && ++lists >= 3, status: 500, message: 'etcdserver: request timed out' });
    const failed = await runKnet(['snapshot', 'save', dir, '--kubeconfig', kubeconfig, '--force']);
    expect(lists).toBeGreaterThanOrEqual(3);
    expect(failed.code).toBe(3);
    // The lists run side by side: which one is third is not fixed.
    expect(failed.stderr).toMatch(/list [a-z.0-9]+ cluster-wide: the API server failed \(500 InternalError\): etcdserver: request timed out/);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect(await contentsOf(dir)).toEqual(before);
    expect((await readdir(work)).sort()).toEqual(siblings);
  });

  it('an RBAC refusal exits 3 and leaves no directory behind', async () => {
    const dir = join(work, 'forbidden');
    server.addFault({ match: (r) => r.resource === 'endpointslices', status: 403 });
    const result = await runKnet(['snapshot', 'save', dir, '--kubeconfig', kubeconfig]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/RBAC forbids "list endpointslices\.discovery\.k8s\.io" cluster-wide/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect((await readdir(work)).includes('forbidden')).toBe(false);
  });

  it('says in its text output that node state was not saved', async () => {
    const result = await runKnet(['snapshot', 'save', join(work, 'text'), '--kubeconfig', kubeconfig]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Saved .*text: \d+ objects from context kind-kind \(all namespaces\)\./);
    expect(result.stdout).toMatch(/pods\.yaml\s+Pod\s+\d+/);
    expect(result.stdout).toMatch(/Objects only: no node was asked for \(--nodes NODE or --all-nodes\)\. Add --nodes NODE/);
  });
});
