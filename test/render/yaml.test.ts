// -o yaml lays plain data out itself (src/render/yaml.ts); the yaml package is the reference. Every
// value here is rendered both ways and the texts must be equal, byte for byte; where the renderer
// declines (null), the package renders, so only the declining is checked.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { renderYaml } from '../../src/render/document.js';
import { YAML_OPTIONS, renderYamlPieces, renderYamlStream } from '../../src/render/yaml.js';
import { renderList } from '../../src/sources/live/save-snapshot.js';
import { examplesDir, runKnet } from '../support/cli.js';
import { random } from '../support/random.js';

function both(value: unknown): { fast: string | null; reference: string } {
  const pieces = renderYamlPieces(value);
  return { fast: pieces === null ? null : pieces.join(''), reference: stringify(value, YAML_OPTIONS) };
}

/** Scalars at the edges of the package's quoting rules. */
const AWKWARD_STRINGS = [
  '', ' ', ' a', 'a ', 'a  b', 'a: b', 'a:b', 'a:', ':a', 'a :', 'a #b', 'a#b', '#a', '-', '-a', '- a', '?', '?a', '? a', '--', '---', '--- a', '...', '%x', '@x', '`x',
  'a,b', '[a]', '{a}', '*a', '&a', '!a', '|a', '>a', "'a", '"a', "it's", 'say "x"', 'a\\b', 'a\tb', '\ta', 'a\t',
  '0', '00', '-1', '+1', '1.', '.5', '1.5', '1e3', '1E-3', '.1e3', '1_000', '0x1F', '0xg', '0o17', '0o8', '1:20', '10.0.0.1', '10.0.0.1:8080', '[fd00::1]:53',
  'true', 'True', 'TRUE', 'tRue', 'false', 'FALSE', 'yes', 'No', 'on', 'null', 'Null', 'NULL', 'nUll', '~', '~a', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', 'nan',
  'é', '✓ in sync', 'ns0/svc0:http', 'KUBE-SVC-K7ZVFMM3TUXRXRZR line 12', 'kube-proxy on node-a is behind the API: check its logs',
  '\u0001', 'a\u007f', '\u0085', '\u00a0', '\u2028', '\ud800', 'x'.repeat(1200), 'word '.repeat(40).trim(),
];

const ALPHABET = ['a', 'b', 'Z', '0', '1', '9', '.', '-', '+', ':', '#', ' ', ' ', '?', '/', '_', 'e', 'x', 'o', '"', "'", '\\', '\t', ',', '[', '{', '!', '%', '@', '~', 'é', '✓'];

function randomString(next: () => number): string {
  if (next() < 0.4) return AWKWARD_STRINGS[Math.floor(next() * AWKWARD_STRINGS.length)]!;
  const length = Math.floor(next() * 8);
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return s;
}

function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth < 4 && r < 0.2) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  if (depth < 4 && r < 0.4) {
    const o: Record<string, unknown> = {};
    const n = Math.floor(next() * 4);
    for (let i = 0; i < n; i++) o[next() < 0.7 ? `k${Math.floor(next() * 5)}` : randomString(next)] = randomValue(next, depth + 1);
    return o;
  }
  if (r < 0.65) return randomString(next);
  if (r < 0.8) return [0, -0, 1, -7, 80, 0.2, 0.3333333333, 1e21, 1e-7, 2 ** 60, NaN, Infinity, -Infinity, 123.5][Math.floor(next() * 14)];
  if (r < 0.9) return next() < 0.5;
  return next() < 0.5 ? null : undefined;
}

describe('renderYamlPieces', () => {
  it('writes every awkward string as the yaml package does, as a value and as a key', () => {
    const declined: string[] = [];
    for (const s of AWKWARD_STRINGS) {
      for (const [shape, value] of [[s], { [s]: s }, { list: [{ key: s, [s]: [s] }] }].entries()) {
        const { fast, reference } = both(value);
        if (fast === null) declined.push(`${s.slice(0, 5)} ${shape}`);
        else expect(fast, JSON.stringify(value)).toBe(reference);
      }
    }
    // Only document markers (written differently by depth) and keys too long to be implicit are left to the package.
    expect(declined).toEqual(['--- 0', '--- 1', '--- 2', '--- a 0', '--- a 1', '--- a 2', '... 0', '... 1', '... 2', '%x 1', '%x 2', 'xxxxx 1', 'xxxxx 2']);
  });

  it('lays out nesting, empty containers, undefined and numbers as the package does', () => {
    const values = [
      { a: [], b: {}, c: [[1, [2]], { x: 1, y: [] }], d: undefined, e: null, f: [undefined, null], g: { h: undefined } },
      [{ a: 1, b: { c: [1, 2] } }, [{ a: 1 }], [[[]]], [{}]],
      { n: -0, f: 0.2, e: 1e21, s: 1e-7, inf: Infinity, minus: -Infinity, nan: NaN, big: 2 ** 60, t: true, no: false },
      {},
      [],
      { services: [{ namespace: 'ns0', name: 'svc0', port: 80, findings: [], endpoints: { expected: 5, programmed: 5 } }], summary: { inSync: 1 } },
    ];
    for (const value of values) {
      const { fast, reference } = both(value);
      expect(fast, JSON.stringify(value)).toBe(reference);
    }
  });

  it('agrees with the package on 3,000 random documents, and renders most of them itself', () => {
    const next = random(20261202);
    let rendered = 0;
    for (let i = 0; i < 3000; i++) {
      const value = { root: randomValue(next, 0), list: [randomValue(next, 1), randomValue(next, 1)] };
      const { fast, reference } = both(value);
      if (fast === null) continue;
      rendered++;
      expect(fast, `document ${i}: ${JSON.stringify(value)}`).toBe(reference);
    }
    expect(rendered).toBeGreaterThan(2400);
  });

  it('leaves to the package what it does not lay out, and renderYaml gives the package text then', () => {
    class WithToJson {
      toJSON(): unknown {
        return { made: 'by toJSON' };
      }
    }
    const declined = [{ text: 'two\nlines' }, { m: new Map([['a', 1]]) }, { s: new Set([1]) }, { o: new WithToJson() }, { ['k'.repeat(1001)]: 1 }, { a: { '--- marker': 1 } }, 'scalar', 7];
    for (const [i, value] of declined.entries()) {
      expect(renderYamlPieces(value), `value ${i}`).toBeNull();
      expect(renderYaml(value)).toBe(stringify(value, YAML_OPTIONS).trimEnd());
    }
  });

  it('cuts a large document into pieces whose joined text is the package text', () => {
    const services = Array.from({ length: 3000 }, (_, i) => ({ namespace: `ns${i % 7}`, name: `svc${i}`, port: 80 + (i % 3), ready: [`10.0.${i >> 8}.${i & 255}`], note: i % 5 === 0 ? 'true' : `x ${i}` }));
    const pieces = renderYamlPieces({ services })!;
    expect(pieces.length).toBeGreaterThan(2);
    expect(pieces.join('')).toBe(stringify({ services }, YAML_OPTIONS));
  });
});

