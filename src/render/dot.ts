// Graphviz DOT of who can reach whom: one node per pod, grouped by namespace, one edge per allowed
// (from, to) labelled with the ports it is allowed on. `dot -Tsvg` draws it.
import type { CompactMatrix } from '../policy/matrix.js';

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function renderPolicyDot(report: CompactMatrix): string {
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
  const n = report.pods.length;
  for (let s = 0; s < n; s++) {
    for (let d = 0; d < n; d++) {
      const ports = report.ports.filter((_, k) => report.allowed[k]![s * n + d] === 1).map((p) => `${p.protocol}/${p.port}`);
      if (ports.length) lines.push(`  ${quote(report.pods[s]!)} -> ${quote(report.pods[d]!)} [label=${quote(ports.join(', '))}];`);
    }
  }
  lines.push('}');
  return lines.join('\n');
}
