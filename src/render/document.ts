import { stringify } from 'yaml';

/** The command's result as one JSON document (what --json and -o json print). */
export function renderJson(result: unknown): string {
  return JSON.stringify(result, null, 2);
}

export function renderYaml(result: unknown): string {
  return stringify(result, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd();
}
