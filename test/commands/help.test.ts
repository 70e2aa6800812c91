import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';
// @ts-expect-error: a plain JavaScript module of bin/, shared with the build script; it has no types.
import { isHelpEnv } from '../../bin/help-env.js';

/** Runs the built CLI into a pipe with `env` exactly (no variable inherited that would change help). */
function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(isHelpEnv as (k: string) => boolean)(k))) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, 'bin/run.js'), ...args], { env: { ...base, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, unknown> };
const help = JSON.parse(readFileSync(join(repoRoot, 'dist/help.json'), 'utf8')) as Record<string, string>;

describe('knet COMMAND --help into a pipe', () => {
  it('has help rendered at build time for the root and every command', () => {
    const ids = Object.keys(manifest.commands).map((id) => id.replaceAll(':', ' '));
    expect(ids.length).toBeGreaterThan(10);
    expect(Object.keys(help).sort()).toEqual(['', ...ids].sort());
    for (const id of ids) expect(help[id]).toMatch(/^\S.*\n\nUSAGE\n/s);
  });

  it.each([[[]], [['endpoints']], [['node', 'iptables']], [['rules', 'diff']], [['trace']]])(
    'prints what oclif prints for %j --help, though it answers without loading oclif',
    async (words) => {
      const fast = await run([...words, '--help'], {});
      const oclif = await run([...words, '--help'], { KNET_NO_HELP_CACHE: '1' });
      expect(oclif.code).toBe(0);
      expect(oclif.stdout.length).toBeGreaterThan(200);
      expect([fast.code, fast.stdout, fast.stderr]).toEqual([0, oclif.stdout, oclif.stderr]);
    },
  );

  it('leaves help to oclif when a variable changes its rendering, or for a topic', async () => {
    const narrow = await run(['endpoints', '--help'], { OCLIF_COLUMNS: '50' });
    expect(narrow.code).toBe(0);
    expect(narrow.stdout).not.toBe(help.endpoints);
    const topic = await run(['node', '--help'], {});
    expect([topic.code, topic.stdout]).toEqual([0, expect.stringContaining('  node iptables   Show a node') as string]);
  });
});

describe('help and version as users type them', () => {
  it.each([
    [['help', 'trace'], ['trace', '--help']],
    [['help', 'rules', 'diff'], ['rules', 'diff', '--help']],
    [['help'], ['--help']],
    [['help', 'node'], ['node', '--help']],
    [['trace', '-h'], ['trace', '--help']],
    [['-h'], ['--help']],
    [['version'], ['--version']],
  ])('%j prints what %j prints', async (typed, canonical) => {
    const a = await run(typed, {});
    const b = await run(canonical, {});
    expect(a.code).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(20);
    expect([a.code, a.stdout, a.stderr]).toEqual([b.code, b.stdout, b.stderr]);
  });

  it('help for a command knet does not have names the nearest, exit 2, as the command itself would', async () => {
    for (const typed of [['help', 'tracee'], ['tracee', '--help']]) {
      const r = await run(typed, {});
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('Error: knet has no command "tracee"\n  Did you mean knet trace?\n  Commands: check, cleanup, dns, endpoints, explain-policy, node, rules, snapshot, trace.\n  See: knet --help\n');
    }
    const topic = await run(['node', 'nope', '--help'], {});
    expect([topic.code, topic.stderr.split('\n')[0]]).toEqual([2, 'Error: knet node has no command "nope"']);
  });
});
