// oclif's parse errors in knet's words: what is wrong with which flag or argument, what the command
// takes instead, and the nearest flag to a misspelt one. oclif words them for its own help screen
// ("Parsing --port \n\tExpected an integer …", "The following error occurred:", "Missing required flag
// file", "See more help with --help"); knet prints its own "See: knet COMMAND --help" line after these.
import { closest } from '../model/errors.js';

/** Whether the command line asks for JSON output, read from the words alone (for an error before or without parsing). */
export function asksForJson(argv: readonly string[]): boolean {
  return (
    argv.includes('--json') ||
    argv.includes('-ojson') ||
    argv.includes('-o=json') ||
    argv.includes('--output=json') ||
    argv.some((a, i) => (a === '-o' || a === '--output') && argv[i + 1] === 'json')
  );
}

/**
 * A flag the user typed whose description says it acts only with another ("With --probe: …"), where that
 * other flag is not set: it would be ignored without a word. oclif's dependsOn cannot say this of a flag
 * with a default (its default counts as given). Null when there is none.
 */
export function flagWithoutItsFlag(
  defined: Record<string, { char?: string; description?: string }>,
  values: Record<string, unknown>,
  argv: readonly string[],
): { flag: string; needs: string } | null {
  const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
  const typed = argv.slice(0, end);
  for (const [name, f] of Object.entries(defined)) {
    const needs = /^With --([a-z][-a-z]*):/.exec(f.description ?? '')?.[1];
    if (needs === undefined || (values[needs] !== undefined && values[needs] !== false)) continue;
    const isTyped = typed.some((w) => w === `--${name}` || w.startsWith(`--${name}=`) || (f.char !== undefined && (w === `-${f.char}` || (w.startsWith(`-${f.char}`) && !w.startsWith('--')))));
    if (isTyped) return { flag: name, needs };
  }
  return null;
}

/** What a command declares, as far as a message needs it. */
export interface UsageSpec {
  /** "knet rules trace". */
  command: string;
  flags: Record<string, { char?: string; description?: string; multiple?: boolean; hidden?: boolean }>;
  args: Record<string, { description?: string; required?: boolean }>;
  /** What the user typed after the command. */
  argv: readonly string[];
}

export interface UsageMessage {
  message: string;
  suggestions: string[];
}

/** "Destination port (repeatable with --matrix)." → "destination port (repeatable with --matrix)". */
function phrase(description: string | undefined): string {
  const text = (description ?? '').trim().replace(/\.$/, '');
  return text === '' ? '' : text[0]!.toLowerCase() + text.slice(1);
}

function flagHelp(spec: UsageSpec, name: string): string[] {
  const what = phrase(spec.flags[name]?.description);
  return what === '' ? [] : [`--${name}: ${what}.`];
}

/** "SRC DST" or "[SRC] [DST]", as the help's usage line writes them. */
function argsLine(spec: UsageSpec): string {
  return Object.entries(spec.args)
    .map(([name, a]) => (a.required ? name.toUpperCase() : `[${name.toUpperCase()}]`))
    .join(' ');
}

function unknownFlags(spec: UsageSpec, typed: string[]): UsageMessage {
  const names = Object.entries(spec.flags)
    .filter(([, f]) => f.hidden !== true)
    .map(([name]) => `--${name}`);
  const suggestions: string[] = [];
  for (const flag of typed) {
    const bare = flag.replace(/=.*$/, '');
    const near = bare.startsWith('--') ? closest(bare, names, 2) : [];
    if (near.length > 0) suggestions.push(`Did you mean ${near.join(' or ')}${typed.length > 1 ? ` for ${bare}` : ''}?`);
  }
  const list = typed.join(', ');
  return { message: `${list} ${typed.length === 1 ? 'is not a flag' : 'are not flags'} of ${spec.command}`, suggestions };
}

