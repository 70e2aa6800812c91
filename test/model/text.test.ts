// stripControlDeep makes every string of a result safe for a terminal, and copies only where
// something changes: checked against the plain deep copy it replaced, and for what it shares.
import { describe, expect, it } from 'vitest';
import { stripControl, stripControlDeep } from '../../src/model/text.js';

/** The deep copy stripControlDeep made before it copied only what changes: the reference. */
function copyEverything(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return stripControl(value);
  if (depth > 200 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => copyEverything(v, depth + 1));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[stripControl(k)] = copyEverything(v, depth + 1);
  return out;
}

const ESC = '\u001b';
const report = (odd: string) => ({
  services: [
    { name: 'web', ports: [{ port: 80 }], findings: [] },
    { name: `db${odd}`, selector: { app: 'db', [`t${odd}`]: `x${odd}` }, when: new Date(0), n: null, u: undefined },
    { name: 'api', findings: [{ code: 'c', message: `m${odd}`, examples: [[`e${odd}`], 'plain'] }] },
  ],
  summary: { services: 3 },
  notes: [`n${odd}`, 'ok'],
});

describe('stripControlDeep', () => {
  it.each([['nothing to escape', ''], ['escapes, C1 controls and DEL', `${ESC}[2J\u009b\u007f`]])('with %s: the same as a full copy', (_, odd) => {
    const r = report(odd);
    const before = JSON.stringify(r);
    expect(stripControlDeep(r)).toEqual(copyEverything(r));
    expect(Object.keys(stripControlDeep(r).services[1]!.selector!)).toEqual(Object.keys(copyEverything(r.services[1]!.selector) as object));
    expect(JSON.stringify(r)).toBe(before);
  });

  it('returns what needs no change as it is, and shares the unchanged parts of what does', () => {
    const clean = report('');
    expect(stripControlDeep(clean)).toBe(clean);
    const odd = report(ESC);
    const safe = stripControlDeep(odd);
    expect(safe).not.toBe(odd);
    expect(safe.services[0]).toBe(odd.services[0]);
    expect(safe.summary).toBe(odd.summary);
    expect(safe.services[1]!.when).toBe(odd.services[1]!.when);
    expect(safe.services[1]!.name).toBe('db\\x1b');
    expect(safe.notes).toEqual(['n\\x1b', 'ok']);
  });

  // Walking a level again for each level above it would take 2^150 steps: the test would never end.
  it('copies a control character 150 levels down, each level once', () => {
    let deep: unknown = `x${ESC}`;
    for (let i = 0; i < 150; i++) deep = { a: deep, b: [i] };
    expect(stripControlDeep(deep)).toEqual(copyEverything(deep));
  });
});
