export type Severity = 'error' | 'warning' | 'info';

/** The one shape of every finding knet reports: a stable code, a severity, a sentence, and context. */
export interface Finding {
  code: string;
  severity: Severity;
  message: string;
  /** What to do about it, when there is something to do. */
  hint?: string;
  [context: string]: unknown;
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

const order: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function bySeverity(a: Finding, b: Finding): number {
  return order[a.severity] - order[b.severity];
}
