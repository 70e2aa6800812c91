// oclif's parse errors in knet's words. The messages come from oclif's real parser, so a change in its
// wording shows here (the rewrite then passes the message through as it came, and these fail).
import { Args, Flags, Parser } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { asksForJson, describeUnknownCommand, describeUsageError, flagWithoutItsFlag, type UsageSpec } from '../../src/cli/usage.js';

const flags = {
  port: Flags.integer({ char: 'p', min: 1, max: 65535, description: 'Destination port.' }),
  output: Flags.string({ char: 'o', options: ['table', 'json'], description: 'Output format.' }),
  snapshot: Flags.string({ description: 'Read a snapshot.' }),
  nodes: Flags.string({ multiple: true, exclusive: ['all-nodes'], description: 'These nodes.' }),
  'all-nodes': Flags.boolean({ description: 'Every node.' }),
  server: Flags.string({ multiple: true, description: 'A DNS server.' }),
  file: Flags.string({ description: 'The dump.' }),
};
const args = { src: Args.string({ required: true, description: 'Source: a pod or an IP' }), dst: Args.string({ required: true }) };

/** What oclif's parser says of `argv`, rewritten. */
async function rewrite(argv: string[], options: { requireFile?: boolean } = {}): Promise<{ message: string; suggestions: string[] } | null> {
  const f = options.requireFile ? { ...flags, file: Flags.string({ required: true, description: 'The dump.' }) } : flags;
  try {
    await Parser.parse(argv, { strict: true, flags: f, args });
  } catch (err) {
    const spec: UsageSpec = { command: 'knet trace', flags: f, args, argv };
    return describeUsageError((err as Error).message, spec);
  }
  throw new Error(`oclif accepted ${argv.join(' ')}`);
}

