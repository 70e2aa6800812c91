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

  it('documents every finding code the endpoints engine can emit', () => {
    const source = readFileSync(join(repoRoot, 'src/endpoints/diff.ts'), 'utf8');
    const codes = [...source.matchAll(/finding\(\s*'([a-z-]+)'/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(5);
    for (const code of new Set(codes)) expect(readme).toContain(`\`${code}\``);
  });
});