describe('renderYamlStream', () => {
  const stream = (key: string, items: unknown[], document: Record<string, unknown>): string => [...renderYamlStream(key, items, () => document)].join('');

  it('writes a listed document as the package writes it whole, each element as it comes', () => {
    const next = random(7);
    for (let i = 0; i < 300; i++) {
      const items = Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, 1));
      const document = { services: [] as unknown[], summary: randomValue(next, 1), note: next() < 0.5 ? undefined : randomString(next) };
      const whole = stringify({ ...document, services: items }, YAML_OPTIONS);
      expect(stream('services', items, document), JSON.stringify(items)).toBe(whole);
    }
  });

  it('leaves an element it does not lay out to the package, and keeps the rest its own', () => {
    const items = [{ name: 'a', message: 'one line' }, { name: 'b', message: 'two\nlines' }, { name: 'c', list: [{ deep: 'two\nlines' }] }, { name: 'd' }];
    const document = { services: [], summary: { errors: 1, text: 'three\nlines' } };
    expect(stream('services', items, document)).toBe(stringify({ ...document, services: items }, YAML_OPTIONS));
  });

  it('writes a document with no element, or nothing after the list, as the package does', () => {
    expect(stream('services', [], { services: [], summary: { errors: 0 } })).toBe('services: []\nsummary:\n  errors: 0\n');
    expect(stream('services', [{ a: 1 }], { services: [] })).toBe('services:\n  - a: 1\n');
    expect(stream('services', [{ a: 1 }], { services: [], gone: undefined })).toBe('services:\n  - a: 1\n');
  });

  it('refuses a rest() whose list is not first and empty', () => {
    expect(() => stream('services', [1], { summary: 1, services: [] })).toThrow(/must start with services/);
    expect(() => stream('services', [1], { services: [2] })).toThrow(/must start with services/);
  });
});

describe('knet snapshot save', () => {
  it("writes each kind's List as the yaml package wrote it (the demo's objects, kind by kind)", () => {
    const docs = parseAllDocuments(readFileSync(join(examplesDir, 'demo', 'cluster.yaml'), 'utf8'));
    const objects = (Array.isArray(docs) ? docs : [docs]).flatMap((d) => {
      const value = d.toJS() as { kind?: string; items?: { kind?: string }[] } | null;
      return value?.kind === 'List' ? (value.items ?? []) : value ? [value] : [];
    });
    const kinds = [...new Set(objects.map((o) => o.kind))];
    expect(kinds.length).toBeGreaterThan(4);
    for (const kind of kinds) {
      const items = objects.filter((o) => o.kind === kind);
      expect(renderList(items), String(kind)).toBe(stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }, { lineWidth: 0 }));
    }
  });
});

describe('-o yaml (built CLI) on the demo snapshot', () => {
  const demo = join(examplesDir, 'demo');
  // The --json text read back is the same data (the reports hold no -0, NaN or Infinity): the package's
  // YAML of it is what -o yaml must print.
  for (const args of [
    ['endpoints', '-A'],
    ['explain-policy', '--matrix', '-A', '--port', '8080'],
    ['rules', 'diff', 'kind-worker'],
    ['node', 'iptables', 'kind-worker'],
    ['node', 'conntrack', 'kind-worker'],
    ['trace', 'pod-a', 'svc/xecho'],
  ]) {
    it(`knet ${args.join(' ')} -o yaml is the package's YAML of its --json`, async () => {
      const json = await runKnet([...args, '--snapshot', demo, '--json']);
      const yaml = await runKnet([...args, '--snapshot', demo, '-o', 'yaml']);
      expect(yaml.code).toBe(json.code);
      expect(yaml.stderr).toBe(json.stderr);
      expect(yaml.stdout).toBe(stringify(JSON.parse(json.stdout), YAML_OPTIONS));
    });
  }
});
