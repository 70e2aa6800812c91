// A small tokenizer for nft syntax. Words are split on whitespace; `{ } , ;` are tokens of their own;
// double-quoted strings are one token; `#` at the start of a word comments out the rest of the line.
// It never backtracks: one pass over the characters.

export interface Token {
  text: string;
  /** Offset of the token in the input, to slice raw text back out. */
  start: number;
  isQuoted: boolean;
}

const SINGLE = new Set(['{', '}', ',', ';']);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (SINGLE.has(c)) {
      tokens.push({ text: c, start: i, isQuoted: false });
      i++;
      continue;
    }
    if (c === '"') {
      const start = i;
      i++;
      let value = '';
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < n) i++;
        value += text[i];
        i++;
      }
      i++; // closing quote (or end of input: an unterminated string ends the line)
      tokens.push({ text: value, start, isQuoted: true });
      continue;
    }
    const start = i;
    while (i < n) {
      const d = text[i]!;
      if (d === ' ' || d === '\t' || d === '\r' || d === '\n' || SINGLE.has(d) || d === '"') break;
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
