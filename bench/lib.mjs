// Shared helpers for benchmark cases: run a command as a child process and measure its wall time and
// peak resident memory. The measurement wraps the child in python3's wait4 (getrusage of children),
// so it needs nothing beyond what the machine has.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const dataDir = fileURLToPath(new URL('./.data/', import.meta.url));
export const knet = fileURLToPath(new URL('../bin/run.js', import.meta.url));
mkdirSync(dataDir, { recursive: true });

const wrapper = `
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
ms = (time.perf_counter() - t) * 1000
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"ms": ms, "maxRssKiB": ru.ru_maxrss, "code": p.returncode, "stderr": p.stderr.decode(errors="replace")[-2000:]}))
`;

/**
 * Runs `command args…` once; returns { ms, rssMiB, code }. `okCodes` are the exit codes that count as a run
 * (knet exits 1 when it finds problems, which a benchmark on planted faults expects).
 */
export function measure(command, args, { okCodes = [0], env } = {}) {
  const out = execFileSync('python3', ['-c', wrapper, command, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  const r = JSON.parse(out);
  if (!okCodes.includes(r.code)) throw new Error(`${command} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return { ms: r.ms, rssMiB: r.maxRssKiB / 1024, code: r.code };
}

/** A command in a shell, measured the same way (for baselines such as `iptables-restore --test < file`). */
export function measureShell(script, options) {
  return measure('bash', ['-c', script], options);
}

export function hasCommand(name) {
  return spawnSync('bash', ['-c', `command -v ${name}`]).status === 0;
}

/**
 * Bundles `source` (TypeScript resolved from bench/, so it may import test/support) into `outfile`,
 * runs it with `args` in a process of its own, stopped with SIGTERM when the benchmark exits, and
 * returns what it prints as its first line: `{ kubeconfig }` of the test API server it started.
 */
export async function startServerProcess(outfile, source, args, { plugins = [] } = {}) {
  mkdirSync(dataDir, { recursive: true });
  await build({
    stdin: { contents: source, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    plugins,
    logLevel: 'warning',
  });
  const child = spawn(process.execPath, [outfile, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.on('exit', () => child.kill('SIGTERM'));
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  child.stdout.resume();
  child.unref();
  return JSON.parse(line).kubeconfig;
}
