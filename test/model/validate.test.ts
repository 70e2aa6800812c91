// The validator answers most objects with a quick yes (a pass per shape) and walks the rest field by
// field: at the edges of what it accepts, the quick answer must never be yes where the walk finds a problem.
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, fieldPath, validateObject } from '../../src/model/validate.js';

/** `{ a: { a: … } }` with `levels` objects (a list at every third level, to mix both). */
function nested(levels: number): unknown {
  let v: unknown = {};
  for (let i = 1; i < levels; i++) v = i % 3 === 0 ? [v] : { a: v };
  return v;
}

const service = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Record<string, unknown> => ({
  kind: 'Service',
  metadata: { name: 'web', namespace: 'shop', ...metadata },
  spec,
});

describe('validateObject at the edges', () => {
  it.each([
    // spec.extra stands at depth 2: the deepest object it may hold is at MAX_DEPTH.
    ['a field it does not read', (levels: number) => service({ extra: nested(levels) }), MAX_DEPTH - 1],
    ['a field of any shape', (levels: number) => ({ kind: 'AdminNetworkPolicy', metadata: { name: 'p' }, spec: nested(levels) }), MAX_DEPTH],
  ])('%s: nested to the depth limit passes, one level more is reported', (_, make, deepest) => {
    expect(validateObject(make(deepest))).toEqual([]);
    const problems = validateObject(make(deepest + 1));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.problem).toBe(`is nested more than ${MAX_DEPTH} levels deep; no Kubernetes object is`);
  });

  it.each([
    ['a required field that is null', service({}, { name: null }), ['metadata.name']],
    ['a required field that is missing', { kind: 'Service', metadata: { namespace: 'shop' } }, ['metadata.name']],
    ['a port of 0 and a port past 65535', service({ ports: [{ port: 0 }, { port: 65536 }] }), ['spec.ports[0].port', 'spec.ports[1].port']],
    ['a port that is not whole', service({ ports: [{ port: 80.5, targetPort: '' }] }), ['spec.ports[0].port', 'spec.ports[0].targetPort']],
    ['a label value that is a number', service({}, { labels: { app: 'web', tier: 3 } }), ['metadata.labels.tier']],
    ['a protocol not in the list', service({ ports: [{ port: 80, protocol: 'tcp' }] }), ['spec.ports[0].protocol']],
    ['a list that is a map', service({ clusterIPs: { a: '10.0.0.1' } }), ['spec.clusterIPs']],
  ])('%s is reported, in the order of the fields', (_, obj, paths) => {
    expect(validateObject(obj).map((p) => fieldPath(p.path))).toEqual(paths);
  });

  it.each([
    ['null where null is allowed', service({ selector: null, ports: null }, { labels: null })],
    ['fields it does not read, of any shape', service({ foo: [1, { b: 'x' }], bar: 3 }, { managedFields: [{ fieldsV1: { 'f:spec': {} } }] })],
    ['a named and a numbered target port', service({ ports: [{ port: 80, targetPort: 'http' }, { port: 81, targetPort: 8081, nodePort: 30081 }] })],
  ])('%s passes', (_, obj) => {
    expect(validateObject(obj)).toEqual([]);
  });
});
