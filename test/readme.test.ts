import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/cli.js';

describe('README', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

  it('opens with the two commands a newcomer runs: install-and-run on the example, and the tests', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1]?.trim().split('\n');
    expect(firstBlock).toEqual(['npm install && ./bin/run.js endpoints -A --snapshot examples/demo', 'npm test']);
    expect(readme.indexOf('```sh')).toBeLessThan(readme.indexOf('\n## '));
  });

  it('has a command reference generated from the built commands', () => {
    expect(() => execFileSync(process.execPath, [join(repoRoot, 'scripts/readme-commands.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('documents every finding code the engines can emit', () => {
    // Findings are built in a few ways: `code: 'x'` (or a ternary of two codes), finding('x', …),
    // problem/lineProblem('x', …), and the nft parser's report(…, 'x').
    const patterns = [
      /code:\s*'([a-z0-9]+(?:-[a-z0-9]+)+)'/g,
      /code:\s*[^,\n]*?\?\s*'([a-z0-9]+(?:-[a-z0-9]+)+)'\s*:\s*'([a-z0-9]+(?:-[a-z0-9]+)+)'/g,
      /\b(?:finding|problem|lineProblem)\(\s*(?:[A-Za-z.]+,\s*)?'([a-z0-9]+(?:-[a-z0-9]+)+)'/g,
      /\breport\([^;]*?,\s*'([a-z0-9]+(?:-[a-z0-9]+)+)'\)/g,
    ];
    const files = execFileSync('git', ['ls-files', 'src/endpoints', 'src/policy', 'src/netfilter', 'src/dns', 'src/trace'], { cwd: repoRoot, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.ts'));
    const codes = new Set<string>();
    for (const file of files) {
      const source = readFileSync(join(repoRoot, file), 'utf8');
      for (const re of patterns) for (const m of source.matchAll(re)) for (const c of m.slice(1)) if (c) codes.add(c);
    }
    expect(codes.size).toBeGreaterThan(30);
    const undocumented = [...codes].filter((c) => !readme.includes(`\`${c}\``)).sort();
    expect(undocumented).toEqual([]);
  });

});
