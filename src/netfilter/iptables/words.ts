// The words of an iptables rule as iptables-restore reads them: which options take no argument, which
// are the top-level ones, and a cursor that steps through a rule's words in place (in the dump's own
// text, making no strings), shared by the readers of whole rules and of their facts.

/** Options that take no argument; everything else takes the words up to the next option. */
export const FLAG_OPTIONS = new Set([
  'rcheck', 'set', 'update', 'remove', 'reap', 'rsource', 'rdest', 'rttl',
  'physdev-is-in', 'physdev-is-out', 'physdev-is-bridged',
  'random', 'random-fully', 'persistent', 'fully-random',
  'syn', 'notrack', 'save-mark', 'restore-mark', 'log-uid', 'log-tcp-sequence', 'log-tcp-options', 'log-ip-options',
  'limit-iface-in', 'limit-iface-out', 'return-nomatch', 'update-counters', 'update-subcounters', 'no-update-counters',
  'ecn-tcp-remove', 'transparent', 'nowildcard', 'restore', 'save',
]);

/** What a top-level option is. */
export type TopOption = 'source' | 'destination' | 'protocol' | 'in-interface' | 'out-interface' | 'fragment' | 'match' | 'jump' | 'goto';

/** Top-level short and long option names and what they are. */
export const TOP_OPTIONS: Record<string, TopOption> = {
  '-s': 'source', '--source': 'source', '--src': 'source',
  '-d': 'destination', '--destination': 'destination', '--dst': 'destination',
  '-p': 'protocol', '--protocol': 'protocol',
  '-i': 'in-interface', '--in-interface': 'in-interface',
  '-o': 'out-interface', '--out-interface': 'out-interface',
  '-f': 'fragment', '--fragment': 'fragment',
  '-m': 'match', '--match': 'match',
  '-j': 'jump', '--jump': 'jump',
  '-g': 'goto', '--goto': 'goto',
};


/** Where scanRule is in a rule's text: the current word is raw[i, end). */
export class WordCursor {
  raw = '';
  n = 0;
  i = 0;
  end = 0;
  /** The current word holds a quote (so it is never an option or "!"). */
  isQuoted = false;
  /** The current word has a backslash inside quotes (an escape scanRule leaves to tokenizeRule). */
  isEscaped = false;
  /** A quote was not closed, or a tab was met. */
  isBroken = false;

  /** Where the last call of next() started and what it found: a word looked at and put back is not scanned again. */
  private lastFrom = -1;
  private lastStart = 0;
  private lastFound = false;

  reset(raw: string, from: number, to: number): void {
    this.raw = raw;
    this.n = to;
    this.i = from;
    this.end = 0;
    this.isQuoted = false;
    this.isEscaped = false;
    this.isBroken = false;
    this.lastFrom = -1;
  }

  /** Steps to the next word from i; false at the end of the line, at a tab or at a quote that is not closed. */
  next(): boolean {
    if (this.i === this.lastFrom) {
      // The same word again (after a look ahead): end, isQuoted and isEscaped still hold it.
      this.i = this.lastStart;
      return this.lastFound;
    }
    this.lastFrom = this.i;
    this.lastFound = this.scan();
    this.lastStart = this.i;
    return this.lastFound;
  }

  private scan(): boolean {
    const raw = this.raw;
    const n = this.n;
    let i = this.i;
    while (i < n && raw.charCodeAt(i) === 32) i++;
    this.i = i;
    if (i >= n) return false;
    let isQuoted = false;
    let isEscaped = false;
    let j = i;
    while (j < n) {
      const c = raw.charCodeAt(j);
      if (c === 32) break;
      if (c === 9) {
        // Without quotes, tokenizeRule splits at spaces only, and with them at tabs too: leave tabs to it.
        this.isBroken = true;
        return false;
      }
      if (c === 34 /* " */) {
        // Up to the closing quote; a backslash in quotes escapes what follows it.
        isQuoted = true;
        j++;
        for (;;) {
          if (j >= n) {
            this.isBroken = true;
            return false;
          }
          const q = raw.charCodeAt(j);
          if (q === 34) break;
          if (q === 92 /* \ */) {
            isEscaped = true;
            j += 2;
          } else j++;
        }
      }
      j++;
    }
    this.end = j;
    this.isQuoted = isQuoted;
    this.isEscaped = isEscaped;
    return true;
  }

  isBang(): boolean {
    return !this.isQuoted && this.end - this.i === 1 && this.raw.charCodeAt(this.i) === 33 /* ! */;
  }

  isOption(): boolean {
    const i = this.i;
    if (this.isQuoted || this.end - i < 2 || this.raw.charCodeAt(i) !== 45 /* - */) return false;
    const c = this.raw.charCodeAt(i + 1) | 32;
    return c === 45 || (c >= 97 && c <= 122);
  }

  /** Steps past a "!" after an option (`-s ! 10.0.0.0/8`, the old syntax); true when there was one. */
  bangAfter(): boolean {
    const from = this.i;
    if (this.next() && this.isBang()) {
      this.i = this.end;
      return true;
    }
    this.i = from;
    return false;
  }

  /** The current word's text, its quotes taken out; null for an escape in quotes (left to tokenizeRule). */
  text(): string | null {
    if (!this.isQuoted) return this.raw.slice(this.i, this.end);
    if (this.isEscaped) return null;
    return this.raw.slice(this.i, this.end).replaceAll('"', '');
  }

  /** The next word as a value (any word at all, as takeValue takes it); null at the end or for an escape. */
  value(): string | null {
    if (!this.next()) return null;
    const v = this.text();
    this.i = this.end;
    return v;
  }
}

/** TOP_OPTIONS and FLAG_OPTIONS by the length of the word, so that a word is looked up in place, not sliced. */
const TOP_BY_LENGTH: [string, TopOption][][] = [];
for (const [word, kind] of Object.entries(TOP_OPTIONS)) (TOP_BY_LENGTH[word.length] ??= []).push([word, kind]);
const FLAGS_BY_LENGTH: string[][] = [];
for (const name of FLAG_OPTIONS) (FLAGS_BY_LENGTH[name.length + 2] ??= []).push(`--${name}`);

/** What the option word raw[i, end) is among TOP_OPTIONS, if it is one. */
export function topOptionAt(raw: string, i: number, end: number): TopOption | undefined {
  if (end - i === 2) {
    // The short options, most of a dump's words: by their letter, no comparison of strings.
    switch (raw.charCodeAt(i + 1)) {
      case 115 /* s */: return 'source';
      case 100 /* d */: return 'destination';
      case 112 /* p */: return 'protocol';
      case 105 /* i */: return 'in-interface';
      case 111 /* o */: return 'out-interface';
      case 102 /* f */: return 'fragment';
      case 109 /* m */: return 'match';
      case 106 /* j */: return 'jump';
      case 103 /* g */: return 'goto';
      default: return undefined;
    }
  }
  const candidates = TOP_BY_LENGTH[end - i];
  if (candidates === undefined) return undefined;
  for (const [word, kind] of candidates) if (raw.startsWith(word, i)) return kind;
  return undefined;
}

/** Whether the `--option` word raw[i, end) takes no argument. */
export function isFlagAt(raw: string, i: number, end: number): boolean {
  const candidates = FLAGS_BY_LENGTH[end - i];
  if (candidates === undefined) return false;
  for (const word of candidates) if (raw.startsWith(word, i)) return true;
  return false;
}

