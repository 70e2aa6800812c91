// Generates a large snapshot as one JSON List (what `kubectl get … -A -o json` prints): `services`
// Services over `pods` pods in `namespaces` namespaces, with an EndpointSlice and an Endpoints object per
// Service, shaped like real API output, and a few faults so that the engines have work to report.
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';

export async function generateCluster(path, { services = 10_000, pods = 50_000, namespaces = 50 } = {}) {
  if (existsSync(path) && statSync(path).size > 0) return path;
  const out = createWriteStream(path);
  const write = async (s) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  let first = true;
  const item = async (obj) => {
    await write((first ? '' : ',\n') + JSON.stringify(obj, null, 4).replace(/^/gm, '        '));
    first = false;
  };
  const T = '2026-11-20T09:12:31Z';
  const perService = Math.floor(pods / services);
  await write('{\n    "apiVersion": "v1",\n    "items": [\n');
  for (let n = 0; n < namespaces; n++) {
    const ns = `team-${n}`;
    await item({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, uid: `ns-${n}`, creationTimestamp: T, labels: { 'kubernetes.io/metadata.name': ns } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
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
        metadata: {
          name, namespace: ns, uid: `pod-${k}`, resourceVersion: String(100000 + k), creationTimestamp: T,
          generateName: `${app}-7c9d8f6b5-`, labels: { app, 'pod-template-hash': '7c9d8f6b5', tier: 'backend' },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-7c9d8f6b5`, uid: `rs-${s}`, controller: true, blockOwnerDeletion: true }],
        },
        spec: {
          containers: [{ name: 'main', image: 'registry.example.com/app:1.2.3', imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }], resources: { requests: { cpu: '100m', memory: '128Mi' } }, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }],
          dnsPolicy: 'ClusterFirst', enableServiceLinks: true, nodeName: node, restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default', terminationGracePeriodSeconds: 30,
          tolerations: [{ effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 }, { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 }],
        },
        status: {
          phase: 'Running',
          conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: type.endsWith('Ready') && !ready ? 'False' : 'True', lastProbeTime: null, lastTransitionTime: T })),
          hostIP: `172.20.${(k % 500) >> 8}.${(k % 500) & 255}`, podIP: ip, podIPs: [{ ip }], qosClass: 'Burstable', startTime: T,
          containerStatuses: [{ name: 'main', ready, restartCount: 0, started: true, image: 'registry.example.com/app:1.2.3', imageID: 'registry.example.com/app@sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0', containerID: `containerd://${k.toString(16).padStart(64, '0')}`, state: { running: { startedAt: T } } }],
        },
      });
      // A stale slice on about 1% of services: the unready pod is still listed as ready.
      eps.push({ ip, name, node, ready: ready || s % 194 === 0 });
    }
    await item({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: app, namespace: ns, uid: `svc-${s}`, resourceVersion: String(s), creationTimestamp: T, labels: { app } },
      spec: { clusterIP: `10.96.${(s >> 8) & 255}.${s & 255}`, clusterIPs: [`10.96.${(s >> 8) & 255}.${s & 255}`], internalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }], selector: { app }, sessionAffinity: 'None', type: 'ClusterIP' },
      status: { loadBalancer: {} },
    });
    await item({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: `${app}-abcde`, namespace: ns, uid: `slice-${s}`, generateName: `${app}-`, creationTimestamp: T, labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'kubernetes.io/service-name': app }, ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: app, uid: `svc-${s}`, controller: true, blockOwnerDeletion: true }] },
      endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready, serving: e.ready, terminating: false }, nodeName: e.node, targetRef: { kind: 'Pod', name: e.name, namespace: ns, uid: `pod-${e.name}` } })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    await item({
      apiVersion: 'v1', kind: 'Endpoints',
      metadata: { name: app, namespace: ns, uid: `ep-${s}`, creationTimestamp: T, labels: { app } },
      subsets: [{ addresses: eps.filter((e) => e.ready).map((e) => ({ ip: e.ip, nodeName: e.node, targetRef: { kind: 'Pod', name: e.name, namespace: ns } })), ...(eps.some((e) => !e.ready) ? { notReadyAddresses: eps.filter((e) => !e.ready).map((e) => ({ ip: e.ip, nodeName: e.node, targetRef: { kind: 'Pod', name: e.name, namespace: ns } })) } : {}), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
    });
  }
  await write('\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n');
  out.end();
  await once(out, 'finish');
  return path;
}
