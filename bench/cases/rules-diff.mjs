// `knet rules diff` on a node with 10,000 Services × 5 endpoints (≥ 100,000 rules), against `knet rules
// trace` of one packet through the same dump, both the built CLI, side by side. Target: ratio ≤ 2. The
// diff also reads the API objects (one JSON List of the 10,000 Services and their EndpointSlices, in sync
// with the dump), so the ratio covers loading them, building the kube view and comparing every port.
// References, measured in the same runs with no limit: a bare Node program that compares only each
// ClusterIP's endpoint addresses from the same files (bench/rules-diff-floor.mjs), what knet takes to
// start a command (`rules trace` on a dump of one empty chain) and what Node takes (`node -e 0`): the
// floor's ratio plus knet's start beyond Node's is the least any knet command could take for this diff.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchServices, generateKubeProxyIptables } from '../generate-iptables.mjs';
import { fileURLToPath } from 'node:url';
import { dataDir, knet, measure } from '../lib.mjs';

const SERVICES = 10_000;
const ENDPOINTS = 5;
const NODE = 'bench-node';
const dir = join(dataDir, `rules-diff-${SERVICES}x${ENDPOINTS}`);
const dump = join(dir, 'nodes', NODE, 'iptables-save.txt');
const emptyDump = join(dataDir, 'empty-chain-iptables-save.txt');
const floor = fileURLToPath(new URL('../rules-diff-floor.mjs', import.meta.url));
const CLUSTER_IP = `172.30.${(5000 >> 8) & 255}.${5000 & 255}`;

/** The Services and EndpointSlices the generated dump was programmed from. */
function apiObjects(services) {
  const items = [];
  for (const s of services) {
    const p = s.ports[0];
    items.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: s.namespace, name: s.name },
      spec: { type: p.nodePort ? 'NodePort' : 'ClusterIP', clusterIP: s.clusterIP, clusterIPs: [s.clusterIP], ports: [{ name: p.name, port: p.port, targetPort: p.targetPort, protocol: 'TCP', ...(p.nodePort ? { nodePort: p.nodePort } : {}) }] },
    });
    items.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: s.namespace, name: `${s.name}-abcde`, labels: { 'kubernetes.io/service-name': s.name } },
      addressType: 'IPv4',
      endpoints: s.endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: e.isLocal ? NODE : 'other-node' })),
      ports: [{ name: p.name, port: p.targetPort, protocol: 'TCP' }],
    });
  }
  return { apiVersion: 'v1', kind: 'List', items };
}

export default [
  {
    name: 'rules-diff-10k',
    target: `knet rules diff on ${SERVICES} Services × ${ENDPOINTS} endpoints in at most 2× knet rules trace on the same dump`,
    runs: 5,
    setup() {
      writeFileSync(emptyDump, '*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n');
      if (existsSync(dump)) return;
      const services = benchServices(SERVICES, ENDPOINTS);
      mkdirSync(join(dir, 'nodes', NODE), { recursive: true });
      writeFileSync(dump, generateKubeProxyIptables({ services }));
      writeFileSync(join(dir, 'api.json'), JSON.stringify(apiObjects(services)));
      writeFileSync(join(dir, 'knet-snapshot.yaml'), 'proxyMode: iptables\n');
    },
    baseline: {
      name: 'knet rules trace (one packet)',
      run: () => measure(process.execPath, [knet, 'rules', 'trace', '--file', dump, '--src', '10.0.0.2', '--dst', CLUSTER_IP, '--dport', '80', '--local-ip', '192.168.0.2', '--json']),
    },
    subject: {
      name: 'knet rules diff',
      // Exit 0: the dump is in sync with the API; a finding would make it 1 and fail the run.
      run: () => measure(process.execPath, [knet, 'rules', 'diff', NODE, '--snapshot', dir, '--json']),
    },
    references: [
      { name: 'bare Node program, ClusterIP endpoints only (bench/rules-diff-floor.mjs)', run: () => measure(process.execPath, [floor, dir, NODE]) },
      { name: 'knet start (rules trace on one empty chain)', run: () => measure(process.execPath, [knet, 'rules', 'trace', '--file', emptyDump, '--src', '10.0.0.2', '--dst', CLUSTER_IP, '--dport', '80', '--json']) },
      { name: 'node -e 0', run: () => measure(process.execPath, ['-e', '0']) },
    ],
    limit: { ratio: 2 },
  },
];
