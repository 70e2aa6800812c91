// KnetCommand's exit 1 on an error finding anywhere in a result: what its walk finds and passes over.
import { describe, expect, it } from 'vitest';
import { hasErrorFinding } from '../../src/cli/base.js';

const error = { code: 'x', severity: 'error', message: 'm' };

describe('hasErrorFinding', () => {
  it('finds an error finding at any depth, in objects and lists, past strings and numbers', () => {
    expect(hasErrorFinding({ services: [{ name: 'a', port: 80, findings: [] }, { name: 'b', port: null, endpoints: { expected: 1 }, findings: [{ ...error, severity: 'warning' }, error] }] })).toBe(true);
    expect(hasErrorFinding([['a', 1, null, undefined, true, [error]]])).toBe(true);
    expect(hasErrorFinding(error)).toBe(true);
  });

  it('says no for warnings, primitives, look-alikes and what lies past the depth bound', () => {
    expect(hasErrorFinding({ findings: [{ ...error, severity: 'warning' }], list: ['error', 1, null], n: 5 })).toBe(false);
    expect(hasErrorFinding('error')).toBe(false);
    expect(hasErrorFinding(null)).toBe(false);
    expect(hasErrorFinding({ severity: 'error', code: 'x' })).toBe(false);
    expect(hasErrorFinding(new Uint8Array(4))).toBe(false);
    let deep: unknown = error;
    for (let i = 0; i < 70; i++) deep = [deep];
    expect(hasErrorFinding(deep)).toBe(false);
    let shallow: unknown = error;
    for (let i = 0; i < 60; i++) shallow = { x: shallow };
    expect(hasErrorFinding(shallow)).toBe(true);
  });
});
