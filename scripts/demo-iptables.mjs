#!/usr/bin/env node
// Writes examples/demo/nodes/<node>/iptables-save.txt: the rules kube-proxy (iptables mode) programs on
// that node for the demo snapshot's Services and EndpointSlices, so that `knet rules …` and `knet node
// iptables` have coherent node state to read. Usage: node scripts/demo-iptables.mjs [node…]
// (default: kind-worker kind-worker2). Endpoints follow kube-proxy: ready ones, or serving-and-terminating
// ones when none is ready; local = on this node.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { generateKubeProxyIptables } from '../bench/generate-iptables.mjs';

const demo = fileURLToPath(new URL('../examples/demo', import.meta.url));
const objects = [];
for (const file of readdirSync(demo).filter((f) => /\.ya?ml$/.test(f) && f !== 'knet-snapshot.yaml')) {
  for (const doc of YAML.parseAllDocuments(readFileSync(join(demo, file), 'utf8'))) {
    const o = doc.toJS();
    if (!o) continue;
    if (o.kind === 'List') objects.push(...(o.items ?? []));
    else objects.push(o);
  }
}
const meta = YAML.parse(readFileSync(join(demo, 'knet-snapshot.yaml'), 'utf8'));
const podCIDR = meta.podCIDRs?.[0] ?? '10.244.0.0/16';
const services = objects.filter((o) => o.kind === 'Service');
const slices = objects.filter((o) => o.kind === 'EndpointSlice');

function endpointsFor(svc, port, node) {
  const mine = slices.filter((s) => s.metadata.namespace === svc.metadata.namespace && s.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name);
  const all = [];
  for (const slice of mine) {
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
    if (!sp) continue;
    for (const e of slice.endpoints ?? []) {
      const c = e.conditions ?? {};
      for (const ip of e.addresses ?? []) all.push({ ip, port: sp.port, isLocal: e.nodeName === node, ready: c.ready !== false, serving: c.serving ?? c.ready !== false, terminating: c.terminating === true });
    }
  }
  const ready = all.filter((e) => e.ready);
  return ready.length > 0 ? ready : all.filter((e) => e.serving && e.terminating);
}

// FAULT for `knet rules diff`: kube-proxy on kind-worker stopped syncing a while ago: its rules still send
// legacy-db to 192.168.50.9, where the database was before the API moved it to 192.168.50.10.
// kind-worker2's kube-proxy is up to date.
const behind = {
  'kind-worker': { endpoints: { 'default/legacy-db': [{ ip: '192.168.50.9', port: 5432 }] }, deleted: [] },
};

function generate(node) {
  const lag = behind[node] ?? { endpoints: {}, deleted: [] };
  const out = [...lag.deleted];
  for (const svc of services) {
    const spec = svc.spec ?? {};
    if (!spec.clusterIP || spec.clusterIP === 'None' || spec.type === 'ExternalName') continue;
    for (const port of spec.ports ?? []) {
      out.push({
        namespace: svc.metadata.namespace ?? 'default',
        name: svc.metadata.name,
        clusterIP: spec.clusterIP,
        ports: [{ ...(port.name ? { name: port.name } : {}), port: port.port, protocol: (port.protocol ?? 'TCP').toLowerCase(), ...(port.nodePort ? { nodePort: port.nodePort } : {}) }],
        endpoints: lag.endpoints[`${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`] ?? endpointsFor(svc, port, node),
        externalIPs: spec.externalIPs ?? [],
        loadBalancerIPs: (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter(Boolean),
        loadBalancerSourceRanges: spec.loadBalancerSourceRanges ?? [],
        internalTrafficPolicy: spec.internalTrafficPolicy ?? 'Cluster',
        externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster',
        ...(spec.sessionAffinity === 'ClientIP' ? { affinitySeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 } : {}),
        ...(spec.healthCheckNodePort ? { healthCheckNodePort: spec.healthCheckNodePort } : {}),
      });
    }
  }
  return generateKubeProxyIptables({ services: out, podCIDR, date: 'Sat Nov 21 16:40:30 2026' });
}

const nodes = process.argv.slice(2);
for (const node of nodes.length > 0 ? nodes : ['kind-worker', 'kind-worker2']) {
  const dir = join(demo, 'nodes', node);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'iptables-save.txt'), generate(node));
  console.log(`wrote ${join(dir, 'iptables-save.txt')}`);
}
