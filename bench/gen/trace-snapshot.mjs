// Generates a snapshot directory for `knet trace` at scale: the Services of benchServices (10,000 × 5
// endpoints by default) as the API holds them (a Service, an EndpointSlice and a pod per endpoint, one
// JSON List), a client pod on node-0, and node-0's state: the kube-proxy iptables rules for exactly those
// Services (the dump `knet rules trace` reads in bench/cases/iptables.mjs).
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { benchServices, generateKubeProxyIptables } from '../generate-iptables.mjs';

export const NODE = 'node-0';
export const NODE_IP = '192.168.0.2';
export const CLIENT_IP = '10.0.0.2';

export async function generateTraceSnapshot(dir, { services: count = 10_000, endpoints = 5 } = {}) {
  const rulesFile = join(dir, 'nodes', NODE, 'iptables-save.txt');
  if (existsSync(rulesFile)) return { dir, rulesFile };
  mkdirSync(join(dir, 'nodes', NODE), { recursive: true });
  const services = benchServices(count, endpoints);
  const T = '2026-11-20T09:12:31Z';
  const out = createWriteStream(join(dir, 'cluster.json'));
  let first = true;
  const item = async (obj) => {
    if (!out.write((first ? '' : ',\n') + JSON.stringify(obj))) await once(out, 'drain');
    first = false;
  };
  out.write('{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[\n');
  for (let n = 0; n < 100; n++) await item({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}`, labels: { 'kubernetes.io/metadata.name': `ns${n}` } } });
  for (let n = 0; n < 4; n++) {
    await item({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${n}`, labels: { 'kubernetes.io/hostname': `node-${n}` } }, spec: { podCIDR: `10.${250 + n}.0.0/16` }, status: { addresses: [{ type: 'InternalIP', address: `192.168.0.${2 + n}` }] } });
  }
  const pod = (ns, name, ip, node, labels) => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, uid: `uid-${ns}-${name}`, creationTimestamp: T, labels },
    spec: { nodeName: node, containers: [{ name: 'main', image: 'registry.example/app:1', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
  });
  await item(pod('ns0', 'client', CLIENT_IP, NODE, { app: 'client' }));
  for (const s of services) {
    const labels = { app: s.name };
    const port = s.ports[0];
    await item({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: s.name, namespace: s.namespace, uid: `uid-svc-${s.name}`, creationTimestamp: T },
      spec: { type: port.nodePort ? 'NodePort' : 'ClusterIP', clusterIP: s.clusterIP, clusterIPs: [s.clusterIP], selector: labels, ports: [{ name: port.name, port: port.port, targetPort: port.targetPort, protocol: 'TCP', ...(port.nodePort ? { nodePort: port.nodePort } : {}) }] },
    });
    const eps = s.endpoints.map((e, j) => ({ ip: e.ip, name: `${s.name}-${j}`, node: e.isLocal ? NODE : `node-${1 + (j % 3)}` }));
    for (const e of eps) await item(pod(s.namespace, e.name, e.ip, e.node, labels));
    await item({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: `${s.name}-abcde`, namespace: s.namespace, labels: { 'kubernetes.io/service-name': s.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
      endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: e.node, targetRef: { kind: 'Pod', namespace: s.namespace, name: e.name } })),
      ports: [{ name: port.name, port: port.targetPort, protocol: 'TCP' }],
    });
  }
  out.write('\n]}\n');
  out.end();
  await once(out, 'finish');
  writeFileSync(join(dir, 'knet-snapshot.yaml'), 'clusterDomain: cluster.local\nproxyMode: iptables\n');
  writeFileSync(rulesFile, generateKubeProxyIptables({ services }));
  return { dir, rulesFile };
}
