import { inputError } from '../../model/errors.js';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * `--request-timeout` as kubectl reads it: a bare integer is seconds, otherwise a Go duration
 * (`30s`, `1m30s`, `500ms`); `0` means no limit (returned as undefined).
 */
export function parseRequestTimeout(value: string | undefined, flag = '--request-timeout'): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
      throw inputError(`${flag} "${value}" is not a duration`, 'bad-duration', [
        'Give seconds (30) or a duration such as 30s, 1m or 1m30s; 0 means no limit.',
      ]);
    }
    ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
  }
  if (ms > MAX_TIMEOUT_MS || !Number.isFinite(ms)) {
    // Node's timers hold 32-bit milliseconds: a longer delay fires at once, and every request would time out.
    throw inputError(`--request-timeout "${value}" is longer than knet can wait (24 days)`, 'bad-duration', [
      'Give a shorter duration, e.g. 30s or 10m, or 0 for no limit.',
    ]);
  }
  return ms === 0 ? undefined : Math.max(1, Math.round(ms));
}

/** The longest delay a Node timer keeps (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** How a duration is shown back to the user in messages. */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
