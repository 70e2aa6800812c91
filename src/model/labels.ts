import type { LabelSelector } from './k8s.js';

export type Labels = Readonly<Record<string, string>>;

/**
 * Whether labels satisfy a LabelSelector. An empty selector ({}) selects everything; an absent one
 * (undefined) is the caller's to interpret (NetworkPolicy peers treat it differently from podSelector).
 * matchLabels and every matchExpression are ANDed, as the API defines.
 */
export function matchesSelector(selector: LabelSelector, labels: Labels | undefined): boolean {
  const have = labels ?? {};
  // for…in rather than Object.entries: a matrix matches selectors millions of times, and selectors are
  // plain JSON objects (no inherited enumerable keys).
  const matchLabels = selector.matchLabels;
  if (matchLabels) {
    for (const key in matchLabels) {
      if (have[key] !== matchLabels[key]) return false;
    }
  }
  const expressions = selector.matchExpressions;
  if (!expressions) return true;
  for (const req of expressions) {
    const value = have[req.key];
    const has = value !== undefined;
    switch (req.operator) {
      case 'In':
        if (!has || !(req.values ?? []).includes(value)) return false;
        break;
      case 'NotIn':
        if (has && (req.values ?? []).includes(value)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        // An unknown operator matches nothing: the API server would have rejected the object.
        return false;
    }
  }
  return true;
}

/** A Service's selector: a plain map, all pairs must match; an empty map selects nothing here. */
export function matchesMap(selector: Labels, labels: Labels | undefined): boolean {
  const have = labels ?? {};
  for (const key in selector) {
    if (have[key] !== selector[key]) return false;
  }
  return true;
}

/** Problems with a selector's form (unknown operator, values where none belong), for findings. */
export function validateSelector(selector: LabelSelector): string[] {
  const problems: string[] = [];
  for (const req of selector.matchExpressions ?? []) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(req.operator)) {
      problems.push(`unknown operator "${req.operator}" for key "${req.key}" (expected In, NotIn, Exists or DoesNotExist)`);
    } else if ((req.operator === 'In' || req.operator === 'NotIn') && !(req.values?.length)) {
      problems.push(`operator ${req.operator} for key "${req.key}" needs at least one value`);
    } else if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && req.values?.length) {
      problems.push(`operator ${req.operator} for key "${req.key}" takes no values`);
    }
  }
  return problems;
}

export function formatSelector(selector: LabelSelector | Labels | undefined): string {
  if (!selector) return '<none>';
  const isLabelSelector = 'matchLabels' in selector || 'matchExpressions' in selector;
  const ls: LabelSelector = isLabelSelector ? selector : { matchLabels: selector as Labels };
  const parts = Object.entries(ls.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const req of ls.matchExpressions ?? []) {
    switch (req.operator) {
      case 'In':
        parts.push(`${req.key} in (${(req.values ?? []).join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${req.key} notin (${(req.values ?? []).join(',')})`);
        break;
      case 'Exists':
        parts.push(req.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${req.key}`);
        break;
      default:
        parts.push(`${req.key} ${req.operator} (${(req.values ?? []).join(',')})`);
    }
  }
  return parts.length ? parts.join(',') : '<all>';
}
