// kube-proxy's nftables rules for the Services of benchServices (10,000 × 5 endpoints by default), as the
// kernel prints them back: the knftables transaction of kube-proxy-nft.mjs is loaded with `nft -f` into a
// network namespace made for it, then listed with `nft list ruleset` and `nft -j list ruleset`, so the
// benchmark reads exactly what `knet node nft` captures on a node. Needs root and nft; loading 60,000
// chains takes the kernel minutes (once: the files are kept in bench/.data).
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { benchServices } from '../generate-iptables.mjs';
import { generateKubeProxyNft, orderForNft } from './kube-proxy-nft.mjs';

export const NODE_IP = '192.168.0.2';

/** The Services of benchServices in the generator's shape (one TCP port 80 → 8080, every tenth a NodePort). */
export function benchNftServices(count, endpoints) {
  return benchServices(count, endpoints).map((s) => ({
    namespace: s.namespace,
    name: s.name,
    clusterIP: s.clusterIP,
    port: s.ports[0].port,
    portName: s.ports[0].name,
    targetPort: s.ports[0].targetPort,
    ...(s.ports[0].nodePort ? { nodePort: s.ports[0].nodePort } : {}),
    endpoints: s.endpoints,
  }));
}

/** Writes `<base>.txt` (nft list ruleset) and `<base>.json` (nft -j list ruleset) unless both exist. */
export function generateNftDump(base, { services = 10_000, endpoints = 5 } = {}) {
  const files = { text: `${base}.txt`, json: `${base}.json` };
  if (existsSync(files.text) && existsSync(files.json)) return files;
  const script = orderForNft(generateKubeProxyNft({ services: benchNftServices(services, endpoints), podCIDR: '10.0.0.0/8', serviceCIDR: '172.30.0.0/16', nodeIPs: [NODE_IP] }));
  const netns = `knet-bench-nftgen-${process.pid}`;
  const scriptFile = `${base}.nft`;
  writeFileSync(scriptFile, script);
  execFileSync('ip', ['netns', 'add', netns]);
  try {
    process.stderr.write(`  loading ${services} Services into nftables in namespace ${netns} (the kernel takes minutes, once)\n`);
    execFileSync('ip', ['netns', 'exec', netns, 'nft', '-f', scriptFile], { stdio: 'inherit' });
    for (const [kind, args] of [['text', ['list', 'ruleset']], ['json', ['-j', 'list', 'ruleset']]]) {
      const out = execFileSync('ip', ['netns', 'exec', netns, 'nft', ...args], { maxBuffer: 1 << 30 });
      writeFileSync(`${files[kind]}.tmp`, out);
      renameSync(`${files[kind]}.tmp`, files[kind]);
    }
  } finally {
    execFileSync('ip', ['netns', 'del', netns]);
  }
  return files;
}
