import { Chalk, type ChalkInstance } from 'chalk';
import type { Severity } from '../model/finding.js';

export interface Style {
  isColor: boolean;
  c: ChalkInstance;
  severity(s: Severity, text?: string): string;
  status(s: 'ok' | 'warn' | 'fail' | 'skip', text?: string): string;
}

export function createStyle(isColor: boolean): Style {
  const c = new Chalk({ level: isColor ? 2 : 0 });
  return {
    isColor,
    c,
    severity(s, text = s) {
      return s === 'error' ? c.red.bold(text) : s === 'warning' ? c.yellow(text) : c.cyan(text);
    },
    status(s, text = s) {
      return s === 'ok' ? c.green(text) : s === 'warn' ? c.yellow(text) : s === 'fail' ? c.red.bold(text) : c.gray(text);
    },
  };
}
