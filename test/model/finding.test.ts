// Folding of findings past a bound: order kept, counts exact, short lists untouched.
import { describe, expect, it } from 'vitest';
import { aggregateFindings, countFindings, EXAMPLES_PER_GROUP, FINDINGS_PER_GROUP, type Finding } from '../../src/model/finding.js';

const stale = (i: number, service = 'shop/web'): Finding => ({ code: 'stale-endpoint', severity: 'error', message: `endpoint 10.0.${i >> 8}.${i & 255} is gone`, service, ip: `10.0.${i >> 8}.${i & 255}` });
const other: Finding = { code: 'no-selector', severity: 'info', message: 'no selector', service: 'shop/web' };

describe('aggregateFindings', () => {
  it('leaves a list with no group past the bound as it is, in its order', () => {
    const list = [stale(1), other, ...Array.from({ length: FINDINGS_PER_GROUP - 1 }, (_, i) => stale(i + 2))];
    expect(aggregateFindings(list)).toEqual(list);
  });

  it('folds 50,000 findings of one code and Service into one, where the first was, with the count and the first examples', () => {
    const n = 50_000;
    const list = [other, ...Array.from({ length: n }, (_, i) => stale(i)), stale(0, 'shop/db')];
    const out = aggregateFindings(list);
    expect(out.map((f) => [f.code, f.service, f.count ?? null])).toEqual([
      ['no-selector', 'shop/web', null],
      ['stale-endpoint', 'shop/web', n],
      ['stale-endpoint', 'shop/db', null],
    ]);
    const folded = out[1]!;
    expect(folded.severity).toBe('error');
    expect(folded.message).toBe(`${n} findings like this one; the first: endpoint 10.0.0.0 is gone`);
    expect((folded.examples as Finding[]).map((f) => f.ip)).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].slice(0, EXAMPLES_PER_GROUP));
    expect([countFindings(out, 'error'), countFindings(out, 'info')]).toEqual([n + 1, 1]);
  });
});
