// `knet rules trace` (read + simulate, the built CLI, one packet to one ClusterIP) on kube-proxy's
// nftables rules for 10,000 Services × 5 endpoints (60,000 chains, 10,000-element maps), as the kernel
// lists them, against reading the same ruleset's `nft -j list ruleset` dump with JSON.parse in a bare
// node process.
//
// Why that baseline: `nft -c -f` on the same listing in a fresh network namespace (the tool's own parse
// and check) took 3 min 46 s here, nearly all of it in the kernel validating 60,000 chains: a floor no
// reader of a dump faces, so a ratio against it would say nothing. JSON.parse of the JSON dump is the
// least any reader pays to hold the ruleset as data; knet pays it too on the JSON form, plus its own
// start (oclif, ~0.1 s), the tables, chains and sets (read up front: the walk needs every hook and the
// maps) and the walk, which parses only the chains the packet reaches.
// Limits: the JSON form ≤ 2× the baseline (the same JSON.parse, plus a linear pass over the same objects
// that allocates one chain per 3 of them); the text form (`nft list ruleset`, 14 MB against the JSON's
// 49 MB) ≤ 1.5× it.
import { join } from 'node:path';
import { generateNftDump, NODE_IP } from '../gen/nft-dump.mjs';
import { dataDir, hasCommand, knet, measure } from '../lib.mjs';

const SERVICES = 10_000;
const ENDPOINTS = 5;
const base = join(dataDir, `nft-${SERVICES}x${ENDPOINTS}`);
// Service 5000 of benchServices: a ClusterIP in the middle of the service-ips map.
const CLUSTER_IP = `172.30.${(5000 >> 8) & 255}.${5000 & 255}`;
let files = { text: '', json: '' };

const skip = () => (process.getuid?.() !== 0 ? "needs root to have the kernel list the generated rules (nft in a network namespace)" : !hasCommand('nft') ? 'nft is not installed' : '');
const setup = () => {
  files = generateNftDump(base, { services: SERVICES, endpoints: ENDPOINTS });
};
const baseline = {
  name: 'node: JSON.parse(nft -j dump)',
  run: () => measure(process.execPath, ['-e', `JSON.parse(require('fs').readFileSync(${JSON.stringify(files.json)}, 'utf8'))`]),
};
const trace = (file) => () => measure(process.execPath, [knet, 'rules', 'trace', '--file', file, '--src', '10.0.0.2', '--dst', CLUSTER_IP, '--dport', '80', '--local-ip', NODE_IP, '--json']);

export default [
  {
    name: 'nft-trace-10k-json',
    target: `knet rules trace on kube-proxy's nftables rules for ${SERVICES} Services × ${ENDPOINTS} endpoints (nft -j list ruleset, 49 MB) in no more than 2× a JSON.parse of the same dump`,
    runs: 5,
    skip,
    setup,
    baseline,
    subject: { name: 'knet rules trace (nft -j list ruleset)', run: () => trace(files.json)() },
    limit: { ratio: 2 },
  },
  {
    name: 'nft-trace-10k-text',
    target: `knet rules trace on the same rules as nft list ruleset prints them (14 MB) in no more than 1.5× a JSON.parse of the JSON dump`,
    runs: 5,
    skip,
    setup,
    baseline,
    subject: { name: 'knet rules trace (nft list ruleset)', run: () => trace(files.text)() },
    limit: { ratio: 1.5 },
  },
];
