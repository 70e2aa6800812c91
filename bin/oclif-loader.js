// Loads the bundled oclif (dist/oclif.cjs) through a V8 code cache made at build time, so that a start
// does not compile oclif's code again. Node 20 has no module compile cache; vm.Script's cachedData is
// the supported way for CommonJS. A cache V8 rejects (another Node version) only costs the compile.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export const OCLIF_KEY = Symbol.for('knet.oclif');
const bundle = fileURLToPath(new URL('../dist/oclif.cjs', import.meta.url));
const cacheFile = `${bundle}.cache`;

/** Returns oclif's exports, and leaves them where the built commands find them (src/cli/oclif.ts). */
export function loadOclif({ writeCache = false } = {}) {
  const cachedData = !writeCache && existsSync(cacheFile) ? readFileSync(cacheFile) : undefined;
  const script = new vm.Script(Module.wrap(readFileSync(bundle, 'utf8')), {
    filename: bundle,
    cachedData,
  });
  // The build routes oclif's import() calls (command files, by absolute URL) here.
  globalThis[Symbol.for('knet.import')] = (specifier) => import(specifier);
  const mod = new Module(bundle);
  mod.filename = bundle;
  mod.paths = Module._nodeModulePaths(dirname(bundle));
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
  mod.loaded = true;
  // After running, the cache also holds the functions compiled while oclif's modules initialised.
  if (writeCache) writeFileSync(cacheFile, script.createCachedData());
  globalThis[OCLIF_KEY] = mod.exports;
  return mod.exports;
}
