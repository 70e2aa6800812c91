// The same 10,000 Services over 50,000 pods as endpoints.mjs, in the lean form (bench/gen/cluster-lean.mjs:
// only the fields a plain `kubectl get -o json` fills, no indentation), where parsing no longer hides
// what knet does after it: the table against --json, and --json against a process that only parses.
// Measured with `node --expose-gc bench/run.mjs endpoints-lean --runs 5`, other work running on the
// machine (load average 1.7–1.8): JSON.parse 1.07 s, --json 1.86 s (1.73×; 1.64× to 2.00× in six runs at
// load 0.6–2.1), peak RSS 252 MiB vs 165 MiB (1.52×); --json 1.96 s, table 2.10 s (1.07×). Before the
// per-Service diff was kept small for V8's compiler and the report written 50 entries at a time: 2.22×
// (load 1.3–1.7); before --json was streamed and the objects checked as parsed: 2.83×. In the README's
// session of every case (nothing else running, load 1.3–1.5): JSON.parse 1.08 s, --json 1.94 s (1.80×),
// 250 MiB (1.51×); the table 1.29× --json there, 1.09× and 1.13× in two runs of that case alone after it.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { generateLeanCluster } from '../gen/cluster-lean.mjs';
import { dataDir, knet, measure } from '../lib.mjs';

const file = join(dataDir, 'cluster-lean-10k-services-50k-pods.json');
async function setup() {
  await generateLeanCluster(file, { services: 10_000, pods: 50_000 });
  this.note = `lean file ${(statSync(file).size / 1024 / 1024).toFixed(0)} MiB`;
}
const endpoints = (...flags) => () => measure(process.execPath, [knet, 'endpoints', '-A', ...flags, '--snapshot', file], { okCodes: [0, 1] });

export default [
  {
    name: 'endpoints-table-lean',
    target: '`knet endpoints -A` (the table) on the lean 10,000-Service snapshot ≤ 1.3× the same command with --json',
    runs: 5,
    setup,
    baseline: { name: 'knet endpoints -A --json', run: endpoints('--json') },
    subject: { name: 'knet endpoints -A (table)', run: endpoints() },
    limit: { ratio: 1.3 },
  },
  {
    name: 'endpoints-yaml-lean',
    target: '`knet endpoints -A -o yaml` on the lean 10,000-Service snapshot ≤ 1.3× the same command with --json',
    runs: 5,
    setup,
    baseline: { name: 'knet endpoints -A --json', run: endpoints('--json') },
    subject: { name: 'knet endpoints -A -o yaml', run: endpoints('-o', 'yaml') },
    limit: { ratio: 1.3 },
  },
  {
    name: 'endpoints-lean',
    target: '`knet endpoints -A --json` on the lean 10,000-Service snapshot ≤ 2× JSON.parse of the file, peak RSS ≤ 2× that process',
    runs: 5,
    setup,
    baseline: {
      name: 'node: JSON.parse(file)',
      run: () => measure(process.execPath, ['-e', `JSON.parse(require('fs').readFileSync(${JSON.stringify(file)}, 'utf8'))`]),
    },
    subject: { name: 'knet endpoints -A --json', run: endpoints('--json') },
    limit: { ratio: 2, rssRatio: 2 },
  },
];
