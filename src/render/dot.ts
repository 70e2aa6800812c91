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
  // A million pairs on 1,000 pods: each name is quoted once, and each set of ports' label once.
  const n = report.pods.length;
  const names = report.pods.map(quote);
  const labels = new Map<string, string>();
  const labelOf = (allowedPorts: string): string => {
    let label = labels.get(allowedPorts);
    if (label === undefined) {
      const ports = allowedPorts.split(',').map((k) => report.ports[Number(k)]!);
      label = quote(ports.map((p) => `${p.protocol}/${p.port}`).join(', '));
      labels.set(allowedPorts, label);
    }
    return label;
  };
  const allowed = report.allowed;
  for (let s = 0; s < n; s++) {
    const from = `  ${names[s]!} -> `;
    for (let d = 0; d < n; d++) {
      let ports = '';
      for (let k = 0; k < allowed.length; k++) if (allowed[k]![s * n + d] === 1) ports = ports === '' ? String(k) : `${ports},${k}`;
      if (ports !== '') lines.push(`${from}${names[d]!} [label=${labelOf(ports)}];`);
    }
  }
  lines.push('}');
  return lines.join('\n');
}
