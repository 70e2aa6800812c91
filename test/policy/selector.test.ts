// kubectl's `-l` syntax, as `explain-policy --matrix --selector` reads it.
import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from '../../src/policy/selector.js';

describe('parseLabelSelector', () => {
  it.each([
    ['app=web', { matchLabels: { app: 'web' } }],
    ['app==web,tier=front', { matchLabels: { app: 'web', tier: 'front' } }],
    ['app!=web', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }],
    ['env in (prod, staging),tier notin (db)', { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }, { key: 'tier', operator: 'NotIn', values: ['db'] }] }],
    ['app.kubernetes.io/name,!legacy', { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'Exists' }, { key: 'legacy', operator: 'DoesNotExist' }] }],
    ['', {}],
  ])('%j', (text, selector) => {
    expect(parseLabelSelector(text)).toEqual({ ok: true, selector });
  });

  it.each([
    ['app=(web', '"app=(web" is not a label selector term'],
    ['env in ()', '"env in ()" lists no values'],
    ['=web', '"=web" is not a label selector term'],
  ])('rejects %j', (text, problem) => {
    expect(parseLabelSelector(text)).toEqual({ ok: false, problem });
  });
});
