import { stringify } from 'yaml';

/** The command's result as one JSON document (what --json and -o json print). */
export function renderJson(result: unknown): string {
  // JSON.stringify escapes C0 controls but not DEL and C1 (0x9b starts an escape sequence on some
  // terminals); they can only stand inside strings here, so escaping them loses nothing.
   
  return JSON.stringify(result, null, 2).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function renderYaml(result: unknown): string {
  return stringify(result, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd();
}
