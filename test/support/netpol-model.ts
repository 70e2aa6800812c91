// The model of the Kubernetes e2e NetworkPolicy suite (test/e2e/network/netpol in kubernetes/kubernetes:
// model.go, reachability.go, truthtable.go): namespaces x, y, z labelled `ns=<name>` and
// `kubernetes.io/metadata.name=<name>`; pods a, b, c labelled `pod=<name>`; one container per port and
// protocol serving 80 and 81 on TCP, UDP and SCTP with named ports `serve-80-tcp`, `serve-81-udp` …
import { emptyCluster, type Cluster } from '../../src/model/cluster.js';
import type { LabelSelector, Namespace, NetworkPolicy, Node, Pod, Protocol } from '../../src/model/k8s.js';

export const NAMESPACES = ['x', 'y', 'z'] as const;
export const PODS = ['a', 'b', 'c'] as const;
export const PORTS = [80, 81] as const;
export const PROTOCOLS: Protocol[] = ['TCP', 'UDP', 'SCTP'];
export const NODE = 'kind-worker';
export const NODE_IP = '172.18.0.3';

/** x/a is 10.244.1.11, x/b 10.244.1.12 … z/c 10.244.1.33: stable, so that ipBlock cases can name them. */
export function podIP(ns: string, pod: string): string {
  return `10.244.1.${(NAMESPACES.indexOf(ns as 'x') + 1) * 10 + PODS.indexOf(pod as 'a') + 1}`;
}

export function buildModelPod(ns: string, name: string, extraLabels: Record<string, string> = {}): Pod {
  const ip = podIP(ns, name);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { pod: name, ...extraLabels } },
    spec: {
      nodeName: NODE,
      containers: PORTS.flatMap((port) =>
        PROTOCOLS.map((protocol) => ({
          name: `cont-${port}-${protocol.toLowerCase()}`,
          image: 'registry.k8s.io/e2e-test-images/agnhost:2.47',
          ports: [{ name: `serve-${port}-${protocol.toLowerCase()}`, containerPort: port, protocol }],
        })),
      ),
    },
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: NODE_IP,
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

export interface ModelOptions {
  /** Extra labels per namespace, e.g. { y: { ns2: 'updated' } } ("should allow ingress access from updated namespace"). */
  namespaceLabels?: Record<string, Record<string, string>>;
  /** Extra labels per pod `ns/pod`. */
  podLabels?: Record<string, Record<string, string>>;
}

export function buildModel(policies: NetworkPolicy[] = [], options: ModelOptions = {}): Cluster {
  const cluster = emptyCluster();
  const node: Node = {
    kind: 'Node',
    metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } },
    status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] },
  };
  cluster.nodes.push(node);
  for (const ns of NAMESPACES) {
    const namespace: Namespace = {
      kind: 'Namespace',
      metadata: { name: ns, labels: { ns, 'kubernetes.io/metadata.name': ns, ...(options.namespaceLabels?.[ns] ?? {}) } },
    };
    cluster.namespaces.push(namespace);
    for (const pod of PODS) cluster.pods.push(buildModelPod(ns, pod, options.podLabels?.[`${ns}/${pod}`]));
  }
  cluster.networkPolicies.push(...policies);
  return cluster;
}

export function allPodStrings(): string[] {
  return NAMESPACES.flatMap((ns) => PODS.map((p) => `${ns}/${p}`));
}

/** A peer pattern as upstream's `Peer{Namespace, Pod}`: empty fields match everything. */
export interface Peer {
  namespace?: string;
  pod?: string;
}

function peerMatches(peer: Peer, podString: string): boolean {
  const [ns, pod] = podString.split('/');
  return (peer.namespace === undefined || peer.namespace === ns) && (peer.pod === undefined || peer.pod === pod);
}

/** Upstream's Reachability: an expected truth table, every pair starting at `defaultExpect`. */
export class Reachability {
  readonly expected = new Map<string, boolean>();

  constructor(
    readonly pods: string[] = allPodStrings(),
    defaultExpect = true,
  ) {
    for (const from of pods) for (const to of pods) this.expected.set(`${from}>${to}`, defaultExpect);
  }

  expect(from: string, to: string, isConnected: boolean): this {
    this.expected.set(`${from}>${to}`, isConnected);
    return this;
  }

  expectPeer(from: Peer, to: Peer, isConnected: boolean): this {
    for (const f of this.pods) for (const t of this.pods) if (peerMatches(from, f) && peerMatches(to, t)) this.expect(f, t, isConnected);
    return this;
  }

  expectAllIngress(pod: string, isConnected: boolean): this {
    for (const f of this.pods) this.expect(f, pod, isConnected);
    return this;
  }

  expectAllEgress(pod: string, isConnected: boolean): this {
    for (const t of this.pods) this.expect(pod, t, isConnected);
    return this;
  }

  /** The table without loopback pairs: upstream ignores them (kubernetes/kubernetes#95879), and so does knet. */
  table(): Record<string, boolean> {
    const out: Record<string, boolean> = {};
    for (const [k, v] of this.expected) {
      const [from, to] = k.split('>');
      if (from !== to) out[k] = v;
    }
    return out;
  }
}

type PolicySpec = NonNullable<NetworkPolicy['spec']>;

/** Upstream's GenNetworkPolicyWithNameAndPodSelector + SetSpec*Rules, as a plain object. */
export function buildPolicy(namespace: string, name: string, podSelector: LabelSelector, spec: Omit<PolicySpec, 'podSelector'> = {}): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec: { podSelector, ...spec } };
}

export const podLabel = (pod: string): LabelSelector => ({ matchLabels: { pod } });
export const nsLabel = (ns: string): LabelSelector => ({ matchLabels: { 'kubernetes.io/metadata.name': ns } });
