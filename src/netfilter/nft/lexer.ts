// A small tokenizer for nft syntax. Words are split on whitespace; `{ } , ;` are tokens of their own;
// double-quoted strings are one token; `#` at the start of a word comments out the rest of the line.
// It never backtracks: one pass over the characters.

export interface Token {
  text: string;
  /** Offset of the token in the input, to slice raw text back out. */
  start: number;
  isQuoted: boolean;
}

// Character codes: space, tab, CR, LF; `{ } , ;`; `"`, `\\`, `#`.
const SP = 32;
const TAB = 9;
const CR = 13;
const LF = 10;
const QUOTE = 34;
const BACKSLASH = 92;
const HASH = 35;

function isSpace(c: number): boolean {
  return c === SP || c === TAB || c === CR || c === LF;
}

function isSingle(c: number): boolean {
  return c === 123 || c === 125 || c === 44 || c === 59;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === HASH) {
      while (i < n && text.charCodeAt(i) !== LF) i++;
      continue;
    }
    if (isSingle(c)) {
      tokens.push({ text: text[i]!, start: i, isQuoted: false });
      i++;
      continue;
    }
    if (c === QUOTE) {
      const start = i;
      i++;
      let from = i;
      let value = '';
      while (i < n && text.charCodeAt(i) !== QUOTE) {
        if (text.charCodeAt(i) === BACKSLASH && i + 1 < n) {
          value += text.slice(from, i);
          i++;
          from = i;
        }
        i++;
      }
      value += text.slice(from, i);
      i++; // closing quote (or end of input: an unterminated string ends the line)
      tokens.push({ text: value, start, isQuoted: true });
      continue;
    }
    const start = i;
    while (i < n) {
      const d = text.charCodeAt(i);
      if (isSpace(d) || isSingle(d) || d === QUOTE) break;
      i++;
    }
    tokens.push({ text: text.slice(start, i), start, isQuoted: false });
  }
  return tokens;
}

/** Net count of `{` minus `}` outside quoted strings and comments, to know when a block is complete. */
export function braceDepth(text: string): number {
  let depth = 0;
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
    } else if (c === '"') inQuote = true;
    else if (c === '#') break;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
  }
  return depth;
}
