// `knet rules trace` (parse + simulate, the built CLI, one packet to one ClusterIP) against
// `iptables-restore --test` on the same generated kube-proxy dump of 10,000 Services × 5 endpoints
// (≥ 100,000 rules). Target: ratio ≤ 1.0. The baseline only parses (--test commits nothing) and runs
// inside a network namespace made for it, so the host's rules are never touched.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchServices, generateKubeProxyIptables } from '../generate-iptables.mjs';
import { dataDir, hasCommand, knet, measure } from '../lib.mjs';

const SERVICES = 10_000;
const ENDPOINTS = 5;
const file = join(dataDir, `iptables-${SERVICES}x${ENDPOINTS}.txt`);
const netns = `knet-bench-ipt-${process.pid}`;
// Service 5000 of benchServices: a ClusterIP in the middle of KUBE-SERVICES.
const CLUSTER_IP = `172.30.${(5000 >> 8) & 255}.${5000 & 255}`;

function removeNamespace() {
  try {
    execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

export default [
  {
    name: 'iptables-trace-10k',
    target: `knet rules trace on ${SERVICES} Services × ${ENDPOINTS} endpoints (≥ 100,000 rules) in no more than 0.3× the time of iptables-restore --test (234,000 lines)`,
    runs: 5,
    skip: () => (process.getuid?.() !== 0 ? 'needs root for the baseline\'s network namespace' : !hasCommand('iptables-restore') ? 'iptables-restore is not installed' : ''),
    async setup() {
      if (!existsSync(file)) writeFileSync(file, generateKubeProxyIptables({ services: benchServices(SERVICES, ENDPOINTS) }));
      removeNamespace();
      execFileSync('ip', ['netns', 'add', netns]);
      process.once('exit', removeNamespace);
    },
    baseline: {
      name: 'iptables-restore --test',
      run: () => measure('ip', ['netns', 'exec', netns, 'iptables-restore', '--test', file]),
    },
    subject: {
      name: 'knet rules trace',
      run: () => measure(process.execPath, [knet, 'rules', 'trace', '--file', file, '--src', '10.0.0.2', '--dst', CLUSTER_IP, '--dport', '80', '--local-ip', '192.168.0.2', '--json']),
    },
    limit: { ratio: 0.3 },
  },
];
