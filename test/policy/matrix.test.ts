// The compiled matrix against the explaining evaluator on random clusters: every feature (selectors with
// all operators, namespace/pod ANDs, ipBlocks with except, named ports on both sides, endPort, protocols,
// policyTypes defaulting, hostNetwork pods, admin policies) mixed, every pair and port compared.
import { describe, expect, it } from 'vitest';
import { emptyCluster, type Cluster } from '../../src/model/cluster.js';
import type { AdminNetworkPolicy, LabelSelector, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Pod, Protocol } from '../../src/model/k8s.js';
import { buildPolicyEngine, evaluateConnection } from '../../src/policy/evaluate.js';
import { evaluateMatrix, matrixCells, computeMatrix } from '../../src/policy/matrix.js';
import { random } from '../support/random.js';

const protocols: Protocol[] = ['TCP', 'UDP', 'SCTP'];

function buildRandomCluster(seed: number): Cluster {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const cluster = emptyCluster();
  const namespaces = ['n1', 'n2', 'n3'];
  for (const ns of namespaces) cluster.namespaces.push({ kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns, ...(rnd() < 0.5 ? { env: pick(['prod', 'dev']) } : {}) } } });
  cluster.nodes.push({ kind: 'Node', metadata: { name: 'w1', labels: { zone: 'a' } }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.3' }] } });
  cluster.nodes.push({ kind: 'Node', metadata: { name: 'w2', labels: { zone: 'b' } }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.4' }] } });
  for (let i = 0; i < 14; i++) {
    const ns = pick(namespaces);
    const node = pick(['w1', 'w2']);
    const isHost = rnd() < 0.1;
    const ip = isHost ? (node === 'w1' ? '172.18.0.3' : '172.18.0.4') : `10.244.${node === 'w1' ? 1 : 2}.${10 + i}`;
    const labels: Record<string, string> = { app: pick(['web', 'api', 'db']) };
    if (rnd() < 0.5) labels.tier = pick(['front', 'back']);
    const pod: Pod = {
      kind: 'Pod',
      metadata: { name: `p${i}`, namespace: ns, labels },
      spec: {
        nodeName: node,
        ...(isHost ? { hostNetwork: true } : {}),
        containers: [{ name: 'c', ports: [{ name: 'http', containerPort: pick([80, 81, 8080]), protocol: pick(protocols) }, { name: 'alt', containerPort: 81 }] }],
      },
      status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: node === 'w1' ? '172.18.0.3' : '172.18.0.4' },
    };
    cluster.pods.push(pod);
  }
  const selector = (): LabelSelector => {
    const r = rnd();
    if (r < 0.2) return {};
    if (r < 0.5) return { matchLabels: { app: pick(['web', 'api', 'db']) } };
    const operator = pick(['In', 'NotIn', 'Exists', 'DoesNotExist']);
    const key = pick(['app', 'tier', 'env', 'kubernetes.io/metadata.name']);
    const values = operator === 'In' || operator === 'NotIn' ? [pick(['web', 'api', 'front', 'prod', 'n1', 'n2'])] : undefined;
    return { matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] };
  };
  const peer = (): NetworkPolicyPeer => {
    const r = rnd();
    if (r < 0.3) return { podSelector: selector() };
    if (r < 0.5) return { namespaceSelector: selector() };
    if (r < 0.75) return { podSelector: selector(), namespaceSelector: selector() };
    return { ipBlock: { cidr: pick(['10.244.0.0/16', '10.244.1.0/24', '172.18.0.0/16', '0.0.0.0/0']), ...(rnd() < 0.5 ? { except: [pick(['10.244.1.0/25', '10.244.2.16/28', '172.18.0.3/32'])] } : {}) } };
  };
  const port = (): NetworkPolicyPort => {
    const r = rnd();
    const protocol = rnd() < 0.7 ? pick(protocols) : undefined;
    const base = protocol ? { protocol } : {};
    if (r < 0.25) return base;
    if (r < 0.5) return { ...base, port: pick([80, 81, 8080]) };
    if (r < 0.7) return { ...base, port: 80, endPort: pick([80, 81, 9000]) };
    return { ...base, port: pick(['http', 'alt', 'nope']) };
  };
  const rules = <K extends 'from' | 'to'>(key: K) =>
    Array.from({ length: Math.floor(rnd() * 3) }, () => ({
      ...(rnd() < 0.8 ? { [key]: Array.from({ length: 1 + Math.floor(rnd() * 2) }, peer) } : {}),
      ...(rnd() < 0.7 ? { ports: Array.from({ length: 1 + Math.floor(rnd() * 2) }, port) } : {}),
    })) as ({ from?: NetworkPolicyPeer[]; to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] })[];
  for (let k = 0; k < 12; k++) {
    const types = pick([undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']] as const);
    const np: NetworkPolicy = {
      kind: 'NetworkPolicy',
      metadata: { name: `np${k}`, namespace: pick(namespaces) },
      spec: {
        podSelector: selector(),
        ...(types ? { policyTypes: [...types] } : {}),
        ...(rnd() < 0.8 ? { ingress: rules('from') } : {}),
        ...(rnd() < 0.6 ? { egress: rules('to') } : {}),
      },
    };
    cluster.networkPolicies.push(np);
  }
  if (seed % 2 === 0) {
    const anp: AdminNetworkPolicy = {
      kind: 'AdminNetworkPolicy',
      metadata: { name: 'anp' },
      spec: {
        priority: 5,
        subject: { namespaces: selector() },
        ingress: [{ action: pick(['Allow', 'Deny', 'Pass']), from: [{ pods: { namespaceSelector: selector(), podSelector: selector() } }], ports: [{ portNumber: { port: 80, protocol: 'TCP' } }] }],
        egress: [{ action: pick(['Allow', 'Deny', 'Pass']), to: [pick([{ networks: ['10.244.1.0/24'] }, { nodes: { matchLabels: { zone: 'a' } } }, { namespaces: selector() }])] }],
      },
    };
    const banp: AdminNetworkPolicy = {
      kind: 'BaselineAdminNetworkPolicy',
      metadata: { name: 'default' },
      spec: { subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: selector() }], ports: [{ namedPort: 'http' }] }], egress: [{ action: pick(['Allow', 'Deny']), to: [{ namespaces: selector() }], ports: [{ portRange: { start: 80, end: 81 } }] }] },
    };
    cluster.adminNetworkPolicies.push(anp);
    cluster.baselineAdminNetworkPolicies.push(banp);
  }
  return cluster;
}

