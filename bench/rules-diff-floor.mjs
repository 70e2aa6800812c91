// A reference for the `rules-diff-10k` case, not part of knet: the least a Node program does to answer
// "are each Service port's ready endpoints the ones kube-proxy's rules send its ClusterIP to?" from the
// same two files. It reads and parses the API List, reads the dump once, keeps three facts of the rules
// it needs (KUBE-SERVICES `-d IP --dport PORT -j KUBE-SVC-…`, the KUBE-SVC ladders' `-j KUBE-SEP-…` with
// their probabilities, the KUBE-SEP DNAT addresses), compares address lists per Service port and writes
// a JSON report of every port. It leaves out everything else `rules diff` does: comments and chain
// hashes, NodePorts, external and load-balancer IPs, traffic policies, affinity, source ranges, REJECT
// and DROP rules, terminating endpoints, IPv6, malformed rules, missing chains and loops.
// Usage: node bench/rules-diff-floor.mjs SNAPSHOT-DIR NODE > report.json
import { readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const [dir, node] = process.argv.slice(2);
const api = JSON.parse(readFileSync(join(dir, 'api.json'), 'utf8'));
const text = readFileSync(join(dir, 'nodes', node, 'iptables-save.txt'), 'utf8');

/** The word after `flag` in text[from, to), or null. */
function after(flag, from, to) {
  const i = text.indexOf(flag, from);
  if (i < 0 || i >= to) return null;
  const start = i + flag.length;
  let end = text.indexOf(' ', start);
  if (end < 0 || end > to) end = to;
  return text.slice(start, end);
}

const entries = new Map(); // "IP:PORT" → KUBE-SVC chain
const ladders = new Map(); // KUBE-SVC chain → [{ probability, chain }]
const dnat = new Map(); // KUBE-SEP chain → "IP:PORT"
for (let pos = 0; pos < text.length; ) {
  let end = text.indexOf('\n', pos);
  if (end < 0) end = text.length;
  const start = pos;
  pos = end + 1;
  if (!text.startsWith('-A ', start)) continue;
  const nameEnd = text.indexOf(' ', start + 3);
  const chain = text.slice(start + 3, nameEnd);
  const target = after(' -j ', nameEnd, end);
  if (chain === 'KUBE-SERVICES') {
    const d = after(' -d ', nameEnd, end);
    const port = after(' --dport ', nameEnd, end);
    if (d !== null && port !== null && target !== null) entries.set(`${d.replace(/\/32$/, '')}:${port}`, target);
  } else if (chain.startsWith('KUBE-SVC-') && target !== null && target.startsWith('KUBE-SEP-')) {
    let ladder = ladders.get(chain);
    if (ladder === undefined) ladders.set(chain, (ladder = []));
    const p = after(' --probability ', nameEnd, end);
    ladder.push({ probability: p === null ? 1 : Number(p), chain: target });
  } else if (chain.startsWith('KUBE-SEP-') && target === 'DNAT') {
    dnat.set(chain, after(' --to-destination ', nameEnd, end));
  }
}

const slices = new Map(); // "ns/service" → EndpointSlices
for (const item of api.items) {
  if (item.kind !== 'EndpointSlice') continue;
  const key = `${item.metadata.namespace}/${item.metadata.labels['kubernetes.io/service-name']}`;
  let list = slices.get(key);
  if (list === undefined) slices.set(key, (list = []));
  list.push(item);
}

const services = [];
let drifted = 0;
for (const svc of api.items) {
  if (svc.kind !== 'Service') continue;
  const { namespace, name } = svc.metadata;
  for (const port of svc.spec.ports) {
    const wanted = [];
    for (const slice of slices.get(`${namespace}/${name}`) ?? []) {
      const target = slice.ports.find((p) => p.name === port.name)?.port;
      for (const e of slice.endpoints) if (e.conditions.ready) for (const a of e.addresses) wanted.push(`${a}:${target}`);
    }
    const ladder = ladders.get(entries.get(`${svc.spec.clusterIP}:${port.port}`)) ?? [];
    const have = ladder.map((step) => dnat.get(step.chain));
    const findings = [];
    const isSame = wanted.length === have.length && wanted.every((a, i) => a === have[i]);
    if (!isSame) {
      for (const a of wanted) if (!have.includes(a)) findings.push({ code: 'endpoint-not-programmed', severity: 'error', endpoint: a });
      for (const a of have) if (!wanted.includes(a)) findings.push({ code: 'stale-endpoint-rules', severity: 'error', endpoint: a });
    }
    if (findings.length > 0) drifted++;
    services.push({ namespace, name, port: port.port, portName: port.name ?? '', protocol: 'tcp', family: 4, status: findings.length ? 'drift' : 'in-sync', endpoints: { expected: wanted.length, programmed: have.length }, findings });
  }
}
const byCodeUnits = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
services.sort((a, b) => byCodeUnits(a.namespace, b.namespace) || byCodeUnits(a.name, b.name) || a.port - b.port);
const findings = services.flatMap((s) => s.findings);
const summary = { servicePorts: services.length, inSync: services.length - drifted, drifted, isInSync: findings.length === 0 };
writeSync(1, `${JSON.stringify({ node, mode: 'iptables', services, findings, summary }, null, 2)}\n`);
process.exitCode = findings.length > 0 ? 1 : 0;
