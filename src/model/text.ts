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

/** The same for a whole result: every string in it, keys included, made safe; other values unchanged. */
export function stripControlDeep<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return stripControl(value) as T;
  if (depth > 200 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => stripControlDeep(v, depth + 1)) as T;
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[stripControl(k)] = stripControlDeep(v, depth + 1);
  return out as T;
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
