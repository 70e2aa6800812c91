// kubectl's label selector syntax (`-l`), read into a LabelSelector: `k=v`, `k==v`, `k!=v`,
// `k in (a,b)`, `k notin (a,b)`, `k` (exists) and `!k` (does not exist), ANDed by commas.
import type { LabelSelector, LabelSelectorRequirement } from '../model/k8s.js';

export type SelectorParse = { ok: true; selector: LabelSelector } | { ok: false; problem: string };

const key = String.raw`[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?`;
const value = String.raw`([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;
const equality = new RegExp(String.raw`^(${key})\s*(==|=|!=)\s*(${value})$`);
const setBased = new RegExp(String.raw`^(${key})\s+(in|notin)\s+\(([^)]*)\)$`);
const exists = new RegExp(String.raw`^(!?)\s*(${key})$`);

/** Split on commas outside parentheses. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out.filter((t) => t.length > 0);
}

export function parseLabelSelector(text: string): SelectorParse {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: LabelSelectorRequirement[] = [];
  for (const term of splitTerms(text)) {
    let m = equality.exec(term);
    if (m) {
      const [k, op, v] = [m[1]!, m[3]!, m[4] ?? ''];
      if (op === '!=') matchExpressions.push({ key: k, operator: 'NotIn', values: [v] });
      else matchLabels[k] = v;
      continue;
    }
    m = setBased.exec(term);
    if (m) {
      const values = m[4]!.split(',').map((v) => v.trim()).filter(Boolean);
      if (!values.length) return { ok: false, problem: `"${term}" lists no values` };
      matchExpressions.push({ key: m[1]!, operator: m[3] === 'in' ? 'In' : 'NotIn', values });
      continue;
    }
    m = exists.exec(term);
    if (m) {
      matchExpressions.push({ key: m[2]!, operator: m[1] ? 'DoesNotExist' : 'Exists' });
      continue;
    }
    return { ok: false, problem: `"${term}" is not a label selector term` };
  }
  return {
    ok: true,
    selector: { ...(Object.keys(matchLabels).length ? { matchLabels } : {}), ...(matchExpressions.length ? { matchExpressions } : {}) },
  };
}
