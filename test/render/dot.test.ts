// The reachability graph's edges: one per allowed (from, to) pair, labelled with every port allowed on
// it in the order the ports were asked for. The renderer quotes each name and each set of ports once;
// the reference here is the definition, pair by pair.
import { describe, expect, it } from 'vitest';
import type { CompactMatrix } from '../../src/policy/matrix.js';
import { renderPolicyDot } from '../../src/render/dot.js';

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function referenceEdges(m: CompactMatrix): string[] {
  const n = m.pods.length;
  const edges: string[] = [];
  for (let s = 0; s < n; s++) {
    for (let d = 0; d < n; d++) {
      const ports = m.ports.filter((_, k) => m.allowed[k]![s * n + d] === 1).map((p) => `${p.protocol}/${p.port}`);
      if (ports.length) edges.push(`  ${quote(m.pods[s]!)} -> ${quote(m.pods[d]!)} [label=${quote(ports.join(', '))}];`);
    }
  }
  return edges;
}

describe('renderPolicyDot', () => {
  it('labels each allowed pair with its ports, for every subset of three ports', () => {
    const pods = ['a/web', 'a/db', 'b/say "hi"', 'b/back\\slash', 'c/x'];
    const n = pods.length;
    const ports = [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }, { port: 443, protocol: 'TCP' }];
    // Pair i gets the subset i mod 8 of the ports: every subset, the empty one included, many times.
    const allowed = ports.map((_, k) => Uint8Array.from({ length: n * n }, (_, i) => ((i % 8) >> k) & 1));
    const m = { pods, ports, allowed } as unknown as CompactMatrix;
    const edges = renderPolicyDot(m).split('\n').filter((l) => l.includes(' -> '));
    expect(edges).toEqual(referenceEdges(m));
    expect(edges).toContain('  "a/web" -> "a/db" [label="TCP/80"];');
    expect(edges).toContain('  "a/db" -> "b/say \\"hi\\"" [label="TCP/80, UDP/53, TCP/443"];');
    expect(edges.length).toBe(Array.from({ length: n * n }, (_, i) => i % 8).filter((x) => x !== 0).length);
  });

  it('draws no edge where nothing is allowed', () => {
    const m = { pods: ['a/x', 'a/y'], ports: [{ port: 80, protocol: 'TCP' }], allowed: [new Uint8Array(4)] } as unknown as CompactMatrix;
    expect(renderPolicyDot(m).split('\n').filter((l) => l.includes(' -> '))).toEqual([]);
  });
});
