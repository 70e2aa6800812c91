import { describe, expect, it } from 'vitest';
import { STREAM_CHUNK, renderJson, renderJsonChunks, renderJsonStream } from '../../src/render/document.js';

/** A report shaped like the commands' (a long list beside small fields), with awkward values. */
function report(services: number): Record<string, unknown> {
  return {
    services: Array.from({ length: services }, (_, i) => ({
      namespace: `ns${i % 7}`,
      name: i % 97 === 0 ? `odd\u009b[2J\u007f"quoted"\n${i}` : `svc${i}`,
      ports: i % 5 === 0 ? [] : [{ port: i, targetPort: 'http' }],
      empty: {},
      nested: [[i], { deep: [null, true, 1.5] }],
      skipped: undefined,
      ...(i % 3 === 0 ? { when: new Date(0) } : {}),
    })),
    findings: Array.from({ length: 3 }, (_, i) => ({ code: `c${i}` })),
    summary: { services, errors: 0 },
    notes: [],
  };
}

describe('renderJson', () => {
  it.each([
    ['DEL in ASCII text', 'a\u007fb', '"a\\u007fb"'],
    ['C1 controls beside other text', 'café\u009b[2J\u0085', '"café\\u009b[2J\\u0085"'],
    ['text outside ASCII without controls', 'café ünïcode ☃', '"café ünïcode ☃"'],
    ['plain ASCII', 'svc-1 "q"', '"svc-1 \\"q\\""'],
  ])('escapes DEL and C1 controls, and only them: %s', (_, value, json) => {
    expect(renderJson({ value })).toBe(`{\n  "value": ${json}\n}`);
  });
});

describe('renderJsonChunks', () => {
  it.each([0, 1, 499, 500, 501, 1000, 1234, 5003])('joins to exactly renderJson for a list of %i', (n) => {
    const r = report(n);
    const pieces = [...renderJsonChunks(r)];
    expect(pieces.join('')).toBe(renderJson(r));
    // A long list is written in pieces of at most 500 elements.
    expect(pieces.length).toBe(n > 500 ? Math.ceil(n / 500) + 2 : 1);
  });

  it('leaves documents without a long list, lists at the top and objects with toJSON whole', () => {
    for (const r of [Array.from({ length: 2000 }, (_, i) => i), { toJSON: () => ({ a: Array(2000).fill(1) }) }, { a: 1, b: 'x' }, null, 'text']) {
      expect([...renderJsonChunks(r)]).toEqual([renderJson(r)]);
    }
  });

  it('cuts the longest list when there are several', () => {
    const r = { small: Array(600).fill({ a: 1 }), big: Array(1700).fill({ b: [2] }), tail: 'end' };
    const pieces = [...renderJsonChunks(r)];
    expect(pieces.join('')).toBe(renderJson(r));
    expect(pieces).toHaveLength(2 + 4);
  });
});

describe('renderJsonStream', () => {
  it.each([0, 1, STREAM_CHUNK - 1, STREAM_CHUNK, STREAM_CHUNK + 1, 250, 1234])('joins to exactly renderJson for a list of %i', (n) => {
    const { services, ...others } = report(n);
    const pieces = [...renderJsonStream('services', services as unknown[], () => ({ services: [], ...others }))];
    expect(pieces.join('')).toBe(renderJson(report(n)));
    expect(pieces.length).toBe(Math.ceil(n / STREAM_CHUNK) + 1);
  });

  it('reads the list as it writes, and asks for the rest of the document after its last element', () => {
    const read: number[] = [];
    let restAskedAfter = -1;
    function* items(): Generator<{ i: number }> {
      for (let i = 0; i < 250; i++) {
        read.push(i);
        yield { i };
      }
    }
    const stream = renderJsonStream('list', items(), () => {
      restAskedAfter = read.length;
      return { list: [], count: read.length };
    });
    stream.next();
    expect(read.length).toBe(STREAM_CHUNK);
    const pieces = [...stream];
    expect(restAskedAfter).toBe(250);
    expect(pieces.at(-1)).toBe('\n  ],\n  "count": 250\n}');
  });

  it('refuses a rest of the document that does not start with the list, empty', () => {
    expect(() => [...renderJsonStream('list', [1], () => ({ count: 1, list: [] }))]).toThrow(/must start with list/);
    expect(() => [...renderJsonStream('list', [1], () => ({ list: [1] }))]).toThrow(/must start with list/);
  });
});
