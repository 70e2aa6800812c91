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

/** Past this many findings of one kind for one object, they are folded into one finding with a count. */
export const FINDINGS_PER_GROUP = 10;
/** How many of the folded findings an aggregate keeps as examples. */
export const EXAMPLES_PER_GROUP = 5;

/** The findings of one group past the bound: one finding that says how many, with the first few. */
export interface AggregateFinding extends Finding {
  count: number;
  examples: Finding[];
}

interface Group {
  first: Finding[];
  count: number;
}

/**
 * Collects findings with memory that stays flat in their number: per group (by default a finding's
 * code and its `service`, or `object` when it has no Service), the first FINDINGS_PER_GROUP are kept
 * as they are; past that, the group becomes one finding with a `count` and the first examples. A
 * million stale conntrack entries are one finding per Service, not a million lines.
 */
export class FindingAggregator {
  private readonly groups = new Map<unknown, Group>();

  constructor(
    private readonly bound = FINDINGS_PER_GROUP,
    private readonly examples = EXAMPLES_PER_GROUP,
  ) {}

  static keyOf(f: Pick<Finding, 'code'> & Record<string, unknown>): string {
    const scope = f.service ?? f.object ?? '';
    return `${f.code}|${typeof scope === 'string' ? scope : JSON.stringify(scope)}`;
  }

  /**
   * Adds a finding to the group `key` (any value: a string, or an object that stands for the group);
   * `make` is only called while its group still keeps findings, so that counting past the bound costs nothing.
   */
  addLazy(key: unknown, make: () => Finding): void {
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { first: [], count: 0 }));
    g.count++;
    if (g.first.length <= this.bound) g.first.push(make());
  }

  add(f: Finding): void {
    this.addLazy(FindingAggregator.keyOf(f), () => f);
  }

  get size(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.count;
    return n;
  }

  result(): Finding[] {
    const out: Finding[] = [];
    for (const g of this.groups.values()) {
      if (g.count <= this.bound) {
        out.push(...g.first);
        continue;
      }
      const head = g.first[0]!;
      const aggregate: AggregateFinding = {
        ...head,
        message: `${g.count} findings like this one; the first: ${head.message}`,
        count: g.count,
        examples: g.first.slice(0, this.examples),
      };
      out.push(aggregate);
    }
    return out;
  }
}

/**
 * The same folding for a list already made (engines that build their findings whole), in place: a
 * group past the bound becomes one aggregate where its first finding was, every other finding stays
 * where it was, and a list with no group past the bound is returned as it is. `keyOf` names the group
 * (by default the code and the `service`, or `object`).
 */
export function aggregateFindings(
  findings: readonly Finding[],
  options: { bound?: number; examples?: number; keyOf?: (f: Finding) => string } = {},
): Finding[] {
  const { bound = FINDINGS_PER_GROUP, examples = EXAMPLES_PER_GROUP, keyOf = (f: Finding): string => FindingAggregator.keyOf(f) } = options;
  if (findings.length <= bound) return [...findings];
  const counts = new Map<string, number>();
  let isOver = false;
  for (const f of findings) {
    const key = keyOf(f);
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (n > bound) isOver = true;
  }
  if (!isOver) return [...findings];
  const out: Finding[] = [];
  const open = new Map<string, AggregateFinding>();
  for (const f of findings) {
    const key = keyOf(f);
    const count = counts.get(key)!;
    if (count <= bound) {
      out.push(f);
      continue;
    }
    const aggregate = open.get(key);
    if (aggregate) {
      if (aggregate.examples.length < examples) aggregate.examples.push(f);
      continue;
    }
    const made: AggregateFinding = { ...f, message: `${count} findings like this one; the first: ${f.message}`, count, examples: [f] };
    open.set(key, made);
    out.push(made);
  }
  return out;
}

/** How many problems the findings stand for: an aggregate counts as its `count`. */
export function countFindings(findings: readonly Finding[], severity: Severity): number {
  let n = 0;
  for (const f of findings) if (f.severity === severity) n += typeof f.count === 'number' && Array.isArray(f.examples) ? f.count : 1;
  return n;
}
