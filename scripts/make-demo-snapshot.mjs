// Writes examples/demo/cluster.yaml: a small kind cluster as `kubectl get pods,services,endpoints,
// endpointslices,nodes,namespaces,configmaps -A -o yaml` prints it, with a few realistic faults planted
// for `knet endpoints` to find. Run: node scripts/make-demo-snapshot.mjs
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

const T0 = '2026-11-20T09:12:31Z';
const uid = (seed) => {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
const rv = (() => { let n = 1000; return () => String((n += 17)); })();

const nodes = [
  { name: 'kind-control-plane', ip: '172.18.0.2', cidr: '10.244.0.0/24', role: 'control-plane' },
  { name: 'kind-worker', ip: '172.18.0.3', cidr: '10.244.1.0/24' },
  { name: 'kind-worker2', ip: '172.18.0.4', cidr: '10.244.2.0/24' },
];
const nodeIP = Object.fromEntries(nodes.map((n) => [n.name, n.ip]));

const items = [];

for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
  items.push({
    apiVersion: 'v1', kind: 'Namespace',
    metadata: { name: ns, uid: uid(`ns/${ns}`), resourceVersion: rv(), creationTimestamp: T0, labels: { 'kubernetes.io/metadata.name': ns } },
    spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' },
  });
}

for (const n of nodes) {
  items.push({
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name: n.name, uid: uid(`node/${n.name}`), resourceVersion: rv(), creationTimestamp: T0,
      labels: {
        'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux',
        ...(n.role ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
      },
    },
    spec: {
      podCIDR: n.cidr, podCIDRs: [n.cidr], providerID: `kind://docker/kind/${n.name}`,
      ...(n.role ? { taints: [{ effect: 'NoSchedule', key: 'node-role.kubernetes.io/control-plane' }] } : {}),
    },
    status: {
      addresses: [{ address: n.ip, type: 'InternalIP' }, { address: n.name, type: 'Hostname' }],
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure' },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID' },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      ],
      nodeInfo: {
        architecture: 'amd64', containerRuntimeVersion: 'containerd://1.7.18', kernelVersion: '6.1.0-28-amd64',
        kubeProxyVersion: 'v1.30.0', kubeletVersion: 'v1.30.0', operatingSystem: 'linux', osImage: 'Debian GNU/Linux 12 (bookworm)',
      },
    },
  });
}

/** A pod as the API shows it. `ready` false gives a failing readiness probe; `deleting` a deletionTimestamp. */
function pod({ ns = 'default', name, labels, node, ip, image, ports = [], ready = true, phase = 'Running', deleting = false,
  hostNetwork = false, hostname, subdomain, owner, probe = true, reason }) {
  const podIP = hostNetwork ? nodeIP[node] : ip;
  const cond = (type, ok) => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: T0, ...(ok ? {} : { reason: 'ContainersNotReady', message: 'containers with unready status: [main]' }) });
  items.push({
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: ns, uid: uid(`pod/${ns}/${name}`), resourceVersion: rv(), creationTimestamp: T0, labels,
      ...(deleting ? { deletionTimestamp: '2026-11-21T16:40:02Z', deletionGracePeriodSeconds: 30 } : {}),
      ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: uid(`owner/${ns}/${owner.name}`), controller: true, blockOwnerDeletion: true }] } : {}),
    },
    spec: {
      containers: [{
        name: 'main', image, imagePullPolicy: 'IfNotPresent',
        ...(ports.length ? { ports: ports.map((p) => ({ containerPort: p.port, name: p.name, protocol: p.protocol ?? 'TCP' })) } : {}),
        ...(probe && ports[0] ? { readinessProbe: { tcpSocket: { port: ports[0].port }, periodSeconds: 5, failureThreshold: 3, successThreshold: 1, timeoutSeconds: 1 } } : {}),
        resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
      }],
      dnsPolicy: hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
      enableServiceLinks: true, nodeName: node, preemptionPolicy: 'PreemptLowerPriority', priority: 0,
      restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default',
      terminationGracePeriodSeconds: 30,
      ...(hostNetwork ? { hostNetwork: true } : {}),
      ...(hostname ? { hostname } : {}), ...(subdomain ? { subdomain } : {}),
      tolerations: [
        { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
        { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
      ],
    },
    status: {
      phase,
      conditions: [cond('PodReadyToStartContainers', true), cond('Initialized', true), cond('Ready', ready), cond('ContainersReady', ready), cond('PodScheduled', true)],
      hostIP: nodeIP[node], hostIPs: [{ ip: nodeIP[node] }], podIP, podIPs: [{ ip: podIP }],
      qosClass: 'BestEffort', startTime: T0,
      containerStatuses: [{
        name: 'main', image, imageID: `${image}@sha256:${createHash('sha256').update(image).digest('hex')}`,
        containerID: `containerd://${createHash('sha256').update(name).digest('hex')}`,
        ready, restartCount: reason === 'CrashLoopBackOff' ? 7 : 0, started: ready,
        state: reason ? { waiting: { reason, message: 'back-off 5m0s restarting failed container=main' } } : { running: { startedAt: T0 } },
      }],
    },
  });
  return { ns, name, ip: podIP, node, uid: uid(`pod/${ns}/${name}`), ready, deleting };
}

