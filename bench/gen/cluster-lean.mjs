// Generates the lean form of the large snapshot that bench/gen/cluster.mjs writes: the same Services,
// pods and EndpointSlices, but each object with only the fields a `kubectl get -o json` of a plain
// cluster fills for them (no managedFields, tolerations, container statuses or Endpoints objects),
// written without indentation. Parsing no longer dominates such a file, so what knet does after
// parsing (indexing, the diff, the table) shows in the timings.
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';

export async function generateLeanCluster(path, { services = 10_000, pods = 50_000, namespaces = 50 } = {}) {
  if (existsSync(path) && statSync(path).size > 0) return path;
  const out = createWriteStream(path);
  const write = async (s) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  let first = true;
  const item = async (obj) => {
    await write((first ? '' : ',\n') + JSON.stringify(obj));
    first = false;
  };
  const T = '2026-11-20T09:12:31Z';
  const perService = Math.floor(pods / services);
  await write('{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[\n');
  for (let n = 0; n < namespaces; n++) {
    const ns = `team-${n}`;
    await item({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } }, status: { phase: 'Active' } });
  }
  for (let s = 0; s < services; s++) {
    const ns = `team-${s % namespaces}`;
    const app = `app-${s}`;
    const eps = [];
    for (let i = 0; i < perService; i++) {
      const k = s * perService + i;
      const ip = `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
      const name = `${app}-7c9d8f6b5-${k.toString(36).padStart(5, 'x')}`;
      const node = `node-${k % 500}`;
      const ready = !(s % 97 === 0 && i === 0); // about 1% of services have an unready pod
      await item({
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name, namespace: ns, uid: `pod-${k}`, creationTimestamp: T, labels: { app, 'pod-template-hash': '7c9d8f6b5' } },
        spec: { containers: [{ name: 'main', image: 'registry.example.com/app:1.2.3', ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }] }], nodeName: node },
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], podIP: ip, podIPs: [{ ip }] },
      });
      // A stale slice on about 1% of services: the unready pod is still listed as ready.
      eps.push({ ip, name, node, ready: ready || s % 194 === 0 });
    }
    await item({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: app, namespace: ns, uid: `svc-${s}`, creationTimestamp: T },
      spec: { clusterIP: `10.96.${(s >> 8) & 255}.${s & 255}`, clusterIPs: [`10.96.${(s >> 8) & 255}.${s & 255}`], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }], selector: { app }, type: 'ClusterIP' },
    });
    await item({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: `${app}-abcde`, namespace: ns, labels: { 'kubernetes.io/service-name': app } },
      endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready, serving: e.ready, terminating: false }, nodeName: e.node, targetRef: { kind: 'Pod', name: e.name, namespace: ns } })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
  }
  await write('\n]}\n');
  out.end();
  await once(out, 'finish');
  return path;
}
