// The live path against the HTTPS test API server (test/support/api-server.ts, the same one the tests
// use), run in a process of its own, serving the generated 10,000-service / 50,000-pod cluster in pages
// of 500: what reading a big cluster over the API costs next to reading the same objects from a file.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCluster } from '../gen/cluster.mjs';
import { dataDir, knet, measure, startServerProcess } from '../lib.mjs';

const file = join(dataDir, 'cluster-10k-services-50k-pods.json');
const serverJs = join(dataDir, 'live-api-server.mjs');
let kubeconfig = '';

function startServer() {
  return startServerProcess(
    serverJs,
    `import { startTestApiServer } from '../test/support/api-server.ts';
const server = await startTestApiServer({ snapshot: process.argv[2] });
process.stdout.write(JSON.stringify({ kubeconfig: await server.writeKubeconfig() }) + '\\n');
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));`,
    [file],
  );
}

/** The cluster file and the server serving it, started once for every case here. */
async function serveCluster() {
  await generateCluster(file, { services: 10_000, pods: 50_000 });
  kubeconfig ||= await startServer();
}

/** `knet endpoints -A --json` live: the subject of the first case, the baseline of the second. */
const liveEndpoints = {
  name: 'knet endpoints -A --json --kubeconfig (live)',
  run: () => measure(process.execPath, [knet, 'endpoints', '-A', '--json', '--kubeconfig', kubeconfig], { okCodes: [0, 1] }),
};

export default [
  {
    name: 'live-endpoints-10k',
    target: '`knet endpoints -A --json` live (HTTPS, paged by 500) on 10,000 services / 50,000 pods ≤ 2× the same from a snapshot file',
    runs: 5,
    async setup() {
      await serveCluster();
      this.note = 'the test API server runs on the same machine and its CPU time counts against the live run';
    },
    baseline: {
      name: 'knet endpoints -A --json --snapshot FILE',
      run: () => measure(process.execPath, [knet, 'endpoints', '-A', '--json', '--snapshot', file], { okCodes: [0, 1] }),
    },
    subject: liveEndpoints,
    limit: { ratio: 2 },
  },
  {
    name: 'live-snapshot-save-10k',
    target: '`knet snapshot save DIR` live on 10,000 services / 50,000 pods (about 170 MB of YAML) ≤ 4× `knet endpoints -A --json` live',
    runs: 3,
    async setup() {
      await serveCluster();
      this.note = 'save reads every object and writes it as YAML, endpoints writes a report; the yaml package took 75 s for the save';
    },
    baseline: liveEndpoints,
    subject: {
      name: 'knet snapshot save DIR --kubeconfig (live)',
      run: () => {
        const dir = join(tmpdir(), 'knet-bench-snapshot-save');
        rmSync(dir, { recursive: true, force: true });
        return measure(process.execPath, [knet, 'snapshot', 'save', dir, '--kubeconfig', kubeconfig]);
      },
    },
    limit: { ratio: 4 },
  },
];
