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
  entryPoints: [...(await listCommands(join(root, 'src/commands'))), join(root, 'src/run.ts')],
  outdir: join(root, 'dist'),
  outbase: join(root, 'src'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Dependencies are bundled (oclif included: start-up then reads a few files, not hundreds), except
  // @kubernetes/client-node, which must only ever be imported lazily on the live path, and the
  // packages that locate files relative to their own install directory.
  // typescript: oclif requires it only to run commands from .ts sources, which a built CLI never does.
  external: ['@kubernetes/client-node', 'esbuild', 'typescript'],
  // oclif and its dependencies are CommonJS and call require() on Node built-ins.
  banner: { js: "import { createRequire as __knetCreateRequire } from 'node:module'; const require = __knetCreateRequire(import.meta.url);" },
  // Less source to compile at every start; the linked source map keeps stack traces readable.
  minify: true,
  keepNames: true,
  logLevel: 'warning',
});

const { Plugin } = await import('@oclif/core');
const plugin = new Plugin({ root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true });
await plugin.load();
await writeFile(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n');
console.error(`built dist/ and oclif.manifest.json (${Object.keys(plugin.manifest.commands).length} commands)`);
