// Builds dist/ with esbuild (one file per command, shared code split into chunks) and then writes
// oclif.manifest.json from the built commands, so that a run imports only the command it executes.
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { isHelpEnv } from '../bin/help-env.js';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
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

const oclifInstance = {
  name: 'oclif-instance',
  setup(b) {
    b.onResolve({ filter: /^@oclif\/core$/ }, (args) =>
      args.importer.endsWith(join('src', 'cli', 'oclif.ts')) ? { path: '@oclif/core', external: true } : { path: join(root, 'src/cli/oclif.ts') },
    );
  },
};

await rm(join(root, 'dist'), { recursive: true, force: true });
// oclif and its dependencies as one CommonJS file: fewer files to read at start, and cacheable code.
await build({
  stdin: { contents: "module.exports = require('@oclif/core');", resolveDir: root, loader: 'js' },
  outfile: join(root, 'dist/oclif.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  keepNames: true,
  // typescript: oclif requires it only to run commands from .ts sources, which a built CLI never does.
  external: ['typescript'],
  logLevel: 'warning',
});
// oclif loads command files with import(). Code run from a V8 code cache loses vm's hook for import(),
// so each call goes through a function bin/oclif-loader.js provides instead (plain import() in an ES module).
{
  const path = join(root, 'dist/oclif.cjs');
  const source = await readFile(path, 'utf8');
  let count = 0;
  const rewritten = source.replace(/\bimport\((?!\))/g, () => (count++, "globalThis[Symbol.for('knet.import')]("));
  if (count === 0) throw new Error('dist/oclif.cjs has no import() left to route: has oclif changed how it loads commands?');
  await writeFile(path, rewritten);
}
await build({
  // The commands, and the hooks package.json names (oclif.hooks).
  entryPoints: [...(await listCommands(join(root, 'src/commands'))), ...(await listCommands(join(root, 'src/hooks')))],
  outdir: join(root, 'dist'),
  outbase: join(root, 'src'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Dependencies are bundled, except oclif (one CommonJS bundle of its own, above, loaded by bin/run.js
  // from a code cache: every import of it resolves to src/cli/oclif.ts, which hands out that instance),
  // @kubernetes/client-node, which must only ever be imported lazily on the live path, and the
  // packages that locate files relative to their own install directory.
  // typescript: oclif requires it only to run commands from .ts sources, which a built CLI never does.
  external: ['@kubernetes/client-node', 'esbuild', 'typescript', 'ws'],
  // oclif and its dependencies are CommonJS and call require() on Node built-ins.
  plugins: [oclifInstance],
  banner: { js: "import { createRequire as __knetCreateRequire } from 'node:module'; const require = __knetCreateRequire(import.meta.url);" },
  // Less source to compile at every start; the linked source map keeps stack traces readable.
  // KNET_BUILD_READABLE=1 keeps names and layout, for reading a CPU profile (`node --cpu-prof`).
  // No keepNames: it wraps every function and class made at run time in a defineProperty call
  // (a closure created per object in a hot loop paid a second of 6 on the 10,000-Service snapshot),
  // and no code here reads a function's or class's `name` (errors set theirs explicitly).
  minify: process.env.KNET_BUILD_READABLE !== '1',
  logLevel: 'warning',
});

// The code cache for bin/run.js, made by the Node that builds (V8 rejects it elsewhere, harmlessly).
const { loadOclif } = await import('../bin/oclif-loader.js');
loadOclif({ writeCache: true });
const { Plugin } = await import('@oclif/core');
const plugin = new Plugin({ root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true });
await plugin.load();
await writeFile(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n');

// Help as oclif renders it into a pipe (80 columns, no colour), for every command and the root, so that
// bin/run.js can answer `knet COMMAND --help` in a script or a pipe without loading oclif. Rendered by
// the built CLI itself, in child processes whose stdout is a pipe, never written by hand.
{
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !isHelpEnv(k)));
  const ids = ['', ...Object.keys(plugin.manifest.commands).sort()];
  const help = {};
  const render = (id) =>
    new Promise((resolve, reject) => {
      const args = [join(root, 'bin/run.js'), ...(id ? id.split(':') : []), '--help'];
      execFile(process.execPath, args, { env: { ...env, KNET_NO_HELP_CACHE: '1' }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
        if (err) reject(new Error(`knet ${id.replaceAll(':', ' ')} --help failed while rendering help: ${err.message}`));
        else resolve((help[id.replaceAll(':', ' ')] = stdout));
      });
    });
  for (let i = 0; i < ids.length; i += 4) await Promise.all(ids.slice(i, i + 4).map(render));
  await writeFile(join(root, 'dist/help.json'), JSON.stringify(help));
}
console.error(`built dist/ and oclif.manifest.json (${Object.keys(plugin.manifest.commands).length} commands)`);
