// A generated hostile corpus, run through the validator and the loader in-process (the bulk: every
// field an engine reads, in every wrong shape) and through every command as a process (a sample:
// several hostile files per snapshot, which one run reports together). Every case ends in exit 2
// with the file, the field and the object named, or in a correct result: never a stack trace, never
// "a bug in knet", never a hang, and within 256 MiB of heap (--max-old-space-size: past it the
// process would die with another exit code).
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnetError } from '../../src/model/errors.js';
import { SHAPES, fieldPath, validateObject } from '../../src/model/validate.js';
import { openCluster } from '../../src/sources/cluster.js';
import { runKnet, type CliResult } from '../support/cli.js';

type Path = (string | number)[];
type ShapeNode = (typeof SHAPES)[string];

/** Wrong values for a shape: each must be reported at its path. */
function wrongValuesFor(shape: ShapeNode): unknown[] {
  switch (shape.t) {
    case 'string':
      return [{ a: 1 }, 7, ['x']];
    case 'bool':
      return ['yes', 1];
    case 'int':
      return ['80', shape.max + 1, shape.min - 1, 1.5, { a: 1 }];
    case 'intOrString':
      return [{ a: 1 }, 0, 99999, ''];
    case 'enum':
      return ['FOO', 6];
    case 'list':
      return ['x', { a: 1 }];
    case 'map':
      return ['x', ['x'], 3];
    case 'stringMap':
      return ['x', ['x']];
    case 'any':
      return [];
  }
}

/** Every field path of a shape (lists entered at index 0), with its shape. */
function fieldsOf(shape: ShapeNode, path: Path = [], depth = 0): { path: Path; shape: ShapeNode }[] {
  const out: { path: Path; shape: ShapeNode }[] = path.length ? [{ path, shape }] : [];
  if (depth > 8) return out;
  if (shape.t === 'list') out.push(...fieldsOf(shape.of, [...path, 0], depth + 1));
  if (shape.t === 'map') for (const [k, f] of shape.fields) out.push(...fieldsOf(f.shape, [...path, k], depth + 1));
  return out;
}

/** An object of `kind` with `value` at `path`, containers made on the way. */
function objectWith(kind: string, path: Path, value: unknown): Record<string, unknown> {
  const obj: Record<string, unknown> = { kind, metadata: { name: 'x', namespace: 'default' } };
  let at: Record<string | number, unknown> = obj;
  path.forEach((p, i) => {
    if (i === path.length - 1) {
      at[p] = value;
      return;
    }
    const next = path[i + 1];
    if (at[p] === undefined || typeof at[p] !== 'object') at[p] = typeof next === 'number' ? [] : {};
    at = at[p] as Record<string | number, unknown>;
  });
  return obj;
}

const cases = Object.entries(SHAPES).flatMap(([kind, shape]) =>
  fieldsOf(shape)
    .filter((f) => !(f.path.length === 1 && f.path[0] === 'metadata'))
    .flatMap((f) => wrongValuesFor(f.shape).map((value) => ({ kind, path: f.path, value, name: `${kind} ${fieldPath(f.path)} = ${JSON.stringify(value)}` }))),
);

describe('every field an engine reads, in every wrong shape (validator, in-process)', () => {
  it('has the expected number of generated cases', () => {
    expect(cases.length).toBe(EXPECTED_CASES);
  });

  it.each(cases)('$name is reported at its field', ({ kind, path, value }) => {
    const problems = validateObject(objectWith(kind, path, value));
    expect(problems.map((p) => fieldPath(p.path))).toContain(fieldPath(path));
  });
});

// Counted once from SHAPES; a shape added to the validator changes it, deliberately.
const EXPECTED_CASES = 885;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'knet-hostile-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function snapshotWith(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const dir = join(work, name);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), content);
  }
  return dir;
}

async function inputErrorOf(promise: Promise<unknown>): Promise<KnetError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof KnetError) return err;
    throw err;
  }
  throw new Error('expected an input error');
}

const service = (extra: string): string => `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n${extra}`;

