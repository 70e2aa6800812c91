// `knet trace` (the whole walk: snapshot of 10,000 Services × 5 endpoints read, references resolved,
// endpoints, policy, the node's kube-proxy rules parsed and simulated, routes, conntrack) against `knet
// rules trace` on the same node dump (parse + simulate of the same packet), side by side. Target: the
// trace takes at most 1.5× the rules trace: composing the engines costs little beyond the rules themselves.
// The trace reads only ns0 and the cluster-scoped objects of the snapshot (src/sources/scoped-list.ts):
// one pass over cluster.json's 39 MB of bytes, 805 of its 70,105 items parsed. Measured with `--runs 5`
// on a 2-core machine with nothing else running (load average 1.5): 1.39 (714 ms, 990 ms); at load
// 3.6–6.1, 1.54–1.69. Reading the whole snapshot, it was 3.54 (649 ms, 2.30 s). After a quicker rule
// reader made the floor quicker too (load 1.3–1.5): 1.48 (610 ms, 903 ms).
import { join } from 'node:path';
import { generateTraceSnapshot, CLIENT_IP, NODE_IP } from '../gen/trace-snapshot.mjs';
import { dataDir, knet, measure } from '../lib.mjs';

const SERVICES = 10_000;
const ENDPOINTS = 5;
const dir = join(dataDir, `trace-snapshot-${SERVICES}x${ENDPOINTS}`);
// Service 5000 of benchServices: svc5000 in ns0, a ClusterIP in the middle of KUBE-SERVICES.
const CLUSTER_IP = `172.30.${(5000 >> 8) & 255}.${5000 & 255}`;
let rulesFile = '';

export default [
  {
    name: 'trace-10k',
    target: `knet trace on a ${SERVICES}-Service snapshot with node state in at most 1.5× knet rules trace on the same node dump`,
    runs: 5,
    async setup() {
      ({ rulesFile } = await generateTraceSnapshot(dir, { services: SERVICES, endpoints: ENDPOINTS }));
    },
    baseline: {
      name: 'knet rules trace (same dump)',
      run: () => measure(process.execPath, [knet, 'rules', 'trace', '--file', rulesFile, '--src', CLIENT_IP, '--dst', CLUSTER_IP, '--dport', '80', '--local-ip', NODE_IP, '--json']),
    },
    subject: {
      name: 'knet trace ns0/client svc/ns0/svc5000',
      run: () => measure(process.execPath, [knet, 'trace', 'ns0/client', 'svc/ns0/svc5000', '--snapshot', dir, '--json']),
    },
    limit: { ratio: 1.5 },
  },
  {
    // No limit: this says how much of the trace is reading the cluster at all. JSON.parse of the
    // snapshot's cluster.json alone is a floor no full read of the snapshot gets under; the scoped read
    // gets under it (0.95 in the run above).
    name: 'trace-10k-vs-parse',
    target: `knet trace on the same snapshot against a node process that only reads and JSON.parses its cluster.json (for reference: no limit)`,
    runs: 5,
    async setup() {
      ({ rulesFile } = await generateTraceSnapshot(dir, { services: SERVICES, endpoints: ENDPOINTS }));
    },
    baseline: {
      name: 'node: JSON.parse(cluster.json)',
      run: () => measure(process.execPath, ['-e', `JSON.parse(require('fs').readFileSync(${JSON.stringify(join(dir, 'cluster.json'))}, 'utf8'))`]),
    },
    subject: {
      name: 'knet trace ns0/client svc/ns0/svc5000',
      run: () => measure(process.execPath, [knet, 'trace', 'ns0/client', 'svc/ns0/svc5000', '--snapshot', dir, '--json']),
    },
  },
];
