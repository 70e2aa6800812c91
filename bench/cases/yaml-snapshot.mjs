// The lean 10,000-Service snapshot written as `kubectl get -o yaml` writes it (block style, sequences at
// their key's indentation), read by `knet endpoints -A --json`, against the same command on the JSON file.
// YAML has no native parser: knet reads this form itself (src/sources/yaml-fast.ts), where the yaml
// package took 46 s and 2 GB for a 40 MB file (5,000 Services over 10,000 pods) and 2.5 s now.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateLeanCluster } from '../gen/cluster-lean.mjs';
import { dataDir, knet, measure } from '../lib.mjs';

const json = join(dataDir, 'cluster-lean-10k-services-50k-pods.json');
const yaml = join(dataDir, 'cluster-lean-10k-services-50k-pods.yaml');
const endpoints = (file) => () => measure(process.execPath, [knet, 'endpoints', '-A', '--json', '--snapshot', file], { okCodes: [0, 1] });

export default [
  {
    name: 'yaml-snapshot-lean',
    target: '`knet endpoints -A --json` on the lean 10,000-Service snapshot as kubectl writes YAML ≤ 2.5× the same on its JSON',
    runs: 5,
    async setup() {
      await generateLeanCluster(json, { services: 10_000, pods: 50_000 });
      // Written once by the yaml package (about 30 s), kept with the other generated inputs.
      if (!existsSync(yaml)) writeFileSync(yaml, stringify(JSON.parse(readFileSync(json, 'utf8')), { lineWidth: 0, indentSeq: false }));
      this.note = `YAML ${(statSync(yaml).size / 1024 / 1024).toFixed(0)} MiB, JSON ${(statSync(json).size / 1024 / 1024).toFixed(0)} MiB`;
    },
    baseline: { name: 'knet endpoints -A --json (JSON file)', run: endpoints(json) },
    subject: { name: 'knet endpoints -A --json (YAML file)', run: endpoints(yaml) },
    limit: { ratio: 2.5 },
  },
];
