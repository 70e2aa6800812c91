// Builds dist/ with esbuild (one file per command, shared code split into chunks) and then writes
// oclif.manifest.json from the built commands, so that a run imports only the command it executes.
import { build } from 'esbuild';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function listCommands(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listCommands(path)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

await rm(join(root, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: await listCommands(join(root, 'src/commands')),
  outdir: join(root, 'dist'),
  outbase: join(root, 'src'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Dependencies stay in node_modules: @oclif/core is shared with bin/run.js, and
  // @kubernetes/client-node must only ever be imported lazily on the live path.
  packages: 'external',
  logLevel: 'warning',
});

const { Plugin } = await import('@oclif/core');
const plugin = new Plugin({ root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true });
await plugin.load();
await writeFile(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n');
console.error(`built dist/ and oclif.manifest.json (${Object.keys(plugin.manifest.commands).length} commands)`);
