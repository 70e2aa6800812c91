import type { Finding } from '../model/finding.js';
import { bySeverity } from '../model/finding.js';
import type { Style } from './style.js';
import { displayWidth, wrapWords } from './table.js';

/** The fewest columns a wrapped finding keeps; with less room, lines are left for the terminal to fold. */
const MIN_WRAP = 24;

/**
 * `first` + `text`; on a terminal (style.width), wrapped at spaces with every further line indented by
 * `hang`, so that the sentence stays to the right of the severity column.
 */
function hanging(first: string, text: string, hang: string, style: Style): string {
  const width = style.width;
  if (width === undefined || width - displayWidth(hang) < MIN_WRAP) return first + text;
  const lines = wrapWords(text, width - displayWidth(first), width - displayWidth(hang));
  return [first + lines[0]!, ...lines.slice(1).map((l) => hang + l)].join('\n');
}

/** Findings as lines a person reads: severity, code, sentence, and what to do. */
export function renderFindings(findings: readonly Finding[], style: Style, indent = ''): string {
  const hang = `${indent}        `;
  return [...findings]
    .sort(bySeverity)
    .map((f) => {
      const head = hanging(`${indent}${style.severity(f.severity, f.severity.toUpperCase().padEnd(7))} `, `${style.c.bold(f.code)}: ${f.message}`, hang, style);
      return f.hint ? `${head}\n${hanging(hang, style.c.dim('→ ' + f.hint), `${hang}  `, style)}` : head;
    })
    .join('\n');
}