describe('describeUsageError', () => {
  it('a value out of range names the flag, the value and the range, and what the flag is', async () => {
    expect(await rewrite(['a', 'b', '-p', '0'])).toEqual({ message: '--port "0": expected an integer greater than or equal to 1', suggestions: ['--port: destination port.'] });
    expect((await rewrite(['a', 'b', '-p', '70000']))?.message).toBe('--port "70000": expected an integer less than or equal to 65535');
    expect((await rewrite(['a', 'b', '-p', 'http']))?.message).toBe('--port "http": expected an integer');
  });

  it('an unknown flag suggests the nearest one, and none when nothing is near', async () => {
    expect(await rewrite(['a', 'b', '--snapshto', 'x'])).toEqual({ message: '--snapshto is not a flag of knet trace', suggestions: ['Did you mean --snapshot?'] });
    expect(await rewrite(['a', 'b', '--zzzzzzzz'])).toEqual({ message: '--zzzzzzzz is not a flag of knet trace', suggestions: [] });
  });

  it('a value not among the options lists them', async () => {
    expect(await rewrite(['a', 'b', '-o', 'xml'])).toEqual({ message: '--output "xml" is not one of its values: table, json', suggestions: ['--output: output format.'] });
  });

  it('an extra argument says what the command takes', async () => {
    expect((await rewrite(['a', 'b', 'c']))?.message).toBe('unexpected argument "c": knet trace takes SRC DST');
  });

  it('a missing argument is named with its description; a many-valued flag that swallowed it is said', async () => {
    expect(await rewrite(['a'])).toEqual({ message: 'knet trace needs DST (usage: knet trace SRC DST)', suggestions: ['DST'] });
    const greedy = await rewrite(['--server', '1.1.1.1', 'a', 'b']);
    expect(greedy?.message).toBe('knet trace needs SRC and DST (usage: knet trace SRC DST)');
    expect(greedy?.suggestions).toEqual(['SRC  Source: a pod or an IP', 'DST', '--server takes every value after it: put the arguments first, or end the values with --.']);
    // No word of many-valued flags when none was typed.
    expect((await rewrite([]))?.suggestions).toEqual(['SRC  Source: a pod or an IP', 'DST']);
  });

  it('flags that exclude each other, and a required flag, in one sentence each', async () => {
    expect(await rewrite(['a', 'b', '--nodes', 'n1', '--all-nodes'])).toEqual({
      message: '--nodes and --all-nodes cannot be used together',
      suggestions: ['--nodes: these nodes.', '--all-nodes: every node.'],
    });
    expect(await rewrite(['a', 'b'], { requireFile: true })).toEqual({ message: 'knet trace needs --file', suggestions: ['--file: the dump.'] });
  });

  it("a flag that depends on another (oclif's dependsOn) says which", async () => {
    const deadline = { deadline: Flags.string({ dependsOn: ['daemonset'], description: 'With --daemonset: how long it may live.' }), daemonset: Flags.boolean({ description: 'One DaemonSet.' }) };
    let message = '';
    try {
      await Parser.parse(['--deadline', '5m'], { strict: true, flags: deadline });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(describeUsageError(message, { command: 'knet node iptables', flags: deadline, args: {}, argv: ['--deadline', '5m'] })).toEqual({
      message: '--deadline applies to --daemonset only',
      suggestions: ['--deadline: with --daemonset: how long it may live.'],
    });
  });

  it('a flag without its value', async () => {
    expect(await rewrite(['a', 'b', '-p'])).toEqual({ message: '--port needs a value', suggestions: ['--port: destination port.'] });
  });

  it('leaves a message that is not one of these alone', () => {
    expect(describeUsageError('something else', { command: 'knet trace', flags, args, argv: [] })).toBeNull();
  });
});

describe('describeUnknownCommand', () => {
  const known = { commands: ['trace', 'dns', 'cleanup', 'rules:trace', 'rules:diff', 'node:iptables', 'node:ipvs'], topics: ['rules', 'node'] };

  it('a misspelt command suggests the nearest, at the top and in a topic', () => {
    expect(describeUnknownCommand('knet', ['tracee'], known)).toEqual({
      message: 'knet has no command "tracee"',
      suggestions: ['Did you mean knet trace?', 'Commands: cleanup, dns, node, rules, trace.', 'See: knet --help'],
    });
    expect(describeUnknownCommand('knet', ['rules', 'dif', 'x'], known)).toEqual({
      message: 'knet rules has no command "dif"',
      suggestions: ['Did you mean knet rules diff?', 'Commands of knet rules: diff, trace.', 'See: knet rules --help'],
    });
  });

  it('a word after a command that takes no arguments is named as such', () => {
    expect(describeUnknownCommand('knet', ['cleanup', 'now'], known)).toEqual({ message: 'knet cleanup takes no arguments, and was given "now"', suggestions: ['See: knet cleanup --help'] });
  });

  it('quotes what was typed, control characters escaped', () => {
    expect(describeUnknownCommand('knet', ['a\u001bb'], known).message).toBe('knet has no command "a\\u001bb"');
  });
});

describe('flagWithoutItsFlag', () => {
  const defined = {
    probe: { description: 'Also connect for real.' },
    'probe-timeout': { description: 'With --probe: how long one connect may take.' },
    concurrency: { char: 'c', description: 'With --all-nodes: how many nodes are read at once.' },
    'all-nodes': { description: 'Every node.' },
  };

  it('names a typed flag whose flag is not set, by its long name, its -c or its --name=value', () => {
    expect(flagWithoutItsFlag(defined, { 'probe-timeout': '5s', probe: false }, ['pod-a', 'svc/x', '--probe-timeout', '5s'])).toEqual({ flag: 'probe-timeout', needs: 'probe' });
    expect(flagWithoutItsFlag(defined, { concurrency: 2 }, ['n1', '-c', '2'])).toEqual({ flag: 'concurrency', needs: 'all-nodes' });
    expect(flagWithoutItsFlag(defined, { concurrency: 2 }, ['n1', '--concurrency=2'])).toEqual({ flag: 'concurrency', needs: 'all-nodes' });
  });

  it('says nothing of a default the user did not type, of a flag whose flag is set, or of words after --', () => {
    expect(flagWithoutItsFlag(defined, { 'probe-timeout': '3s', probe: false }, ['pod-a', 'svc/x'])).toBeNull();
    expect(flagWithoutItsFlag(defined, { 'probe-timeout': '5s', probe: true }, ['--probe', '--probe-timeout', '5s'])).toBeNull();
    expect(flagWithoutItsFlag(defined, { concurrency: 4 }, ['--', '--concurrency'])).toBeNull();
  });
});

describe('asksForJson', () => {
  it.each([
    [['--json'], true],
    [['-o', 'json'], true],
    [['-ojson'], true],
    [['--output=json'], true],
    [['-o', 'yaml'], false],
    [['json'], false],
  ])('%j → %s', (argv, wanted) => {
    expect(asksForJson(argv)).toBe(wanted);
  });
});
