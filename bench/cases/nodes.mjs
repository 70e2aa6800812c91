// Live node reads at fleet width: `knet node iptables --all-nodes --concurrency 8` on 20 nodes beside
// the same command on one node, against the HTTPS test API server (test/support/api-server.ts) whose
// exec runs the commands for real in a network namespace loaded with the demo node's kube-proxy rules
// (test/support/exec.ts). Every node is a debug pod created, waited for, read over exec and deleted.
import { join } from 'node:path';
import { dataDir, knet, measure, root, startServerProcess } from '../lib.mjs';

const serverJs = join(dataDir, 'nodes-api-server.mjs');
let kubeconfig = '';
const NODES = 20;

function startServer() {
  return startServerProcess(
    serverJs,
    `import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSnapshot } from '../src/sources/snapshot.ts';
import { startTestApiServer } from '../test/support/api-server.ts';
import { netnsExec } from '../test/support/exec.ts';
import { NetnsLab } from '../test/support/netns.ts';
const demo = join(process.argv[2], 'examples/demo');
const { cluster } = await loadSnapshot(demo);
const template = cluster.nodes.find((n) => n.metadata.name === 'kind-worker');
cluster.nodes = Array.from({ length: ${NODES} }, (_, i) => ({ ...structuredClone(template), metadata: { ...template.metadata, name: 'node-' + String(i).padStart(2, '0') } }));
const lab = new NetnsLab('bench-nodes');
const ns = await lab.addNamespace('node');
await lab.must(ns, ['iptables-restore'], readFileSync(join(demo, 'nodes/kind-worker/iptables-save.txt'), 'utf8'));
const server = await startTestApiServer({ cluster, subresources: { exec: netnsExec({ namespaceFor: () => ns }) } });
process.stdout.write(JSON.stringify({ kubeconfig: await server.writeKubeconfig() }) + '\\n');
process.on('SIGTERM', () => Promise.all([server.close(), lab.cleanup()]).then(() => process.exit(0)));`,
    [root],
    // test/support/needs.ts (re-exported by netns.ts) is for vitest only; the server needs none of it.
    { plugins: [{ name: 'no-vitest', setup: (b) => b.onResolve({ filter: /\/needs\.js$/ }, () => ({ path: 'needs', namespace: 'stub' })) || b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export const isRoot = true;', loader: 'js' })) }] },
  );
}

export default [
  {
    name: 'live-nodes-20',
    target: '`knet node iptables --all-nodes --concurrency 8` on 20 nodes (a debug pod each, read over exec) ≤ 3.5× the same on one node',
    runs: 5,
    skip: () => (typeof process.getuid === 'function' && process.getuid() === 0 ? '' : 'needs root for the network namespace the exec runs commands in'),
    async setup() {
      kubeconfig = await startServer();
      this.note = 'the test API server and the commands it runs share the machine with knet';
    },
    baseline: {
      name: 'knet node iptables node-00 --json (one node)',
      run: () => measure(process.execPath, [knet, 'node', 'iptables', 'node-00', '--json', '--kubeconfig', kubeconfig]),
    },
    subject: {
      name: 'knet node iptables --all-nodes --concurrency 8 --json (20 nodes)',
      run: () => measure(process.execPath, [knet, 'node', 'iptables', '--all-nodes', '--concurrency', '8', '--json', '--kubeconfig', kubeconfig]),
    },
    limit: { ratio: 3.5 },
  },
];
