import type { Finding } from '../model/finding.js';
import { bySeverity } from '../model/finding.js';
import type { Style } from './style.js';

/** Findings as lines a person reads: severity, code, sentence, and what to do. */
export function renderFindings(findings: readonly Finding[], style: Style, indent = ''): string {
  return [...findings]
    .sort(bySeverity)
    .map((f) => {
      const head = `${indent}${style.severity(f.severity, f.severity.toUpperCase().padEnd(7))} ${style.c.bold(f.code)}: ${f.message}`;
      return f.hint ? `${head}\n${indent}        ${style.c.dim('→ ' + f.hint)}` : head;
    })
    .join('\n');
}
