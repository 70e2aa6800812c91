/** Levenshtein distance, for "did you mean" suggestions and near misses. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** Text without the UTF-8 byte order mark some Windows editors put first: it is not part of the content. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// C0 controls but tab and newline, DEL, and C1 controls (0x9b is a CSI on some terminals).
// eslint-disable-next-line no-control-regex
const controlRe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text from an input made safe for a terminal: control characters (escape sequences could clear the
 * screen or retitle the window) become visible `\xNN` escapes; tab and newline stay.
 */
export function stripControl(text: string): string {
  controlRe.lastIndex = 0;
  if (!controlRe.test(text)) return text;
  return text.replace(controlRe, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Whether text output is made safe with stripControl: always for a terminal (escape sequences act
 * there); not for `--raw` written to a file or a pipe, where raw means the bytes as the node printed
 * them, for a program to read.
 */
export function shouldEscapeControl(output: { isRaw: boolean; isTTY: boolean }): boolean {
  return output.isTTY || !output.isRaw;
}

/**
 * The same for a whole result: every string in it, keys included, made safe; other values unchanged.
 * Copied only where something changes: a report of 10,000 Services with nothing to escape is
 * returned as it is, not copied whole to be thrown away.
 */
export function stripControlDeep<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return stripControl(value) as T;
  if (depth > 200 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const list = value as unknown[];
    let out: unknown[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      const safe = stripControlDeep(v, depth + 1);
      if (!out && safe !== v) out = list.slice(0, i);
      if (out) out.push(safe);
    }
    return (out ?? value) as T;
  }
  if (!isPlainObject(value)) return value;
  const o = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k in o) {
    const v = o[k];
    const safeKey = stripControl(k);
    const safe = stripControlDeep(v, depth + 1);
    if (!out && (safeKey !== k || safe !== v)) {
      // The first change: the fields before it are unchanged, so they are copied as they are.
      out = {};
      for (const before in o) {
        if (before === k) break;
        out[before] = o[before];
      }
    }
    if (out) out[safeKey] = safe;
  }
  return (out ?? value) as T;
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
