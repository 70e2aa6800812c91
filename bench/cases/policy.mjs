import { statSync } from 'node:fs';
import { join } from 'node:path';
import { generatePolicyCluster } from '../gen/policy-cluster.mjs';
import { dataDir, knet, measure } from '../lib.mjs';

const file = join(dataDir, 'policy-1000-pods-200-policies.json');
const matrix = (...format) => [knet, 'explain-policy', '--matrix', '-A', '--port', '80', ...format, '--snapshot', file];
const args = matrix('--json');

/** The matrix in another output format against --json: a fast --json must not hide a slow renderer. */
const formatCase = (format, ratio) => ({
  name: `policy-matrix-1000-${format}`,
  target: `the same matrix with -o ${format} ≤ ${ratio}× the same command with --json`,
  runs: 5,
  setup,
  baseline: { name: 'knet explain-policy --matrix -A --json', run: () => measure(process.execPath, args) },
  subject: { name: `knet explain-policy --matrix -A -o ${format}`, run: () => measure(process.execPath, matrix('-o', format)) },
  limit: { ratio },
});

async function setup() {
  await generatePolicyCluster(file, { namespaces: 50, podsPerNamespace: 20, policies: 200 });
  this.note = `file ${(statSync(file).size / 1024).toFixed(0)} KiB; 999,000 cells on stdout`;
}

export default [
  {
    name: 'policy-matrix-1000-vs-node',
    target: '`knet explain-policy --matrix -A --port 80 --json` on 1,000 pods in 50 namespaces with 200 NetworkPolicies ≤ 1 s end to end (baseline: `node -e 0`)',
    runs: 5,
    setup,
    baseline: { name: 'node -e 0', run: () => measure(process.execPath, ['-e', '0']) },
    subject: { name: 'knet explain-policy --matrix -A --json', run: () => measure(process.execPath, args) },
    limit: { seconds: 1 },
  },
  {
    name: 'policy-matrix-1000-vs-parse',
    target: 'the same run (≤ 1 s) against a node process that only reads and JSON.parses the snapshot',
    runs: 5,
    setup,
    baseline: { name: 'node: JSON.parse(file)', run: () => measure(process.execPath, ['-e', `JSON.parse(require('fs').readFileSync(${JSON.stringify(file)}, 'utf8'))`]) },
    subject: { name: 'knet explain-policy --matrix -A --json', run: () => measure(process.execPath, args) },
    limit: { seconds: 1 },
  },
  formatCase('yaml', 1.5),
  formatCase('table', 1.5),
  formatCase('dot', 2),
];
