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
} else {
  const { loadOclif } = await import('./oclif-loader.js');
  await loadOclif().execute({ dir: import.meta.url });
}