function service({ ns = 'default', name, type = 'ClusterIP', clusterIP, selector, ports, extra = {}, labels }) {
  const headless = clusterIP === 'None';
  items.push({
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: ns, uid: uid(`svc/${ns}/${name}`), resourceVersion: rv(), creationTimestamp: T0, ...(labels ? { labels } : {}) },
    spec: {
      ...(type === 'ExternalName' ? {} : { clusterIP, clusterIPs: [clusterIP], internalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' }),
      ...(ports ? { ports } : {}),
      ...(selector ? { selector } : {}),
      sessionAffinity: 'None', type,
      ...(type === 'NodePort' ? { externalTrafficPolicy: 'Cluster' } : {}),
      ...extra,
    },
    status: { loadBalancer: {} },
  });
  return headless;
}

const ref = (p) => ({ kind: 'Pod', namespace: p.ns, name: p.name, uid: p.uid });

/** An EndpointSlice as the controller writes it; `eps` give ready/serving/terminating explicitly. */
function slice({ ns = 'default', service, suffix, eps, ports, managedBy = 'endpointslice-controller.k8s.io' }) {
  items.push({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: {
      name: `${service}-${suffix}`, namespace: ns, uid: uid(`slice/${ns}/${service}-${suffix}`), resourceVersion: rv(), creationTimestamp: T0,
      generateName: `${service}-`,
      labels: { 'endpointslice.kubernetes.io/managed-by': managedBy, 'kubernetes.io/service-name': service },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: service, uid: uid(`svc/${ns}/${service}`), controller: true, blockOwnerDeletion: true }],
    },
    endpoints: eps.length ? eps.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready, serving: e.serving ?? e.ready, terminating: e.terminating ?? false },
      ...(e.hostname ? { hostname: e.hostname } : {}),
      ...(e.node ? { nodeName: e.node } : {}),
      ...(e.ref ? { targetRef: e.ref } : {}),
    })) : null,
    ports,
  });
}

function endpoints({ ns = 'default', name, ready = [], notReady = [], ports, annotations }) {
  const addr = (e) => ({ ip: e.ip, ...(e.hostname ? { hostname: e.hostname } : {}), ...(e.node ? { nodeName: e.node } : {}), ...(e.ref ? { targetRef: e.ref } : {}) });
  items.push({
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { name, namespace: ns, uid: uid(`ep/${ns}/${name}`), resourceVersion: rv(), creationTimestamp: T0, ...(annotations ? { annotations } : {}) },
    ...(ready.length || notReady.length ? {
      subsets: [{
        ...(ready.length ? { addresses: ready.map(addr) } : {}),
        ...(notReady.length ? { notReadyAddresses: notReady.map(addr) } : {}),
        ports,
      }],
    } : {}),
  });
}

const ep = (p, extra = {}) => ({ ip: p.ip, node: p.node, ref: ref(p), ready: p.ready && !p.deleting, ...extra });