describe('hostile files through the snapshot loader (in-process)', () => {
  it('a selector nested 100,000 levels deep (YAML and JSON) is exit 2, not a stack overflow', async () => {
    const deepYaml = `${service('  selector:\n')}    a: ${'{a: '.repeat(100_000)}1${'}'.repeat(100_000)}\n`;
    const deepJson = JSON.stringify({ kind: 'Service', metadata: { name: 'web' }, spec: { selector: {} } }).replace('{}', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`);
    for (const [file, text] of [['deep.yaml', deepYaml], ['deep.json', deepJson]] as const) {
      const dir = await snapshotWith(`deep-${file}`, { [file]: text });
      const err = await inputErrorOf(openCluster({ snapshot: dir }));
      expect(err.exit).toBe(2);
      // YAML is refused on its brackets before parsing (the parser slows with depth); JSON is parsed
      // (V8 does it without recursion) and validated: a selector's values must be strings.
      expect(err.message).toBe(
        file.endsWith('yaml')
          ? `deep-${file}/${file}:8: nested more than 1000 levels deep; no Kubernetes object is`
          : `deep-${file}/${file}: Service default/web: spec.selector.a must be a string (found a map; quote it in YAML)`,
      );
    }
  });

  it('a field knet does not read, nested 100,000 levels deep, is exit 2 naming the field, not a stack overflow later', async () => {
    const deepJson = JSON.stringify({ kind: 'Service', metadata: { name: 'web' }, spec: { extra: {} } }).replace('{}', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`);
    const dir = await snapshotWith('deep-unknown', { 'deep.json': deepJson });
    const err = await inputErrorOf(openCluster({ snapshot: dir }));
    expect([err.exit, err.message]).toEqual([2, 'deep-unknown/deep.json: Service default/web: spec.extra.a.a.a.a.a.a.a.a is nested more than 64 levels deep; no Kubernetes object is']);
  });

  it('a YAML alias bomb is exit 2', async () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const dir = await snapshotWith('bomb', { 'bomb.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  ${lines.join('\n  ')}\n` });
    const err = await inputErrorOf(openCluster({ snapshot: dir }));
    expect([err.exit, err.message]).toEqual([2, expect.stringMatching(/bomb\.yaml:1: the document expands its YAML aliases too far/) as string]);
  });

  it('an object of kind `service` (lower case) is an error with "did you mean Service", not dropped without a word', async () => {
    const dir = await snapshotWith('typo-kind', { 'a.yaml': 'apiVersion: v1\nkind: service\nmetadata: {name: web}\n' });
    const err = await inputErrorOf(openCluster({ snapshot: dir }));
    expect(err.message).toBe('typo-kind/a.yaml:1: 1 object of kind `service` would be ignored; did you mean `Service`?');
  });

  it('a UTF-8 byte order mark is ignored', async () => {
    const dir = await snapshotWith('bom', { 'a.yaml': `\ufeff${service('  selector: {app: web}\n')}`, 'b.json': `\ufeff${JSON.stringify({ kind: 'Namespace', metadata: { name: 'shop' } })}` });
    const opened = await openCluster({ snapshot: dir });
    expect([opened.cluster.services.length, opened.cluster.namespaces.length]).toEqual([1, 1]);
  });

  it('a FIFO named *.yaml is refused by name, not waited on', async () => {
    const dir = await snapshotWith('fifo', { 'ok.yaml': service('  selector: {app: web}\n') });
    execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
    const err = await inputErrorOf(openCluster({ snapshot: dir }));
    expect(err.message).toMatch(/pipe\.yaml: it is not a regular file/);
  });

  it('wrong shapes name the file, the line of the field, the object and the field, all of them in one error', async () => {
    const dir = await snapshotWith('shapes', {
      'svc.yaml': service('  selector: app=web\n  ports: "80"\n'),
      'np.yaml': 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: shop}\nspec:\n  podSelector: {}\n  ingress: "x"\n',
    });
    const err = await inputErrorOf(openCluster({ snapshot: dir }));
    expect(err.code).toBe('object-malformed');
    const all = [err.message, ...err.suggestions].join('\n');
    expect(all).toContain('shapes/np.yaml:6: NetworkPolicy shop/np: spec.ingress must be a list (found the string "x")');
    expect(all).toContain('shapes/svc.yaml:7: Service shop/web: spec.selector must be a map of strings to strings (found the string "app=web")');
    expect(all).toContain('shapes/svc.yaml:8: Service shop/web: spec.ports must be a list (found the string "80")');
  });
});

