#!/usr/bin/env node
// The built CLI (npm run build): oclif from its code cache, then knet's commands from dist/.
import { readFileSync } from 'node:fs';
import { arch, platform, release } from 'node:os';

/** dist/help.json as builtHelp() read it (declared before the top-level code below calls it). */
let helpRead;

const argv = asTyped(process.argv.slice(2));
if (argv.length === 1 && argv[0] === '--version') {
  // What oclif prints for --version (its config's userAgent), without loading oclif: a version check in a
  // script or a CI step costs little more than starting node.
  const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const os = platform() === 'linux' && release().toLowerCase().includes('microsoft') ? 'wsl' : platform();
  process.stdout.write(`${name}/${version} ${os}-${arch() === 'ia32' ? 'x86' : arch()} node-${process.version}\n`);
} else if (argv.at(-1) === '--help' && (await isUnknownCommand(argv.slice(0, -1)))) {
  // Reported, as for the same words without --help (oclif's help would say only "Command … not found").
} else if (!(argv.at(-1) === '--help' && (await prerenderedHelp(argv.slice(0, -1))))) {
  const { loadOclif } = await import('./oclif-loader.js');
  await loadOclif().execute({ dir: import.meta.url, args: argv });
}

/**
 * `knet nosuch --help`, `knet help nosuch`: words (no flags) of which no prefix is a command, reported by the
 * command_not_found hook with the nearest commands. False when the words name a command (with arguments
 * or not), or when dist/help.json cannot tell.
 */
async function isUnknownCommand(words) {
  if (words.length === 0 || words.some((w) => w.startsWith('-'))) return false;
  const help = builtHelp();
  if (help === null) return false;
  // Commands, and topics: the words that begin a command (`rules` of `rules diff`).
  const commandIDs = Object.keys(help).filter((id) => id !== '').map((id) => id.replaceAll(' ', ':'));
  const known = new Set(commandIDs.flatMap((id) => id.split(':').map((_, i, parts) => parts.slice(0, i + 1).join(':'))));
  if (known.has(words.join(':'))) return false;
  // A command with arguments (`trace pod-a --help`) is oclif's to answer.
  for (let n = words.length - 1; n > 0; n--) if (commandIDs.includes(words.slice(0, n).join(':'))) return false;
  const { oclif } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const { default: hook } = await import('../dist/hooks/command-not-found.js');
  await hook({ id: words.join(':'), argv: [], config: { bin: oclif.bin, commandIDs, topics: Object.keys(oclif.topics ?? {}).map((name) => ({ name })) } });
  return true;
}

/**
 * `knet help [COMMAND…]`, `knet version` and `-h`, as kubectl and most command-line tools take them, in
 * the words oclif knows: `COMMAND… --help`, `--version` and `--help` (never after `--`).
 */
function asTyped(words) {
  if (words[0] === 'help') return [...words.slice(1), '--help'];
  if (words.length === 1 && words[0] === 'version') return ['--version'];
  const end = words.includes('--') ? words.indexOf('--') : words.length;
  const out = words.map((w, i) => (w === '-h' && i < end ? '--help' : w));
  // The help flag last, where the pre-rendered help looks for it.
  const help = out.indexOf('--help');
  return help >= 0 && help < end && help !== out.length - 1 && end === out.length ? [...out.slice(0, help), ...out.slice(help + 1), '--help'] : out;
}

/**
 * `knet COMMAND --help` into a pipe or file: the text oclif rendered for it at build time
 * (dist/help.json, 80 columns, no colour), which is what oclif prints there. On a terminal, or when an
 * environment variable changes oclif's rendering, or for anything not pre-rendered, oclif answers.
 */
async function prerenderedHelp(words) {
  if (process.stdout.isTTY || words.some((w) => w.startsWith('-'))) return false;
  const { isHelpEnv } = await import('./help-env.js');
  if (Object.keys(process.env).some(isHelpEnv)) return false;
  const help = builtHelp();
  if (help === null) return false;
  const text = Object.hasOwn(help, words.join(' ')) ? help[words.join(' ')] : undefined;
  if (typeof text !== 'string') return false;
  process.stdout.write(text);
  return true;
}

/** dist/help.json (every command's help, by its words), read once: null when the build has none. */
function builtHelp() {
  if (helpRead === undefined) {
    try {
      helpRead = JSON.parse(readFileSync(new URL('../dist/help.json', import.meta.url), 'utf8'));
    } catch {
      helpRead = null;
    }
  }
  return helpRead;
}