// ---- kube-system: CoreDNS and kube-proxy -------------------------------------------------------------
const dnsPorts = [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'metrics', port: 9153, protocol: 'TCP' }];
const coredns = ['2xk9p', 'tq8vn'].map((s, i) => pod({
  ns: 'kube-system', name: `coredns-7db6d8ff4d-${s}`, labels: { 'k8s-app': 'kube-dns', 'pod-template-hash': '7db6d8ff4d' },
  node: 'kind-control-plane', ip: `10.244.0.${i + 2}`, image: 'registry.k8s.io/coredns/coredns:v1.11.1',
  ports: dnsPorts, owner: { kind: 'ReplicaSet', name: 'coredns-7db6d8ff4d' },
}));
service({ ns: 'kube-system', name: 'kube-dns', clusterIP: '10.96.0.10', selector: { 'k8s-app': 'kube-dns' },
  labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
  ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }, { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 }] });
slice({ ns: 'kube-system', service: 'kube-dns', suffix: 'x7bq2', eps: coredns.map((p) => ep(p)), ports: dnsPorts.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })) });
endpoints({ ns: 'kube-system', name: 'kube-dns', ready: coredns.map((p) => ep(p)), ports: dnsPorts.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })) });
nodes.forEach((n, i) => pod({
  ns: 'kube-system', name: `kube-proxy-${['w8d2k', 'c4n7x', 'p9f3m'][i]}`, labels: { 'k8s-app': 'kube-proxy', 'controller-revision-hash': '5f8d6c9b7' },
  node: n.name, hostNetwork: true, image: 'registry.k8s.io/kube-proxy:v1.30.0', probe: false, owner: { kind: 'DaemonSet', name: 'kube-proxy' },
}));
items.push({
  apiVersion: 'v1', kind: 'ConfigMap',
  metadata: { name: 'kube-proxy', namespace: 'kube-system', uid: uid('cm/kube-proxy'), resourceVersion: rv(), creationTimestamp: T0, labels: { app: 'kube-proxy' } },
  data: { 'config.conf': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\nmode: iptables\niptables:\n  masqueradeAll: false\n  masqueradeBit: 14\n  minSyncPeriod: 1s\n  syncPeriod: 30s\n' },
});
items.push({
  apiVersion: 'v1', kind: 'ConfigMap',
  metadata: { name: 'coredns', namespace: 'kube-system', uid: uid('cm/coredns'), resourceVersion: rv(), creationTimestamp: T0 },
  data: { Corefile: '.:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n' },
});

// ---- default: the API server ----------------------------------------------------------------------------
service({ name: 'kubernetes', clusterIP: '10.96.0.1', labels: { component: 'apiserver', provider: 'kubernetes' },
  ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] });
