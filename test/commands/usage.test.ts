// Usage errors through the built CLI: oclif's parse errors and unknown commands, in knet's words, exit 2,
// a JSON document with --json, and nothing on stdout otherwise.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { examplesDir, runKnet } from '../support/cli.js';

describe('usage errors', () => {
  it.each([
    { what: 'a misspelt command', args: ['tracee', 'pod-a', 'svc/xecho'], stderr: 'Error: knet has no command "tracee"\n  Did you mean knet trace?\n', code: 'unknown-command' },
    { what: 'a misspelt command of a topic', args: ['node', 'ipt', 'kind-worker'], stderr: 'Error: knet node has no command "ipt"\n  Did you mean knet node iptables or knet node ipset or knet node ipvs?\n', code: 'unknown-command' },
    { what: 'an argument to a command that takes none', args: ['cleanup', 'now'], stderr: 'Error: knet cleanup takes no arguments, and was given "now"\n', code: 'unknown-command' },
    { what: 'a port out of range', args: ['explain-policy', 'a', 'b', '-p', '99999'], stderr: 'Error: --port "99999": expected an integer less than or equal to 65535\n', code: 'bad-flags' },
    { what: 'flags that exclude each other', args: ['snapshot', 'save', '/nonexistent/knet-dir', '--nodes', 'a', '--all-nodes'], stderr: 'Error: --nodes and --all-nodes cannot be used together\n', code: 'bad-flags' },
    { what: 'a missing required flag', args: ['rules', 'trace', '--src', '10.0.0.1'], stderr: 'Error: knet rules trace needs --dst and --file\n', code: 'bad-flags' },
    { what: 'a missing argument swallowed by --server', args: ['trace', '--server', '10.96.0.10', 'pod-a', 'svc/xecho'], stderr: 'Error: knet trace needs SRC and DST (usage: knet trace SRC DST)\n', code: 'bad-flags' },
  ])('$what: exit 2, in words, with --json a document', async ({ args, stderr, code }) => {
    const plain = await runKnet(args);
    expect(plain.code).toBe(2);
    expect(plain.stderr.startsWith(stderr)).toBe(true);
    expect(plain.stderr).not.toMatch(/See more help|Nonexistent|The following error|›/);
    expect(plain.stdout).toBe('');
    const json = await runKnet([...args, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code, message: stderr.slice('Error: '.length, stderr.indexOf('\n')), exitCode: 2 } });
  });

  it('a flag that takes many values is mentioned only when typed', async () => {
    const r = await runKnet(['trace', 'pod-a']);
    expect(r.stderr).toMatch(/^Error: knet trace needs DST \(usage: knet trace SRC DST\)\n {2}DST {2}Destination: /);
    expect(r.stderr).not.toMatch(/takes every value/);
  });

  it('a flag that acts only with another, given without it: a note on stderr, and the command runs as before', async () => {
    const demo = join(examplesDir, 'demo');
    const plain = await runKnet(['node', 'iptables', 'kind-worker', '--snapshot', demo, '--json']);
    const noted = await runKnet(['node', 'iptables', 'kind-worker', '--concurrency', '2', '--snapshot', demo, '--json']);
    expect(noted.stderr).toBe('Note: --concurrency applies to --all-nodes only, and is ignored without it.\n');
    expect([noted.code, noted.stdout]).toEqual([plain.code, plain.stdout]);
    expect(plain.stderr).toBe('');
  });
});
