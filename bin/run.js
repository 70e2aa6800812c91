#!/usr/bin/env node
// The built CLI (npm run build): oclif from its code cache, then knet's commands from dist/.
import { readFileSync } from 'node:fs';
import { arch, platform, release } from 'node:os';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // What oclif prints for --version (its config's userAgent), without loading oclif: a version check in a
  // script or a CI step costs little more than starting node.
  const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const os = platform() === 'linux' && release().toLowerCase().includes('microsoft') ? 'wsl' : platform();
  process.stdout.write(`${name}/${version} ${os}-${arch() === 'ia32' ? 'x86' : arch()} node-${process.version}\n`);
} else if (!(argv.at(-1) === '--help' && (await prerenderedHelp(argv.slice(0, -1))))) {
  const { loadOclif } = await import('./oclif-loader.js');
  await loadOclif().execute({ dir: import.meta.url });
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
  let help;
  try {
    help = JSON.parse(readFileSync(new URL('../dist/help.json', import.meta.url), 'utf8'));
  } catch {
    return false;
  }
  const text = Object.hasOwn(help, words.join(' ')) ? help[words.join(' ')] : undefined;
  if (typeof text !== 'string') return false;
  process.stdout.write(text);
  return true;
}
