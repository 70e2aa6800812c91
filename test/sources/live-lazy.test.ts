import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';

// Needs the built CLI: npm run build.
// @kubernetes/client-node costs half a second to import: no command may load it before it talks to a
// cluster. Walk each built command's static imports and make sure client-node is not among them.
const dist = join(repoRoot, 'dist');
const staticImport = /(?:^|[;}\n])\s*import\s*(?:[\w*{}\s,$]+from\s*)?["']([^"']+)["']/g;
const dynamicImport = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

function commandFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? commandFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(staticImport)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else seen.add(spec);
    }
  };
  visit(entry);
  return seen;
}

describe('client-node is only ever imported lazily', () => {
  const commands = commandFiles(join(dist, 'commands'));

  it('the build has commands to check', () => {
    expect(commands.map((f) => relative(dist, f))).toEqual(expect.arrayContaining(['commands/cleanup.js', 'commands/snapshot/save.js', 'commands/endpoints.js']));
  });

  it.each(commands.map((f) => [relative(dist, f), f]))('%s does not load it at start', (_name, file) => {
    expect([...staticClosure(file)].filter((s) => s.includes('@kubernetes/client-node'))).toEqual([]);
  });

  it('the live source does load it, on demand', () => {
    const chunks = readdirSync(dist).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(dist, f), 'utf8'));
    const dynamic = chunks.flatMap((text) => [...text.matchAll(dynamicImport)].map((m) => m[1]));
    expect(dynamic).toContain('@kubernetes/client-node');
  });
});