// ---- the CLI as a process: a representative sample of each command ----

const NODE = 'n1';
const iptables = '*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n';
const conntrackLine = 'udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=1 dport=53 src=10.244.0.2 dst=10.244.1.5 sport=53 dport=1 mark=0 use=1';

/** The command lines of every command that reads a snapshot, against `dir`. */
const commands = (dir: string): string[][] => [
  ['endpoints', '-A', '--snapshot', dir],
  ['explain-policy', 'shop/a', 'shop/b', '--snapshot', dir],
  ['explain-policy', '--matrix', '-A', '--port', '80', '--snapshot', dir],
  ...['conntrack', 'iptables', 'ip6tables', 'nft', 'ipvs', 'ipset', 'routes'].map((k) => ['node', k, NODE, '--snapshot', dir]),
  ['rules', 'show', '--file', join(dir, 'nodes', NODE, 'iptables-save.txt'), '--snapshot', dir],
];

const limited = { NODE_OPTIONS: '--max-old-space-size=256' };

function expectCleanFailure(r: CliResult, code: number): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).not.toMatch(/\n\s+at |bug in knet/);
}

describe('every command on a snapshot of wrong shapes (the built CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await snapshotWith('cli-shapes', {
      'svc.yaml': service('  selector: {app: {nested: true}}\n  ports: [{port: "80"}]\n'),
      'np.yaml': 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: shop}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{port: 0, endPort: 99999, protocol: FOO}]}]\n',
      'pod.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop, labels: {app: 1}}\nstatus: {podIPs: "10.0.0.1"}\n',
      [`nodes/${NODE}/iptables-save.txt`]: iptables,
      [`nodes/${NODE}/conntrack.txt`]: `${conntrackLine}\n`,
    });
  });

  it('the corpus runs every command that reads a snapshot', () => {
    expect(commands('x')).toHaveLength(11);
  });

  it.each(commands('DIR').map((argv) => ({ name: argv.slice(0, 2).join(' '), argv })))('$name: exit 2 naming the file, field and object of each problem', async ({ argv }) => {
    const r = await runKnet(argv.map((a) => a.replace('DIR', dir)), { env: limited });
    expectCleanFailure(r, 2);
    for (const want of [
      'cli-shapes/svc.yaml:7: Service shop/web: spec.selector.app must be a string',
      'Service shop/web: spec.ports[0].port must be a whole number from 1 to 65535 (found the string "80")',
      'NetworkPolicy shop/np: spec.ingress[0].ports[0].protocol must be one of TCP, UDP, SCTP (found the string "FOO")',
      'NetworkPolicy shop/np: spec.ingress[0].ports[0].port must be a port name or a number from 1 to 65535 (found number 0)',
      'NetworkPolicy shop/np: spec.ingress[0].ports[0].endPort must be a whole number from 1 to 65535 (found number 99999)',
      'cli-shapes/pod.yaml:3: Pod shop/a: metadata.labels.app must be a string',
      'Pod shop/a: status.podIPs must be a list',
    ]) {
      expect(r.stderr).toContain(want);
    }
  }, 60_000);
});

