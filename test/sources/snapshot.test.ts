import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KnetError } from '../../src/model/errors.js';
import { loadSnapshot } from '../../src/sources/snapshot.js';
import { openCluster } from '../../src/sources/cluster.js';
import { examplesDir } from '../support/cli.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'knet-snap-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectInputError(path: string, message: RegExp): Promise<void> {
  const err = await loadSnapshot(path).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KnetError);
  expect((err as KnetError).exit).toBe(2);
  expect((err as KnetError).message).toMatch(message);
}

const pod = (name: string, ns = 'default') => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n`;

describe('a JSON List with one item per line (each parsed and checked on its own)', () => {
  const good = [
    { kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } },
    { kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } }, status: { podIP: '10.0.0.1' } },
  ];
  const bad = [
    { kind: 'Service', metadata: { name: 'db', namespace: 'shop', labels: { tier: 3 } }, spec: { ports: [{ port: 0 }] } },
    { kind: 'NetworkPolicy', metadata: { name: 'np', namespace: 'shop' }, spec: { ingress: [{ ports: [{ port: 90, endPort: 80 }] }] } },
    { kind: 'Pod', metadata: { name: 'odd', namespace: 7 } },
  ];
  const oneLine = (items: unknown[], kind = 'List'): string => `{"apiVersion":"v1","kind":"${kind}","items":[\n${items.map((i) => JSON.stringify(i)).join(',\n')}\n]}\n`;
  const pretty = (items: unknown[], kind = 'List'): string => JSON.stringify({ apiVersion: 'v1', kind, items }, null, 2);

  async function opened(text: string): Promise<{ error?: KnetError; pods?: string[]; services?: string[] }> {
    const path = join(dir, `list-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(path, text);
    try {
      const { cluster } = await openCluster({ snapshot: path, allNamespaces: true });
      return { pods: cluster.pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`), services: cluster.services.map((x) => x.metadata.name) };
    } catch (err) {
      if (err instanceof KnetError) return { error: err };
      throw err;
    }
  }
  const described = (r: { error?: KnetError }) => (r.error ? { message: r.error.message.replace(/\S*list-\w+\.json/, 'F'), suggestions: r.error.suggestions.map((x) => x.replace(/\S*list-\w+\.json/, 'F')), exit: r.error.exit } : r);

  it.each([
    ['objects that pass', good, 'List'],
    ['objects with problems of every kind among them', [...good, ...bad], 'List'],
    ['a typed List whose items carry no kind', [{ metadata: { name: 'a', namespace: 'x' }, spec: { ports: [{ port: 70000 }] } }, { metadata: { name: 'b', namespace: 'x' } }], 'ServiceList'],
  ])('%s read as the pretty-printed file is read: same objects, same errors', async (_, items, kind) => {
    const byLine = await opened(oneLine(items, kind));
    expect(described(byLine)).toEqual(described(await opened(pretty(items, kind))));
    if (items.length > 2) expect(described(byLine)).toMatchObject({ message: expect.stringMatching(/^F: Service (shop\/db|x\/a): /) as unknown, exit: 2 });
  });

  it('a List longer than one parse of lines: same objects, same errors, items named by their place in the List', async () => {
    // Items are parsed a group of lines at a time: good and bad items on both sides of group boundaries.
    const items = Array.from({ length: 150 }, (_, i) =>
      [3, 64, 65, 140].includes(i)
        ? { kind: 'Pod', metadata: { name: `odd-${i}`, namespace: 'shop', labels: { n: i } } }
        : { kind: 'Pod', metadata: { name: `web-${i}`, namespace: 'shop' }, status: { podIP: `10.0.${i}.1` } },
    );
    const byLine = described(await opened(oneLine(items)));
    expect(byLine).toEqual(described(await opened(pretty(items))));
    expect(byLine).toMatchObject({ message: expect.stringMatching(/^F: Pod shop\/odd-3: .*\(and 3 more problems\)$/) as unknown, exit: 2 });
    const good150 = items.map((item, i) => ([3, 64, 65, 140].includes(i) ? { kind: 'Pod', metadata: { name: `fine-${i}`, namespace: 'shop' } } : item));
    const read = await opened(oneLine(good150));
    expect(read.pods).toHaveLength(150);
    expect(read.pods?.[149]).toBe('shop/web-149');
    // An item over two lines inside a group, and one across a group's last line: read as the whole file is.
    for (const at of [10, 63]) {
      const lines = good150.map((item) => JSON.stringify(item));
      lines[at] = lines[at]!.replace('"metadata"', '\n"metadata"');
      const text = `{"kind":"List","items":[\n${lines.join(',\n')}\n]}\n`;
      expect(await opened(text)).toEqual(read);
    }
  });

  it.each([
    ['an item over two lines', `{"kind":"List","items":[\n${JSON.stringify(good[0])},\n{"kind":"Pod",\n"metadata":{"name":"p","namespace":"shop"}}\n]}`],
    ['two items on one line', `{"kind":"List","items":[\n${JSON.stringify(good[0])},${JSON.stringify(good[1])}\n]}`],
    ['Windows line ends', `{"kind":"List","items":[\r\n${JSON.stringify(good[0])}\r\n]}\r\n`],
  ])('%s: read whole, the same objects', async (_, text) => {
    const r = await opened(text);
    expect(r.error?.message).toBeUndefined();
    expect(r).toEqual(await opened(JSON.stringify(JSON.parse(text), null, 1)));
  });

  it('an empty List is no objects, as when pretty-printed', async () => {
    const r = described(await opened('{"kind":"List","items":[\n]}\n'));
    expect(r).toEqual(described(await opened('{\n  "kind": "List",\n  "items": []\n}')));
    expect(r).toMatchObject({ message: expect.stringMatching(/^no Kubernetes objects found/) as unknown });
  });

  it.each([
    ['a comma after the last item', `{"kind":"List","items":[\n${JSON.stringify(good[0])},\n]}`],
    ['a broken item', `{"kind":"List","items":[\n${JSON.stringify(good[0])},\n{"kind":"Pod","metadata":{"name":"p"\n]}`],
  ])('%s: the error of the whole file, with its line', async (_, text) => {
    const r = await opened(text);
    let whole = '';
    try {
      JSON.parse(text);
    } catch (err) {
      whole = (err as Error).message;
    }
    expect(described(r)).toMatchObject({ message: expect.stringMatching(/^F(:\d+)?: not valid JSON: /) as unknown, exit: 2 });
    expect(r.error?.message).toContain(whole);
  });
});

describe('loadSnapshot', () => {
  it('keeps one object per kind, namespace and name: the later one, where the first stood', async () => {
    const svc = (name: string, ns: string, tag: string) => ({ kind: 'Service', metadata: { name, namespace: ns, labels: { tag } } });
    const p = (name: string, ns: string, tag: string) => ({ kind: 'Pod', metadata: { name, namespace: ns, labels: { tag } } });
    // Kinds and namespaces interleaved, so that each object's kind or namespace differs from the one before it now and then.
    await writeFile(join(dir, 'a.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [svc('web', 'x', '1'), svc('web', 'y', '1'), p('web', 'x', '1'), svc('db', 'x', '1'), svc('web', 'x', '2'), { kind: 'ServiceList', items: [] }] }));
    await writeFile(join(dir, 'b.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ServiceList', items: [{ metadata: { name: 'db', namespace: 'x', labels: { tag: '3' } } }, { metadata: { name: 'web', namespace: 'y', labels: { tag: '3' } } }] }));
    await writeFile(join(dir, 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [p('web', 'x', '4'), p('web', 'y', '4'), svc('web', 'x', '4'), svc('new', 'x', '4')] }));
    const snap = await loadSnapshot(dir);
    const names = (list: { metadata: { namespace?: string; name: string; labels?: Record<string, string> } }[]) => list.map((o) => `${o.metadata.namespace}/${o.metadata.name}:${o.metadata.labels?.tag}`);
    expect(names(snap.cluster.services)).toEqual(['x/web:4', 'y/web:3', 'x/db:3', 'x/new:4']);
    expect(names(snap.cluster.pods)).toEqual(['x/web:4', 'y/web:4']);
  });

  it('reads single objects, multi-document streams and Lists, recursively', async () => {
    await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(dir, 'one.yaml'), pod('a'));
    await writeFile(join(dir, 'sub', 'multi.yml'), `${pod('b')}---\n${pod('c', 'other')}\n---\n`);
    await writeFile(join(dir, 'sub', 'deeper', 'list.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ kind: 'Service', metadata: { name: 's', namespace: 'default' } }] }));
    const snap = await loadSnapshot(dir);
    expect(snap.cluster.pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(['default/a', 'default/b', 'other/c']);
    expect(snap.cluster.services.map((s) => s.metadata.name)).toEqual(['s']);
    expect(snap.files).toHaveLength(3);
  });

  it('reads a typed list from the API (PodList) whose items carry no kind', async () => {
    await writeFile(join(dir, 'pods.json'), JSON.stringify({ kind: 'PodList', apiVersion: 'v1', items: [{ metadata: { name: 'p', namespace: 'x' } }] }));
    const snap = await loadSnapshot(dir);
    expect(snap.cluster.pods[0]).toMatchObject({ kind: 'Pod', metadata: { name: 'p', namespace: 'x' } });
  });

  it('skips kinds it does not read, counting them, and puts namespaced objects without a namespace in default', async () => {
    await writeFile(join(dir, 'x.yaml'), `kind: Deployment\nmetadata:\n  name: d\n---\nkind: Secret\nmetadata:\n  name: s\n---\nkind: Pod\nmetadata:\n  name: p\n`);
    const snap = await loadSnapshot(dir);
    expect(snap.skipped).toEqual({ Deployment: 1, Secret: 1 });
    expect(snap.cluster.pods[0]!.metadata.namespace).toBe('default');
  });

  it('ignores nodes/ (command output) and reads knet-snapshot.yaml as metadata', async () => {
    await mkdir(join(dir, 'nodes', 'n1'), { recursive: true });
    await writeFile(join(dir, 'nodes', 'n1', 'iptables-save.txt'), '*nat\nCOMMIT\n');
    await writeFile(join(dir, 'nodes', 'n1', 'weird.yaml'), ': not yaml [');
    await writeFile(join(dir, 'knet-snapshot.yaml'), 'clusterDomain: corp.local\nproxyMode: nftables\n');
    await writeFile(join(dir, 'p.yaml'), pod('a'));
    const snap = await loadSnapshot(dir);
    expect(snap.cluster.meta).toEqual({ clusterDomain: 'corp.local', proxyMode: 'nftables' });
    expect(await snap.nodeState.listNodes()).toEqual(['n1']);
    expect(await snap.nodeState.listKinds('n1')).toEqual(['iptables-save']);
    expect(await snap.nodeState.read('n1', 'iptables-save')).toBe('*nat\nCOMMIT\n');
    expect(await snap.nodeState.read('n1', 'conntrack')).toBeNull();
  });

  it('lets a later copy of the same object win', async () => {
    await writeFile(join(dir, 'a.yaml'), `${pod('p')}  labels: {v: "1"}\n---\n${pod('p')}  labels: {v: "2"}\n`);
    const snap = await loadSnapshot(dir);
    expect(snap.cluster.pods.map((p) => p.metadata.labels)).toEqual([{ v: '2' }]);
  });

  it('reads the demo snapshot', async () => {
    const snap = await loadSnapshot(join(examplesDir, 'demo'));
    expect(snap.cluster.services.length).toBeGreaterThanOrEqual(10);
    expect(snap.cluster.meta.clusterDomain).toBe('cluster.local');
  });

  it.each([
    { what: 'a missing path', setup: () => Promise.resolve(join(dir, 'nope')), message: /does not exist/ },
    { what: 'a YAML syntax error, with its line', setup: async () => (await writeFile(join(dir, 'bad.yaml'), `${pod('a')}---\nkind: Pod\nmetadata:\n  name: [unclosed\n`), dir), message: /bad\.yaml:\d+: not valid YAML/ },
    { what: 'a JSON syntax error, with its line', setup: async () => (await writeFile(join(dir, 'bad.json'), '{\n  "kind": "Pod",\n  "metadata": {\n}}}\n'), dir), message: /bad\.json:4: not valid JSON/ },
    { what: 'a List with an item that is not an object', setup: async () => (await writeFile(join(dir, 'l.yaml'), `kind: List\nitems:\n- ${'{kind: Pod, metadata: {name: a}}'}\n- just a string\n`), dir), message: /l\.yaml:4: item 1 of the List is not an object/ },
    { what: 'a List item with no name', setup: async () => (await writeFile(join(dir, 'l.yaml'), 'kind: List\nitems:\n- kind: Pod\n  metadata: {}\n'), dir), message: /l\.yaml:3: item 0 of the List \(Pod\) has no metadata\.name/ },
    { what: 'an object with no kind', setup: async () => (await writeFile(join(dir, 'k.yaml'), 'metadata:\n  name: a\n'), dir), message: /has no "kind"/ },
    { what: 'an empty directory', setup: () => Promise.resolve(dir), message: /no Kubernetes objects found/ },
    { what: 'a bad proxyMode in knet-snapshot.yaml', setup: async () => (await writeFile(join(dir, 'knet-snapshot.yaml'), 'proxyMode: userspace\n'), await writeFile(join(dir, 'p.yaml'), pod('a')), dir), message: /proxyMode "userspace"/ },
  ])('rejects $what as bad input (exit 2) naming the file', async ({ setup, message }) => {
    await expectInputError(await setup(), message);
  });
});

describe('SnapshotNodeState.lines', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'knet-lines-'));
    await mkdir(join(root, 'nodes', 'n1'), { recursive: true });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function collect(content: string): Promise<string[]> {
    await writeFile(join(root, 'nodes', 'n1', 'conntrack.txt'), content);
    const snap = await loadSnapshot(root);
    const out: string[] = [];
    for await (const line of (await snap.nodeState.lines('n1', 'conntrack'))!) out.push(line);
    return out;
  }

  it.each([
    { what: 'LF lines with a final newline', content: 'a\nb\n', want: ['a', 'b'] },
    { what: 'no final newline', content: 'a\nb', want: ['a', 'b'] },
    { what: 'CRLF lines', content: 'a\r\nb\r\n', want: ['a', 'b'] },
    { what: 'empty lines kept', content: 'a\n\nb\n', want: ['a', '', 'b'] },
  ])('splits $what', async ({ content, want }) => {
    expect(await collect(content)).toEqual(want);
  });

  it('joins lines that span chunk boundaries', async () => {
    const long = 'x'.repeat((1 << 20) - 3);
    const lines = [long, 'tcp 6 431999 ESTABLISHED src=10.0.0.1', 'y'.repeat(3 << 20), 'last'];
    expect(await collect(lines.join('\n') + '\n')).toEqual(lines);
  });

  it('is null when the node has no such file', async () => {
    await writeFile(join(root, 'nodes', 'n1', 'ipset.txt'), 'x\n');
    const snap = await loadSnapshot(root);
    expect(await snap.nodeState.lines('n1', 'conntrack')).toBeNull();
  });
});
