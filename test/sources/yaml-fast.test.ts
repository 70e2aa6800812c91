// The fast YAML reader against the yaml package: wherever it reads a text (not null), its values must
// be the package's, and the package must find no error in that text. Texts come from the package's own
// writer in eight styles (kubectl's sequences at their key's indentation, folded lines, quotes, literal
// blocks, wider indentation), from random edits of those, from kubectl-style documents written by hand,
// and from the demo snapshot; the reader must also read most of them, or it would save nothing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify, type ToStringOptions } from 'yaml';
import { KnetError } from '../../src/model/errors.js';
import { openCluster } from '../../src/sources/cluster.js';
import { parseYamlFast } from '../../src/sources/yaml-fast.js';
import { examplesDir } from '../support/cli.js';
import { random } from '../support/random.js';

/** The package's reading: the documents' values, or 'error' when a document has an error. */
function reference(text: string): unknown {
  const parsed = parseAllDocuments(text, { uniqueKeys: false });
  const docs = Array.isArray(parsed) ? parsed : [parsed];
  return docs.some((d) => d.errors.length > 0) ? 'error' : docs.map((d) => d.toJS() as unknown);
}

const STRINGS = [
  '', ' ', 'a b', 'a: b', 'a:b', 'a #b', '#x', '- x', '-x', 'true', 'null', '~', '1', '-0', '0x1F', '0o7', '1e3', '.5', '.inf', '.NaN', '12:30',
  'http://x:80/y', 'é✓', 'x\ny', 'line1\nline2\n', 'a\n\nb', ' lead', 'trail ', 'tab\there', '"q"', "it's", 'back\\slash', 'x'.repeat(90),
  'word '.repeat(30), '{a}', '[b]', '|x', '>y', '---', '...', 'a\u0085b', '\u0007bell', 'multi\n  indented\n    more', 'ends\n\n', '\n',
];
const ALPHABET = 'ab -:#"\'\n\\|>{}[],&*!%@`?.0123eE+x\té';
const STYLES: ToStringOptions[] = [
  { lineWidth: 0 },
  { lineWidth: 20, minContentWidth: 0 },
  { indentSeq: false },
  { indentSeq: false, lineWidth: 30, minContentWidth: 0 },
  { defaultStringType: 'QUOTE_DOUBLE' },
  { defaultStringType: 'QUOTE_SINGLE', lineWidth: 15, minContentWidth: 0 },
  { blockQuote: 'literal' },
  { indent: 4 },
];
const EDITS = [' ', '  ', '\n', ':', '-', '- ', '#', ' #', '"', "'", '|', '|-', '{}', '[]', '\t', 'a', '---\n', '\n  ', ': '];

function generator(seed: number): { value: () => unknown; text: (source: string) => string } {
  const next = random(seed);
  const string = (): string => {
    if (next() < 0.6) return STRINGS[Math.floor(next() * STRINGS.length)]!;
    let s = '';
    for (let i = Math.floor(next() * 10); i > 0; i--) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
    return s;
  };
  const value = (depth: number): unknown => {
    const r = next();
    if (depth < 4 && r < 0.25) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
    if (depth < 4 && r < 0.5) {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 4); i > 0; i--) o[next() < 0.7 ? `k${Math.floor(next() * 6)}` : string()] = value(depth + 1);
      return o;
    }
    if (r < 0.75) return string();
    if (r < 0.88) return [0, 1, -7, 0.5, 1e21, 80, 3.25][Math.floor(next() * 7)];
    return r < 0.94 ? next() < 0.5 : null;
  };
  /** One to three random insertions or deletions. */
  const text = (source: string): string => {
    let u = source;
    for (let k = 1 + Math.floor(next() * 3); k > 0; k--) {
      const at = Math.floor(next() * (u.length + 1));
      u = next() < 0.5 ? u.slice(0, at) + EDITS[Math.floor(next() * EDITS.length)]! + u.slice(at) : u.slice(0, at) + u.slice(at + 1 + Math.floor(next() * 3));
    }
    return u;
  };
  return { value: () => ({ root: value(0), items: [value(1), value(1)] }), text };
}

