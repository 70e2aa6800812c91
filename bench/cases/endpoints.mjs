import { statSync } from 'node:fs';
import { join } from 'node:path';
import { generateCluster } from '../gen/cluster.mjs';
import { dataDir, knet, measure } from '../lib.mjs';

const file = join(dataDir, 'cluster-10k-services-50k-pods.json');
let sizeMiB = 0;

export default [
  {
    name: 'endpoints-10k',
    target: '`knet endpoints -A --json` on 10,000 services / 50,000 pods (one JSON List) ≤ 2× JSON.parse of the file, memory ≤ 4× its size',
    runs: 5,
    async setup() {
      await generateCluster(file, { services: 10_000, pods: 50_000 });
      sizeMiB = statSync(file).size / 1024 / 1024;
      this.limit.rssMiB = 4 * sizeMiB;
      this.note = `file ${sizeMiB.toFixed(0)} MiB; the baseline is a node process that reads and JSON.parses it`;
    },
    baseline: {
      name: 'node: JSON.parse(file)',
      run: () => measure(process.execPath, ['-e', `JSON.parse(require('fs').readFileSync(${JSON.stringify(file)}, 'utf8'))`]),
    },
    subject: {
      name: 'knet endpoints -A --json',
      run: () => measure(process.execPath, [knet, 'endpoints', '-A', '--json', '--snapshot', file], { okCodes: [0, 1] }),
    },
    limit: { ratio: 2 },
  },
];
