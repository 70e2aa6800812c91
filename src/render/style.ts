import { Chalk, type ChalkInstance } from 'chalk';
import type { Severity } from '../model/finding.js';

export interface Style {
  isColor: boolean;
  /** The terminal's width in columns when output goes to one; undefined for a pipe or a file. */
  width?: number;
  c: ChalkInstance;
  severity(s: Severity, text?: string): string;
  status(s: 'ok' | 'warn' | 'fail' | 'skip', text?: string): string;
}

export function createStyle(isColor: boolean, width?: number): Style {
  const c = new Chalk({ level: isColor ? 2 : 0 });
  return {
    isColor,
    ...(width !== undefined && width > 0 ? { width } : {}),
    c,
    severity(s, text = s) {
      return s === 'error' ? c.red.bold(text) : s === 'warning' ? c.yellow(text) : c.cyan(text);
    },
    status(s, text = s) {
      return s === 'ok' ? c.green(text) : s === 'warn' ? c.yellow(text) : s === 'fail' ? c.red.bold(text) : c.gray(text);
    },
  };
}