describe('node state and dumps that are not what they claim (the built CLI)', () => {
  it('a FIFO as conntrack.txt, and as rules trace --file: exit 2 naming it, no hang', async () => {
    const dir = await snapshotWith('fifo-node', { [`nodes/${NODE}/iptables-save.txt`]: iptables });
    execFileSync('mkfifo', [join(dir, 'nodes', NODE, 'conntrack.txt')]);
    const conntrack = await runKnet(['node', 'conntrack', NODE, '--snapshot', dir], { env: limited });
    expectCleanFailure(conntrack, 2);
    expect(conntrack.stderr).toMatch(/conntrack\.txt is not a regular file/);
    const trace = await runKnet(['rules', 'trace', '--file', join(dir, 'nodes', NODE, 'conntrack.txt'), '--src', '10.0.0.1', '--dst', '10.96.0.1', '--dport', '443'], { env: limited });
    expectCleanFailure(trace, 2);
    expect(trace.stderr).toMatch(/conntrack\.txt: it is not a regular file/);
  }, 60_000);

  it('escape bytes in a conntrack line and in an object name never reach the terminal', async () => {
    const dir = await snapshotWith('escapes', {
      'svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: "web\\e[2J", namespace: shop}\nspec: {selector: {app: web}, clusterIP: 10.96.0.10, ports: [{port: 53, protocol: UDP}]}\n',
      [`nodes/${NODE}/conntrack.txt`]: `${conntrackLine.replace('mark=0', 'mark=0 secctx=\x1b]0;owned\x07')}\nudp 17 \x1b[2J\n`,
    });
    const r = await runKnet(['node', 'conntrack', NODE, '--snapshot', dir, '--no-color'], { env: limited });
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // eslint-disable-next-line no-control-regex -- the point: no raw ESC or BEL in the output
    expect(r.stdout + r.stderr).not.toMatch(/[\x1b\x07]/);
    expect(r.stdout).toContain('\\x1b[2J');
    const endpoints = await runKnet(['endpoints', 'svc/web', '-n', 'shop', '--snapshot', dir], { env: limited });
    expect(endpoints.stdout + endpoints.stderr).not.toContain(String.fromCharCode(27));
    expect(endpoints.stderr).toContain('web\\x1b[2J');
  }, 60_000);

  it('a dump with a UTF-8 byte order mark reads as the dump it is', async () => {
    const dir = await snapshotWith('bom-dump', { 'iptables.txt': `\ufeff${iptables}` });
    const r = await runKnet(['rules', 'trace', '--file', join(dir, 'iptables.txt'), '--src', '10.0.0.1', '--dst', '10.96.0.1', '--dport', '443', '--json'], { env: limited });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { verdict: string }).verdict).toBe('accept');
  }, 60_000);

  it('binary garbage as a dump is exit 2, not a crash', async () => {
    const dir = await snapshotWith('garbage', { 'dump.bin': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 255)) });
    // -o=json (with the equals sign) printed nothing on stdout when the command failed.
    const r = await runKnet(['rules', 'trace', '--file', join(dir, 'dump.bin'), '--src', '10.0.0.1', '--dst', '10.96.0.1', '--dport', '443', '-o=json'], { env: limited });
    expectCleanFailure(r, 2);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { exitCode: 2 } });
  }, 60_000);
});

const isRoot = process.getuid?.() === 0;
const canDropToNobody = isRoot && (() => {
  try {
    execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', '0']);
    return true;
  } catch {
    return false;
  }
})();

describe('permissions', () => {
  it('a snapshot file the user cannot read is "permission denied", exit 2, not "does not exist"', async () => {
    if (isRoot && !canDropToNobody) {
      console.log('skipped: running as root without setpriv to drop to an unprivileged user (root reads every file)');
      return;
    }
    const dir = await snapshotWith('perm', { 'ok.yaml': service('  selector: {app: web}\n'), 'secret.yaml': service('  selector: {app: web}\n') });
    await chmod(join(dir, 'secret.yaml'), 0o000);
    await chmod(work, 0o755);
    const argv = [join(import.meta.dirname, '..', '..', 'bin', 'run.js'), 'endpoints', '-A', '--snapshot', dir];
    let stderr = '';
    let code = 0;
    try {
      const [command, args]: [string, string[]] = isRoot ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...argv]] : [process.execPath, argv];
      execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...limited, HOME: work } });
    } catch (err) {
      const e = err as { status: number; stderr: Buffer };
      code = e.status;
      stderr = e.stderr.toString();
    }
    expect([code, stderr.split('\n').find((l) => l.startsWith('Error:'))]).toEqual([2, `Error: cannot read ${join(dir, 'secret.yaml')}: permission denied`]);
    expect(stderr).not.toMatch(/\n\s+at |bug in knet/);
  }, 60_000);
});