describe('the compiled matrix agrees with the explaining evaluator', () => {
  const seeds = Array.from({ length: 40 }, (_, i) => i + 1);
  it.each(seeds)('random cluster, seed %i', (seed) => {
    const cluster = buildRandomCluster(seed);
    const engine = buildPolicyEngine(cluster);
    const ports = [80, 81, 8080].flatMap((port) => protocols.map((protocol) => ({ port, protocol })));
    const m = evaluateMatrix(cluster, { pods: cluster.pods, ports }, { engine });
    const mismatches: string[] = [];
    for (const c of m.cells) {
      const [s, d] = [c.from, c.to].map((name) => cluster.pods.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === name)!);
      const v = evaluateConnection(cluster, { source: { kind: 'pod', pod: s! }, destination: { kind: 'pod', pod: d! }, port: c.port, protocol: c.protocol }, { engine });
      if (v.allowed !== c.allowed) mismatches.push(`${c.from} → ${c.to} ${c.protocol}/${c.port}: matrix ${c.allowed}, evaluator ${v.allowed}`);
    }
    expect(mismatches).toEqual([]);
    // Something must be denied and something allowed, or the comparison proves little.
    expect(new Set(m.cells.map((c) => c.allowed)).size).toBeGreaterThan(seed % 7 === 0 ? 0 : 1);
  });

  it('expands the compact form into the same cells, diagonal left out', () => {
    const cluster = buildRandomCluster(3);
    const compact = computeMatrix(cluster, { pods: cluster.pods, ports: [{ port: 80, protocol: 'TCP' }] });
    const cells = matrixCells(compact);
    const n = cluster.pods.length;
    expect(cells).toHaveLength(n * (n - 1));
    expect(cells.every((c) => c.from !== c.to)).toBe(true);
    expect(compact.allowed[0]!.length).toBe(n * n);
  });
});
