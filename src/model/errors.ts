import { editDistance } from './text.js';

export { editDistance };

/**
 * The exit-code contract (docs/cli.md):
 * 0 nothing wrong, 1 a problem found, 2 bad input, 3 environment. 4 is knet's own failure (a bug).
 */
export type ExitCode = 0 | 1 | 2 | 3 | 4;

export const EXIT = { ok: 0, problem: 1, input: 2, environment: 3, internal: 4 } as const;

export interface KnetErrorOptions {
  /** A stable kebab-case code, e.g. `snapshot-not-found`. */
  code: string;
  exit: 2 | 3;
  /** What the user can do next; each is printed on a line of its own. */
  suggestions?: string[];
  cause?: unknown;
}

/** An error knet expected and can explain: printed without a stack trace, with what to do next. */
export class KnetError extends Error {
  readonly code: string;
  readonly exit: 2 | 3;
  readonly suggestions: string[];

  constructor(message: string, options: KnetErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KnetError';
    this.code = options.code;
    this.exit = options.exit;
    this.suggestions = options.suggestions ?? [];
  }
}

export function inputError(message: string, code: string, suggestions: string[] = []): KnetError {
  return new KnetError(message, { code, exit: 2, suggestions });
}

export function environmentError(message: string, code: string, suggestions: string[] = [], cause?: unknown): KnetError {
  return new KnetError(message, { code, exit: 3, suggestions, cause });
}

/** The closest candidates to `wanted`, close enough to be worth suggesting, best first. */
export function closest(wanted: string, candidates: Iterable<string>, max = 3): string[] {
  const scored: { name: string; d: number }[] = [];
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  for (const name of new Set(candidates)) {
    const d = name.includes(wanted) || wanted.includes(name) ? 1 : editDistance(wanted, name);
    if (d <= limit) scored.push({ name, d });
  }
  return scored.sort((x, y) => x.d - y.d || x.name.localeCompare(y.name)).slice(0, max).map((s) => s.name);
}
