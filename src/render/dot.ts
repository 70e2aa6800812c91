// Graphviz DOT of who can reach whom: one node per pod, grouped by namespace, one edge per allowed
// (from, to) labelled with the ports it is allowed on. `dot -Tsvg` draws it.
import type { MatrixCell } from '../policy/types.js';

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function renderPolicyDot(report: { pods: string[]; cells: MatrixCell[] }): string {
  const lines = ['digraph knet_policy {', '  rankdir=LR;', '  node [shape=box, style=rounded, fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];'];
  const byNamespace = new Map<string, string[]>();
  for (const pod of report.pods) {
    const ns = pod.slice(0, pod.indexOf('/'));
    const list = byNamespace.get(ns) ?? [];
    list.push(pod);
    byNamespace.set(ns, list);
  }
  for (const [ns, pods] of byNamespace) {
    lines.push(`  subgraph ${quote(`cluster_${ns}`)} {`, `    label=${quote(`namespace ${ns}`)};`);
    for (const pod of pods) lines.push(`    ${quote(pod)} [label=${quote(pod.slice(ns.length + 1))}];`);
    lines.push('  }');
  }
  const edges = new Map<string, string[]>();
  for (const c of report.cells) {
    if (!c.allowed) continue;
    const key = `${quote(c.from)} -> ${quote(c.to)}`;
    const ports = edges.get(key) ?? [];
    ports.push(`${c.protocol}/${c.port}`);
    edges.set(key, ports);
  }
  for (const [key, ports] of edges) lines.push(`  ${key} [label=${quote(ports.join(', '))}];`);
  lines.push('}');
  return lines.join('\n');
}