describe('parseYamlFast', () => {
  it('reads what the package writes, in eight styles, as the package reads it, and most of it', () => {
    const g = generator(20261202);
    let read = 0;
    for (let i = 0; i < 4000; i++) {
      let text = stringify(g.value(), STYLES[i % STYLES.length]);
      if (i % 10 === 0) text += `---\n${stringify(g.value(), STYLES[i % STYLES.length])}`;
      if (i % 10 === 5) text = `# comment\n${text.replace('\n', '\n# inner\n')}`;
      // A document indented as a whole, as an item of a List is when read on its own.
      if (i % 10 === 7) text = text.replace(/^(?=.)/gm, '  ');
      const fast = parseYamlFast(text);
      if (fast === null) continue;
      read++;
      expect(fast, text).toEqual(reference(text));
    }
    expect(read).toBeGreaterThan(3200);
  });

  it('never reads an edited text differently from the package, nor one the package finds wrong', () => {
    const g = generator(7);
    let read = 0;
    for (let i = 0; i < 12000; i++) {
      const written = stringify(g.value(), STYLES[i % STYLES.length]);
      const text = g.text(i % 5 === 0 ? written.replace(/^(?=.)/gm, '  ') : written);
      const fast = parseYamlFast(text);
      if (fast === null) continue;
      read++;
      expect(fast, JSON.stringify(text)).toEqual(reference(text));
    }
    expect(read).toBeGreaterThan(2500);
  });

  it('reads kubectl-style documents: sequences at their key, compact items, literal blocks, folded and quoted lines, markers', () => {
    const texts = [
      'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    annotations:\n      kubectl.kubernetes.io/last-applied-configuration: |\n        {"apiVersion":"v1","kind":"Pod"}\n    labels:\n      app: web\n    name: web-1\n  spec:\n    containers:\n    - image: nginx:1.25\n      name: web\n      ports:\n      - containerPort: 80\n        protocol: TCP\n    nodeSelector: {}\n  status:\n    conditions: []\nmetadata:\n  resourceVersion: ""\n',
      'a: this is a long plain value\n  folded over two lines\nb: "a double-quoted\n  value \\u00e9\\t and \\\n  an escaped break"\nc: \'single\n\n  with a blank line\'\nd: |-\n  keep\n    indented\n\n  text\ne: ~\nf:\n',
      '---\nkind: Service\n---\n# only a comment\n---\nkind: Pod\n...\n'.replace('...\n', ''),
      '- - nested\n  - seq\n-\n  key: on the next line\n- key:\n  - same indent\n  other: 1\n',
      'key:   # a comment after the colon\n  value: 1 # and after a value\nlist: []\nmap: {}\nport: 8080\nratio: 0.5\nhex: 0x1F\nyes: yes\non: "on"\n',
    ];
    for (const text of texts) {
      const fast = parseYamlFast(text);
      expect(fast, text).not.toBeNull();
      expect(fast, text).toEqual(reference(text));
    }
  });

  it('leaves to the package what it does not read: anchors, tags, flow collections, folded blocks, tabs, CRLF, directives', () => {
    for (const text of ['a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: {b: 1}\n', 'a: [1, 2]\n', 'a: >\n  folded\n', 'a:\n\tb: 1\n', 'a: 1\r\nb: 2\r\n', '%YAML 1.2\n---\na: 1\n', '? complex\n: key\n', 'a: |+\n  keep\n\n', '__proto__: {}\n', '1: one\n', 'true: x\n', 'a: 1\n...\n']) {
      expect(parseYamlFast(text), JSON.stringify(text)).toBeNull();
    }
  });

  it('reads the demo snapshot as the package does', () => {
    for (const name of ['cluster.yaml', 'shop.yaml', 'policies.yaml']) {
      const text = readFileSync(join(examplesDir, 'demo', name), 'utf8');
      const fast = parseYamlFast(text);
      expect(fast, name).not.toBeNull();
      expect(fast).toEqual(reference(text));
    }
  });
});

describe('a YAML snapshot read by the fast reader', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('still names the line of a bad field, found by the package when the message is made', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'knet-yaml-fast-'));
    dirs.push(dir);
    const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: web\n    namespace: shop\n  spec:\n    selector: app=web\n';
    expect(parseYamlFast(text)).not.toBeNull();
    await writeFile(join(dir, 'snap.yaml'), text);
    const err = await openCluster({ snapshot: dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof KnetError)) throw new Error(`expected a KnetError, got ${String(err)}`);
    expect(err.exit).toBe(2);
    const all = [err.message, ...err.suggestions].join('\n');
    expect(all).toContain('snap.yaml:10: Service shop/web: spec.selector must be a map of strings to strings');
  });
});