/** A flag named in a message as "--name" or "--name=value". */
function flagNamed(text: string): string | null {
  const m = /--([\w-]+)/.exec(text);
  return m ? m[1]! : null;
}

/**
 * oclif's message for a parse error, rewritten; null when the message is not one of oclif's (it is then
 * printed as it came).
 */
export function describeUsageError(raw: string, spec: UsageSpec): UsageMessage | null {
  const text = raw.replace(/^Error: /, '').replace(/\n?See more help with --help\s*$/, '');
  // A flag's value that its parser refused: "Parsing --port \n\tExpected an integer … but received: 0".
  const parsing = /^Parsing --([\w-]+)\s*\n\s*([\s\S]*)$/.exec(text);
  if (parsing) {
    const [, name, reason] = parsing as unknown as [string, string, string];
    const expected = /^Expected ([\s\S]+?) but received: ([\s\S]*)$/.exec(reason.trim());
    const message = expected ? `--${name} ${JSON.stringify(expected[2])}: expected ${expected[1]}` : `--${name}: ${reason.trim().replace(/^[A-Z](?![A-Z])/, (c) => c.toLowerCase())}`;
    return { message, suggestions: flagHelp(spec, name) };
  }
  const nonexistent = /^Nonexistent flags?: (.+)$/.exec(text);
  if (nonexistent) return unknownFlags(spec, nonexistent[1]!.split(', '));
  // "Expected --output=xml to be one of: table, wide, json" (a flag with options).
  const option = /^Expected --([\w-]+)=([\s\S]*) to be one of: (.+)$/.exec(text);
  if (option) {
    const [, name, value, options] = option as unknown as [string, string, string, string];
    return { message: `--${name} ${JSON.stringify(value)} is not one of its values: ${options}`, suggestions: flagHelp(spec, name) };
  }
  const unexpected = /^Unexpected arguments?: (.+)$/.exec(text);
  if (unexpected) {
    const takes = argsLine(spec);
    return {
      message: `unexpected argument${unexpected[1]!.includes(', ') ? 's' : ''} ${unexpected[1]!.split(', ').map((a) => JSON.stringify(a)).join(', ')}: ${spec.command} takes ${takes === '' ? 'no arguments' : takes}`,
      suggestions: ['A value with spaces needs quotes; a flag needs its -- (or - for one letter).'],
    };
  }
  const missingArgs = /^Missing \d+ required args?/.exec(text);
  if (missingArgs) {
    // oclif lists the missing ones after a colon, one per line: "dst  Destination: …".
    const listed = new Set([...(text.split('\n\n')[0] ?? '').matchAll(/^(\w+)(?: {2,}|$)/gm)].map((m) => m[1]!));
    const names = Object.entries(spec.args).filter(([name, a]) => a.required === true && (listed.size === 0 || listed.has(name)));
    // As the help's ARGUMENTS section lays them out.
    const width = Math.max(...names.map(([name]) => name.length));
    const suggestions = names.map(([name, a]) => `${name.toUpperCase().padEnd(width)}  ${a.description ?? ''}`.trimEnd());
    // A flag that takes many values swallows the words after it, arguments included.
    const greedy = Object.entries(spec.flags)
      .filter(([name, f]) => f.multiple === true && spec.argv.some((a) => a === `--${name}` || (f.char !== undefined && a === `-${f.char}`)))
      .map(([name]) => `--${name}`);
    if (greedy.length > 0) suggestions.push(`${greedy.join(' and ')} take${greedy.length === 1 ? 's' : ''} every value after ${greedy.length === 1 ? 'it' : 'them'}: put the arguments first, or end the values with --.`);
    return { message: `${spec.command} needs ${names.map(([name]) => name.toUpperCase()).join(' and ')} (usage: ${spec.command} ${argsLine(spec)})`, suggestions };
  }
  // Flag relationships: "The following error occurred:\n  Missing required flag file" and the like.
  const following = /^The following errors? occurred:\s*([\s\S]*)$/.exec(text);
  if (following) {
    // oclif dims the reasons with ANSI colours on a terminal.
    // eslint-disable-next-line no-control-regex
    const reasons = following[1]!.replace(/\u001b\[[0-9;]*m/g, '').split('\n').map((r) => r.trim()).filter((r) => r !== '');
    const messages: string[] = [];
    const suggestions: string[] = [];
    const required: string[] = [];
    for (const reason of reasons) {
      const missing = /^Missing required flag ([\w-]+)$/.exec(reason);
      if (missing) {
        required.push(`--${missing[1]}`);
        suggestions.push(...flagHelp(spec, missing[1]!));
        continue;
      }
      const depends = /^All of the following must be provided when using --([\w-]+): (.+)$/.exec(reason);
      if (depends) {
        messages.push(`--${depends[1]} applies to ${depends[2]!.split(', ').join(' and ')} only`);
        suggestions.push(...flagHelp(spec, depends[1]!));
        continue;
      }
      const exclusive = /^--([\w-]+)=\S* cannot also be provided when using --([\w-]+)$/.exec(reason);
      if (exclusive) {
        messages.push(`--${exclusive[2]} and --${exclusive[1]} cannot be used together`);
        suggestions.push(...flagHelp(spec, exclusive[2]!), ...flagHelp(spec, exclusive[1]!));
        continue;
      }
      messages.push(reason);
      const named = flagNamed(reason);
      if (named !== null) suggestions.push(...flagHelp(spec, named));
    }
    if (required.length > 0) messages.unshift(`${spec.command} needs ${required.join(' and ')}`);
    return { message: messages.join('; '), suggestions: [...new Set(suggestions)] };
  }
  if (/^Flag --[\w-]+ expects a value$/.test(text)) {
    const name = flagNamed(text)!;
    return { message: `--${name} needs a value`, suggestions: flagHelp(spec, name) };
  }
  return null;
}

/** What the CLI has, by oclif id ("rules:trace") and topic name ("rules"). */
export interface CommandSet {
  commands: readonly string[];
  topics: readonly string[];
}

/**
 * `knet foo`, `knet rules foo`, `knet cleanup extra`: oclif joined the words into an id it has no
 * command for. The longest known prefix says which: a command that takes no arguments, a topic without
 * that command, or no such command at all; the nearest names are suggested.
 */
export function describeUnknownCommand(bin: string, words: readonly string[], known: CommandSet): UsageMessage {
  const commands = new Set(known.commands);
  const topics = new Set(known.topics);
  let depth = words.length - 1;
  while (depth > 0 && !commands.has(words.slice(0, depth).join(':')) && !topics.has(words.slice(0, depth).join(':'))) depth--;
  const prefix = words.slice(0, depth);
  const spoken = [bin, ...prefix].join(' ');
  const rest = words.slice(depth);
  if (depth > 0 && commands.has(prefix.join(':'))) {
    return {
      message: `${spoken} takes no arguments, and was given ${rest.map((w) => JSON.stringify(w)).join(' ')}`,
      suggestions: [`See: ${spoken} --help`],
    };
  }
  // The names one level under the prefix: commands and topics alike.
  const under = new Set<string>();
  for (const id of [...commands, ...topics]) {
    const parts = id.split(':');
    if (parts.length > depth && parts.slice(0, depth).join(':') === prefix.join(':')) under.add(parts[depth]!);
  }
  const wanted = rest[0] ?? '';
  const near = closest(wanted, under, 3);
  const suggestions = near.length > 0 ? [`Did you mean ${near.map((n) => `${spoken} ${n}`).join(' or ')}?`] : [];
  suggestions.push(`${depth === 0 ? 'Commands' : `Commands of ${spoken}`}: ${[...under].sort().join(', ')}.`, `See: ${spoken} --help`);
  return { message: `${spoken} has no command ${JSON.stringify(wanted)}`, suggestions };
}
