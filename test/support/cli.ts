import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const examplesDir = fileURLToPath(new URL('../../examples', import.meta.url));
export const fixturesDir = fileURLToPath(new URL('../fixtures', import.meta.url));
const runJs = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs the built CLI (`bin/run.js`, which needs `npm run build` first) as a user would:
 * a separate process, no TTY, NO_COLOR unset unless given.
 */
export function runKnet(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [runJs, ...args],
      { cwd: options.cwd ?? repoRoot, env: { ...process.env, DEBUG: '', ...options.env }, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ stdout, stderr, code });
      },
    );
  });
}

/** Runs the CLI with --json and parses stdout, which must be exactly one JSON document. */
export async function runKnetJson<T = unknown>(args: string[]): Promise<CliResult & { json: T }> {
  const result = await runKnet([...args, '--json']);
  let json: T;
  try {
    json = JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
  return { ...result, json };
}
