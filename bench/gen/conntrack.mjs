// Writes a snapshot directory whose node `bench-node` has a `conntrack -L` capture of N entries,
// shaped like a busy node's table: TCP and UDP flows from pods to Service IPs (DNATed to endpoints),
// some UNREPLIED, some node-to-node; one pod IP (TARGET_IP) appears in 1 of every 1000 entries.
import { createWriteStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TARGET_IP = '10.244.7.77';

export async function generateConntrack(dir, { entries = 1_000_000 } = {}) {
  const nodeDir = join(dir, 'nodes', 'bench-node');
  const file = join(nodeDir, 'conntrack.txt');
  if (existsSync(file) && statSync(file).size > entries * 100) return file;
  mkdirSync(nodeDir, { recursive: true });
  writeFileSync(join(dir, 'knet-snapshot.yaml'), 'clusterDomain: cluster.local\nproxyMode: iptables\n');
  await writeLines(file, entries, (i) => {
    const a = (i >>> 8) & 255;
    const b = i & 255;
    const src = i % 1000 === 7 ? TARGET_IP : `10.244.${a}.${b}`;
    const svc = `10.96.${(i * 7) & 255}.${(i * 13) & 255}`;
    const ep = `10.244.${(i * 3) & 255}.${(i * 11) & 255}`;
    const sport = 1024 + (i % 60000);
    if (i % 3 === 0) {
      return `udp      17 ${i % 120} src=${src} dst=${svc} sport=${sport} dport=53 ${i % 9 === 0 ? '[UNREPLIED] ' : ''}src=${ep} dst=${src} sport=53 dport=${sport} mark=0 use=1`;
    }
    return `tcp      6 ${86400 - (i % 86400)} ESTABLISHED src=${src} dst=${svc} sport=${sport} dport=${80 + (i % 5)} src=${ep} dst=${src} sport=8080 dport=${sport} [ASSURED] mark=0 use=1`;
  });
  return file;
}

/**
 * A snapshot in which every one of N UDP entries is stale: kube-dns (10.96.0.10:53/udp) has one
 * endpoint, 10.244.0.2, and each entry was DNATed to another address, long gone. The worst case for
 * findings: before they were folded, each entry became one, and the command ran out of memory.
 */
export async function generateStaleConntrack(dir, { entries = 1_000_000 } = {}) {
  const nodeDir = join(dir, 'nodes', 'bench-node');
  const file = join(nodeDir, 'conntrack.txt');
  if (existsSync(file) && statSync(file).size > entries * 100) return file;
  mkdirSync(nodeDir, { recursive: true });
  writeFileSync(join(dir, 'knet-snapshot.yaml'), 'clusterDomain: cluster.local\nproxyMode: iptables\n');
  writeFileSync(
    join(dir, 'cluster.yaml'),
    `apiVersion: v1
kind: Service
metadata: { name: kube-dns, namespace: kube-system }
spec: { clusterIP: 10.96.0.10, ports: [ { name: dns, port: 53, protocol: UDP } ] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: kube-dns-1, namespace: kube-system, labels: { kubernetes.io/service-name: kube-dns } }
addressType: IPv4
endpoints: [ { addresses: [ 10.244.0.2 ], conditions: { ready: true } } ]
ports: [ { name: dns, port: 53, protocol: UDP } ]
`,
  );
  await writeLines(file, entries, (i) => {
    const src = `10.244.${(i >>> 8) & 255}.${i & 255}`;
    const gone = `10.244.${100 + ((i >>> 16) & 63)}.${(i >>> 8) & 255}`;
    const sport = 1024 + (i % 60000);
    return `udp      17 ${i % 120} src=${src} dst=10.96.0.10 sport=${sport} dport=53 src=${gone} dst=${src} sport=53 dport=${sport} mark=0 use=1`;
  });
  return file;
}

/** Writes `lineOf(0)` … `lineOf(count - 1)` to `file`, 10,000 lines per write, waiting when the stream is full. */
async function writeLines(file, count, lineOf) {
  const out = createWriteStream(file);
  let chunk = [];
  for (let i = 0; i < count; i++) {
    chunk.push(lineOf(i));
    if (chunk.length === 10_000) {
      if (!out.write(chunk.join('\n') + '\n')) await new Promise((r) => out.once('drain', r));
      chunk = [];
    }
  }
  if (chunk.length) out.write(chunk.join('\n') + '\n');
  await new Promise((r, j) => out.end((err) => (err ? j(err) : r())));
}