endpoints({ name: 'kubernetes', ready: [{ ip: '172.18.0.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] });
slice({ service: 'kubernetes', suffix: '', eps: [{ ip: '172.18.0.2', ready: true }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }], managedBy: 'kube-apiserver' });
items.at(-1).metadata.name = 'kubernetes';

// ---- xecho: a NodePort echo server. FAULT: a Running+Ready pod the EndpointSlice never picked up. --------
const xechoPorts = [{ name: 'http', port: 8080 }];
const xecho = [
  ['4mzqp', 'kind-worker', '10.244.1.5'], ['h7wks', 'kind-worker2', '10.244.2.6'], ['rx2lt', 'kind-worker', '10.244.1.7'],
].map(([s, node, ip]) => pod({ name: `xecho-6b8f9c7d5-${s}`, labels: { app: 'xecho', 'pod-template-hash': '6b8f9c7d5' }, node, ip,
  image: 'docker.io/ealen/echo-server:0.9.2', ports: xechoPorts, owner: { kind: 'ReplicaSet', name: 'xecho-6b8f9c7d5' } }));
service({ name: 'xecho', type: 'NodePort', clusterIP: '10.96.120.15', selector: { app: 'xecho' },
  ports: [{ port: 8888, protocol: 'TCP', targetPort: 8080, nodePort: 31401 }] });
slice({ service: 'xecho', suffix: 'k2m9d', eps: xecho.slice(0, 2).map((p) => ep(p)), ports: [{ name: '', port: 8080, protocol: 'TCP' }] });
endpoints({ name: 'xecho', ready: xecho.slice(0, 2).map((p) => ep(p)), ports: [{ port: 8080, protocol: 'TCP' }] });

// ---- headless: 4 pods with hostname myhost, subdomain headless. FAULT: an unready pod the slice still serves. --
const headless = [['10.244.1.10', 'kind-worker'], ['10.244.2.11', 'kind-worker2'], ['10.244.1.12', 'kind-worker'], ['10.244.2.13', 'kind-worker2']]
  .map(([ip, node], i) => pod({ name: `headless-79c8d6f5b9-${['bq7lz', 'f2x8n', 'mt4kw', 'zr6vp'][i]}`,
    labels: { app: 'headless', 'pod-template-hash': '79c8d6f5b9' }, node, ip, image: 'docker.io/library/busybox:1.36',
    ports: [{ name: 'http', port: 8080 }], hostname: 'myhost', subdomain: 'headless', ready: i !== 3,
    owner: { kind: 'ReplicaSet', name: 'headless-79c8d6f5b9' } }));
service({ name: 'headless', clusterIP: 'None', selector: { app: 'headless' }, ports: [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 8080 }] });
slice({ service: 'headless', suffix: 'd8v4c', eps: headless.map((p) => ep(p, { hostname: 'myhost', ready: true })), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
endpoints({ name: 'headless', ready: headless.slice(0, 3).map((p) => ep(p, { hostname: 'myhost' })), notReady: [ep(headless[3], { hostname: 'myhost' })], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });

// ---- web: FAULT: targetPort names "http-web", the pods call their port "http". -----------------------------
const web = [['10.244.1.15', 'kind-worker'], ['10.244.2.16', 'kind-worker2']].map(([ip, node], i) => pod({
  name: `web-5f7b9c6d84-${['lq2rt', 'vn8hs'][i]}`, labels: { app: 'web', 'pod-template-hash': '5f7b9c6d84' }, node, ip,
  image: 'docker.io/library/nginx:1.27', ports: [{ name: 'http', port: 80 }], owner: { kind: 'ReplicaSet', name: 'web-5f7b9c6d84' } }));
service({ name: 'web', clusterIP: '10.96.45.20', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http-web' }] });
// The controller cannot resolve the port on any pod: the slice lists the pods with no ports, Endpoints has no subsets.
slice({ service: 'web', suffix: 'p5j7w', eps: web.map((p) => ep(p)), ports: [] });
endpoints({ name: 'web' });

// ---- backend: FAULT: the selector says app=backend, the pods say app=back-end. -----------------------------
[['10.244.2.20', 'kind-worker2'], ['10.244.1.21', 'kind-worker']].forEach(([ip, node], i) => pod({
  name: `backend-66d9f7c8b5-${['hx4tn', 'wk9zp'][i]}`, labels: { app: 'back-end', tier: 'api', 'pod-template-hash': '66d9f7c8b5' }, node, ip,
  image: 'docker.io/hashicorp/http-echo:1.0', ports: [{ name: 'http', port: 5678 }], owner: { kind: 'ReplicaSet', name: 'backend-66d9f7c8b5' } }));
service({ name: 'backend', clusterIP: '10.96.200.7', selector: { app: 'backend' }, ports: [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 'http' }] });
slice({ service: 'backend', suffix: 'r3c8x', eps: [], ports: null });
endpoints({ name: 'backend' });

// ---- legacy-db: no selector, endpoints written by hand to a database outside the cluster. -------------------
service({ name: 'legacy-db', clusterIP: '10.96.88.88', ports: [{ name: 'postgres', port: 5432, protocol: 'TCP', targetPort: 5432 }] });
endpoints({ name: 'legacy-db', ready: [{ ip: '192.168.50.10' }], ports: [{ name: 'postgres', port: 5432, protocol: 'TCP' }] });
slice({ service: 'legacy-db', suffix: 'm2n6q', eps: [{ ip: '192.168.50.10', ready: true }], ports: [{ name: 'postgres', port: 5432, protocol: 'TCP' }], managedBy: 'endpointslicemirroring-controller.k8s.io' });

// ---- api: FAULT: an endpoint whose pod was deleted long ago is still listed (stale). -------------------------
const api = [['10.244.1.30', 'kind-worker', 'c7d2m'], ['10.244.2.31', 'kind-worker2', 'j4q8s']].map(([ip, node, s]) => pod({
  name: `api-8d5b7c9f6-${s}`, labels: { app: 'api', 'pod-template-hash': '8d5b7c9f6' }, node, ip,
  image: 'docker.io/kennethreitz/httpbin:latest', ports: [{ name: 'http', port: 80 }], owner: { kind: 'ReplicaSet', name: 'api-8d5b7c9f6' } }));
const gone = { ns: 'default', name: 'api-8d5b7c9f6-x9w2v', ip: '10.244.1.29', node: 'kind-worker', uid: uid('pod/default/api-8d5b7c9f6-x9w2v'), ready: true, deleting: false };
service({ name: 'api', clusterIP: '10.96.33.12', selector: { app: 'api' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }] });
slice({ service: 'api', suffix: 'h6t2b', eps: [...api, gone].map((p) => ep(p)), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
endpoints({ name: 'api', ready: [...api, gone].map((p) => ep(p)), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });

// ---- payments: FAULT: its only serving pod is terminating; the replacement crash-loops. ----------------------
const payOld = pod({ name: 'payments-7f9c5d8b6-t2k8w', labels: { app: 'payments', 'pod-template-hash': '7f9c5d8b6' }, node: 'kind-worker2', ip: '10.244.2.40',
  image: 'docker.io/example/payments:2.3.1', ports: [{ name: 'https', port: 8443 }], deleting: true, owner: { kind: 'ReplicaSet', name: 'payments-7f9c5d8b6' } });
const payNew = pod({ name: 'payments-58b4d9c7f-9mvxq', labels: { app: 'payments', 'pod-template-hash': '58b4d9c7f' }, node: 'kind-worker', ip: '10.244.1.41',
  image: 'docker.io/example/payments:2.4.0', ports: [{ name: 'https', port: 8443 }], ready: false, reason: 'CrashLoopBackOff', owner: { kind: 'ReplicaSet', name: 'payments-58b4d9c7f' } });
service({ name: 'payments', clusterIP: '10.96.150.44', selector: { app: 'payments' }, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' }] });
slice({ service: 'payments', suffix: 'z8q3f', eps: [ep(payOld, { ready: false, serving: true, terminating: true }), ep(payNew, { ready: false, serving: false })], ports: [{ name: 'https', port: 8443, protocol: 'TCP' }] });
endpoints({ name: 'payments', notReady: [ep(payNew)], ports: [{ name: 'https', port: 8443, protocol: 'TCP' }] });

// ---- ext-db: an ExternalName service (a DNS alias, no endpoints by design). ----------------------------------
service({ name: 'ext-db', type: 'ExternalName', selector: undefined, extra: { externalName: 'db.prod.example.com' } });

// ---- pod-a: a client on kind-worker, for `knet trace pod-a svc/xecho`. FAULT: xecho admits only pods with
// role=frontend, and pod-a says role=front-end: every connection is dropped at the endpoints' ingress. -------
pod({ name: 'pod-a', labels: { app: 'pod-a', role: 'front-end' }, node: 'kind-worker', ip: '10.244.1.50', image: 'docker.io/library/busybox:1.36', probe: false });
items.push({
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy',
  metadata: { name: 'xecho-allow-frontends', namespace: 'default', uid: uid('netpol/default/xecho-allow-frontends'), resourceVersion: rv(), generation: 1, creationTimestamp: T0 },
  spec: {
    podSelector: { matchLabels: { app: 'xecho' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
  },
});

const list = { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
writeFileSync(new URL('../examples/demo/cluster.yaml', import.meta.url), stringify(list, { lineWidth: 0 }));
console.error(`wrote examples/demo/cluster.yaml (${items.length} objects)`);
