// The Kubernetes e2e NetworkPolicy suite (test/e2e/network/netpol/network_policy.go in kubernetes/kubernetes),
// encoded as full truth tables over the 9 pods of its model (x, y, z × a, b, c; see test/support/netpol-model.ts).
// Each case names the upstream `It(...)` it encodes; expectations are written with upstream's own helpers
// (ExpectPeer, ExpectAllIngress, …). Every table is checked twice: through evaluateMatrix() and through
// evaluateConnection() pair by pair, so the fast path and the explaining path are held to the same truth.
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../src/model/cluster.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Protocol } from '../../src/model/k8s.js';
import { buildPolicyEngine, evaluateConnection } from '../../src/policy/evaluate.js';
import { evaluateMatrix } from '../../src/policy/matrix.js';
import { Reachability, buildModel, buildPolicy, nsLabel, podIP, podLabel, type ModelOptions } from '../support/netpol-model.js';

type Ingress = { from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] };
type Egress = { to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] };

/** Upstream's SetSpecIngressRules: sets the rules and appends Ingress to policyTypes. */
const ingressRules = (...rules: Ingress[]) => ({ policyTypes: ['Ingress' as const], ingress: rules });
const egressRules = (...rules: Egress[]) => ({ policyTypes: ['Egress' as const], egress: rules });
const bothRules = (ingress: Ingress[], egress: Egress[]) => ({ policyTypes: ['Ingress' as const, 'Egress' as const], ingress, egress });
const tcp = (port: number | string): NetworkPolicyPort => ({ port, protocol: 'TCP' });
const notInX = { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['x'] }] };

interface Probe {
  port: number;
  protocol: Protocol;
  reachability: Reachability;
}

interface Case {
  upstream: string;
  policies: NetworkPolicy[];
  model?: ModelOptions;
  probes: Probe[];
}

const R = () => new Reachability();
const p = (port: number, reachability: Reachability, protocol: Protocol = 'TCP'): Probe => ({ port, protocol, reachability });

const cases: Case[] = [
  {
    upstream: "should support a 'default-deny-ingress' policy",
    policies: [buildPolicy('x', 'deny-ingress', {}, ingressRules())],
    probes: [p(80, R().expectPeer({}, { namespace: 'x' }, false))],
  },
  {
    upstream: "should support a 'default-deny-all' policy",
    policies: [buildPolicy('x', 'deny-all', {}, bothRules([], []))],
    probes: [p(80, R().expectPeer({}, { namespace: 'x' }, false).expectPeer({ namespace: 'x' }, {}, false))],
  },
  {
    upstream: 'should enforce policy to allow traffic from pods within server namespace based on PodSelector',
    policies: [buildPolicy('x', 'x-a-allows-x-b', podLabel('a'), ingressRules({ from: [{ podSelector: podLabel('b') }] }))],
    probes: [p(80, R().expectAllIngress('x/a', false).expect('x/b', 'x/a', true))],
  },
  {
    upstream: 'should enforce policy to allow ingress traffic for a target',
    policies: [
      buildPolicy('x', 'deny-all', {}, ingressRules()),
      buildPolicy('x', 'allow-all-to-a', podLabel('a'), ingressRules({ from: [{ podSelector: {}, namespaceSelector: {} }] })),
    ],
    probes: [p(80, R().expectPeer({}, { namespace: 'x' }, false).expectAllIngress('x/a', true))],
  },
  {
    upstream: 'should enforce policy to allow ingress traffic from pods in all namespaces',
    policies: [buildPolicy('x', 'allow-from-another-ns', podLabel('a'), ingressRules({ from: [{ namespaceSelector: { matchLabels: {} } }] }))],
    probes: [p(80, R())],
  },
  {
    upstream: 'should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector',
    policies: [buildPolicy('x', 'allow-client-a-via-ns-selector', podLabel('a'), ingressRules({ from: [{ namespaceSelector: nsLabel('y') }] }))],
    probes: [p(80, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false))],
  },
  {
    upstream: 'should enforce policy based on PodSelector with MatchExpressions',
    policies: [buildPolicy('x', 'x-a-allows-x-b', podLabel('a'), ingressRules({ from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] } }] }))],
    probes: [p(80, R().expectAllIngress('x/a', false).expect('x/b', 'x/a', true))],
  },
  {
    upstream: 'should enforce policy based on NamespaceSelector with MatchExpressions',
    policies: [
      buildPolicy('x', 'allow-ns-y-match-selector', podLabel('a'), ingressRules({ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['y'] }] } }] })),
    ],
    probes: [p(80, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false))],
  },
  {
    upstream: 'should enforce policy based on PodSelector or NamespaceSelector',
    policies: [buildPolicy('x', 'allow-ns-y-match-selector', podLabel('a'), ingressRules({ from: [{ namespaceSelector: notInX }, { podSelector: podLabel('b') }] }))],
    probes: [p(80, R().expect('x/a', 'x/a', false).expect('x/c', 'x/a', false))],
  },
  {
    upstream: 'should enforce policy based on PodSelector and NamespaceSelector',
    policies: [buildPolicy('x', 'allow-ns-y-podselector-and-nsselector', podLabel('a'), ingressRules({ from: [{ namespaceSelector: notInX, podSelector: podLabel('b') }] }))],
    probes: [p(80, R().expectAllIngress('x/a', false).expect('y/b', 'x/a', true).expect('z/b', 'x/a', true))],
  },
  {
    upstream: 'should enforce policy based on Multiple PodSelectors and NamespaceSelectors',
    policies: [
      buildPolicy('x', 'allow-ns-y-z-pod-b-c', podLabel('a'), ingressRules({ from: [{ namespaceSelector: notInX, podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] } }] })),
    ],
    probes: [p(80, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expect('y/a', 'x/a', false).expect('z/a', 'x/a', false))],
  },
  {
    upstream: 'should enforce policy based on any PodSelectors',
    policies: [buildPolicy('x', 'allow-ns-x-pod-b-c', podLabel('a'), ingressRules({ from: [{ podSelector: podLabel('b') }, { podSelector: podLabel('c') }] }))],
    probes: [p(80, R().expectAllIngress('x/a', false).expect('x/b', 'x/a', true).expect('x/c', 'x/a', true))],
  },
  {
    upstream: 'should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector',
    policies: [buildPolicy('x', 'allow-ns-y-pod-a-via-namespace-pod-selector', podLabel('a'), ingressRules({ from: [{ namespaceSelector: nsLabel('y'), podSelector: podLabel('a') }] }))],
    probes: [p(80, R().expectAllIngress('x/a', false).expect('y/a', 'x/a', true))],
  },
  {
    upstream: 'should enforce policy based on Ports',
    policies: [buildPolicy('x', 'allow-client-a-via-ns-selector', podLabel('a'), ingressRules({ from: [{ namespaceSelector: nsLabel('y') }], ports: [tcp(81)] }))],
    probes: [
      p(81, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'y' }, { namespace: 'x', pod: 'a' }, true).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false)),
      p(80, R().expectAllIngress('x/a', false)),
    ],
  },
  {
    upstream: 'should enforce multiple, stacked policies with overlapping podSelectors',
    policies: [
      buildPolicy('x', 'allow-client-a-via-ns-selector', podLabel('a'), ingressRules({ from: [{ namespaceSelector: nsLabel('y') }], ports: [tcp(81)] })),
      buildPolicy('x', 'allow-client-a-via-ns-selector-80', podLabel('a'), ingressRules({ from: [{ namespaceSelector: nsLabel('y') }], ports: [tcp(80)] })),
    ],
    probes: [80, 81].map((port) => p(port, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false))),
  },
  {
    upstream: 'should support allow-all policy',
    policies: [buildPolicy('x', 'allow-all', {}, ingressRules({}))],
    probes: [p(80, R()), p(81, R())],
  },
  {
    upstream: 'should allow ingress access on one named port',
    policies: [buildPolicy('x', 'allow-all', {}, ingressRules({ ports: [{ port: 'serve-81-tcp' }] }))],
    probes: [p(81, R()), p(80, R().expectPeer({}, { namespace: 'x' }, false))],
  },
  {
    upstream: 'should allow ingress access from namespace on one named port',
    policies: [buildPolicy('x', 'allow-client-a-via-ns-selector-80', podLabel('a'), ingressRules({ from: [{ namespaceSelector: nsLabel('y') }], ports: [tcp('serve-80-tcp')] }))],
    probes: [
      p(80, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false)),
      p(81, R().expectAllIngress('x/a', false)),
    ],
  },
  {
    upstream: 'should allow egress access on one named port',
    policies: [buildPolicy('x', 'allow-egress', {}, egressRules({ ports: [{ port: 'serve-80-tcp' }] }))],
    probes: [p(80, R()), p(81, R().expectPeer({ namespace: 'x' }, {}, false))],
  },
  {
    upstream: 'should enforce updated policy (after the update to deny all)',
    policies: [buildPolicy('x', 'allow-all-mutate-to-deny-all', {}, ingressRules())],
    probes: [p(81, R().expectPeer({}, { namespace: 'x' }, false))],
  },
  {
    upstream: 'should allow ingress access from updated namespace (before the label is added)',
    policies: [buildPolicy('x', 'allow-client-a-via-ns-selector', podLabel('a'), ingressRules({ from: [{ namespaceSelector: { matchLabels: { ns2: 'updated' } } }] }))],
    probes: [p(80, R().expectAllIngress('x/a', false))],
  },
  {
    upstream: 'should allow ingress access from updated namespace (after ns2=updated is added to y)',
    policies: [buildPolicy('x', 'allow-client-a-via-ns-selector', podLabel('a'), ingressRules({ from: [{ namespaceSelector: { matchLabels: { ns2: 'updated' } } }] }))],
    model: { namespaceLabels: { y: { ns2: 'updated' } } },
    probes: [p(80, R().expectAllIngress('x/a', false).expectPeer({ namespace: 'y' }, {}, true))],
  },
  {
    upstream: 'should allow ingress access from updated pod (after pod2=updated is added to x/b)',
    policies: [buildPolicy('x', 'x-a-allows-x-b', podLabel('a'), ingressRules({ from: [{ podSelector: { matchLabels: { pod2: 'updated' } } }] }))],
    model: { podLabels: { 'x/b': { pod2: 'updated' } } },
    probes: [p(80, R().expectAllIngress('x/a', false).expect('x/b', 'x/a', true))],
  },
  {
    upstream: 'should deny ingress from pods on other namespaces',
    policies: [buildPolicy('x', 'deny-empty-policy', {}, ingressRules({ from: [{ podSelector: {} }] }))],
    probes: [p(80, R().expectPeer({ namespace: 'y' }, { namespace: 'x' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x' }, false))],
  },
  {
    upstream: 'should deny ingress access to updated pod (after target=isolated is added to x/a)',
    policies: [buildPolicy('x', 'deny-ingress-via-label-selector', { matchLabels: { target: 'isolated' } }, ingressRules())],
    model: { podLabels: { 'x/a': { target: 'isolated' } } },
    probes: [p(80, R().expectAllIngress('x/a', false))],
  },
  {
    upstream: 'should deny egress from pods based on PodSelector',
    policies: [buildPolicy('x', 'deny-egress-pod-a', podLabel('a'), egressRules())],
    probes: [p(80, R().expectAllEgress('x/a', false))],
  },
  {
    upstream: 'should deny egress from all pods in a namespace',
    policies: [buildPolicy('x', 'deny-egress-ns-x', {}, egressRules())],
    probes: [p(80, R().expectPeer({ namespace: 'x' }, {}, false))],
  },
  {
    upstream: 'should work with Ingress, Egress specified together (egress allows only DNS, 53/UDP)',
    policies: [buildPolicy('x', 'allow-client-a-via-pod-selector', podLabel('a'), bothRules([{ from: [{ podSelector: podLabel('b') }] }], [{ ports: [{ port: 53, protocol: 'UDP' }] }]))],
    probes: [p(80, R().expectAllIngress('x/a', false).expect('x/b', 'x/a', true).expectAllEgress('x/a', false))],
  },
  {
    upstream: 'should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)',
    policies: [
      buildPolicy('x', 'allow-to-ns-y-pod-a', podLabel('a'), egressRules({ to: [{ namespaceSelector: nsLabel('y'), podSelector: podLabel('a') }] })),
      buildPolicy('y', 'allow-from-xa-to-ya', podLabel('a'), ingressRules({ from: [{ namespaceSelector: nsLabel('x'), podSelector: podLabel('a') }] })),
      buildPolicy('y', 'allow-from-xa-to-yb', podLabel('b'), ingressRules({ from: [{ namespaceSelector: nsLabel('x'), podSelector: podLabel('a') }] })),
    ],
    probes: [p(80, R().expectAllEgress('x/a', false).expect('x/a', 'y/a', true).expectAllIngress('y/a', false).expect('x/a', 'y/a', true).expectAllIngress('y/b', false))],
  },
  {
    upstream: 'should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector',
    policies: [buildPolicy('x', 'allow-to-ns-y-pod-a', podLabel('a'), egressRules({ to: [{ namespaceSelector: nsLabel('y'), podSelector: podLabel('a') }] }))],
    probes: [p(80, R().expectAllEgress('x/a', false).expect('x/a', 'y/a', true))],
  },
  {
    upstream: 'should enforce ingress policy allowing any port traffic to a server on a specific protocol',
    policies: [buildPolicy('x', 'allow-ingress-by-proto', podLabel('a'), ingressRules({ ports: [{ protocol: 'TCP' }] }))],
    probes: [p(80, R()), p(81, R()), p(80, R().expectAllIngress('x/a', false), 'UDP')],
  },
  {
    upstream: 'should enforce multiple ingress policies with ingress allow-all policy taking precedence',
    policies: [
      buildPolicy('x', 'allow-ingress-port-80', podLabel('a'), ingressRules({ ports: [tcp(80)] })),
      buildPolicy('x', 'allow-all', {}, ingressRules({})),
    ],
    probes: [p(81, R()), p(80, R())],
  },
  {
    upstream: 'should enforce multiple ingress policies with ingress allow-all policy taking precedence (before allow-all)',
    policies: [buildPolicy('x', 'allow-ingress-port-80', podLabel('a'), ingressRules({ ports: [tcp(80)] }))],
    probes: [p(81, R().expectAllIngress('x/a', false)), p(80, R())],
  },
  {
    upstream: 'should enforce multiple egress policies with egress allow-all policy taking precedence',
    policies: [
      buildPolicy('x', 'allow-egress-port-80', podLabel('a'), egressRules({ ports: [tcp(80)] })),
      buildPolicy('x', 'allow-all', {}, egressRules({})),
    ],
    probes: [p(81, R()), p(80, R())],
  },
  {
    upstream: 'should enforce multiple egress policies with egress allow-all policy taking precedence (before allow-all)',
    policies: [buildPolicy('x', 'allow-egress-port-80', podLabel('a'), egressRules({ ports: [tcp(80)] }))],
    probes: [p(81, R().expectAllEgress('x/a', false)), p(80, R())],
  },
  {
    upstream: 'should stop enforcing policies after they are deleted',
    policies: [],
    probes: [p(80, R())],
  },
  {
    upstream: 'should allow egress access to server in CIDR block',
    policies: [buildPolicy('x', 'allow-client-a-via-cidr-egress-rule', podLabel('a'), egressRules({ to: [{ ipBlock: { cidr: `${podIP('x', 'b')}/32` } }] }))],
    probes: [p(80, R().expectAllEgress('x/a', false).expect('x/a', 'x/b', true))],
  },
  {
    upstream: 'should enforce except clause while egress access to server in CIDR block',
    // Upstream builds the /4 from the pod IP with host bits set; it means the masked network (reference §10).
    policies: [buildPolicy('x', 'deny-client-a-via-except-cidr-egress-rule', podLabel('a'), egressRules({ to: [{ ipBlock: { cidr: `${podIP('x', 'b')}/4`, except: [`${podIP('x', 'b')}/32`] } }] }))],
    probes: [p(80, R().expect('x/a', 'x/b', false))],
  },
  {
    upstream: 'should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed',
    policies: [
      buildPolicy('x', 'deny-client-a-via-except-cidr-egress-rule', podLabel('a'), egressRules({ to: [{ ipBlock: { cidr: `${podIP('x', 'b')}/4`, except: [`${podIP('x', 'b')}/32`] } }] })),
      buildPolicy('x', 'allow-client-a-via-cidr-egress-rule', podLabel('a'), egressRules({ to: [{ ipBlock: { cidr: `${podIP('x', 'b')}/32` } }] })),
    ],
    probes: [p(80, R())],
  },
  {
    upstream: 'should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector',
    policies: [
      buildPolicy('x', 'deny-egress-for-a', podLabel('a'), egressRules()),
      buildPolicy('x', 'deny-ingress-for-b', podLabel('b'), ingressRules()),
    ],
    probes: [p(80, R().expectAllEgress('x/a', false).expectAllIngress('x/b', false))],
  },
  {
    upstream: "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
    policies: [buildPolicy('x', 'allow-only-sctp-ingress-on-port-81', podLabel('a'), ingressRules({ ports: [{ port: 81, protocol: 'SCTP' }] }))],
    probes: [p(81, R().expectAllIngress('x/a', false)), p(81, R(), 'SCTP'), p(80, R().expectAllIngress('x/a', false), 'SCTP')],
  },
  {
    upstream: "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
    policies: [buildPolicy('x', 'allow-only-sctp-ingress-on-port-80', podLabel('a'), ingressRules({ ports: [{ port: 80, protocol: 'SCTP' }] }))],
    probes: [p(81, R().expectAllIngress('x/a', false))],
  },
  {
    upstream: 'should not allow access by TCP when a policy specifies only UDP',
    policies: [buildPolicy('x', 'allow-only-udp-ingress-on-port-81', podLabel('a'), ingressRules({ ports: [{ port: 81, protocol: 'UDP' }] }))],
    probes: [p(81, R().expectAllIngress('x/a', false)), p(81, R(), 'UDP')],
  },
  {
    upstream: 'should allow ingress access on one named port (UDP: serve-81-udp)',
    policies: [buildPolicy('x', 'allow-udp-named', {}, ingressRules({ ports: [{ port: 'serve-81-udp', protocol: 'UDP' }] }))],
    probes: [p(81, R(), 'UDP'), p(81, R().expectPeer({}, { namespace: 'x' }, false), 'TCP'), p(80, R().expectPeer({}, { namespace: 'x' }, false), 'UDP')],
  },
  {
    upstream: 'should support ingress with an endPort (port range 80-81)',
    policies: [buildPolicy('x', 'allow-ingress-port-range', podLabel('a'), ingressRules({ from: [{ namespaceSelector: nsLabel('y') }], ports: [{ port: 80, endPort: 81, protocol: 'TCP' }] }))],
    probes: [80, 81].map((port) => p(port, R().expectAllIngress('x/a', false).expectPeer({ namespace: 'y' }, { namespace: 'x', pod: 'a' }, true))),
  },
  {
    upstream: 'should support egress with an endPort (port range 79-80 excludes 81)',
    policies: [buildPolicy('x', 'allow-egress-port-range', podLabel('a'), egressRules({ ports: [{ port: 79, endPort: 80, protocol: 'TCP' }] }))],
    probes: [p(80, R()), p(81, R().expectAllEgress('x/a', false))],
  },
  {
    upstream: 'should enforce policy based on NamespaceSelector with MatchExpressions using default ns label (NotIn, Exists, DoesNotExist)',
    policies: [
      buildPolicy('x', 'allow-not-z-with-label', podLabel('a'), ingressRules({
        from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['z'] }, { key: 'ns', operator: 'Exists' }, { key: 'team', operator: 'DoesNotExist' }] } }],
      })),
    ],
    model: { namespaceLabels: { y: { team: 'blue' } } },
    probes: [p(80, R().expectAllIngress('x/a', false).expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, true))],
  },
];

function truthTable(cluster: Cluster, port: number, protocol: Protocol): { matrix: Record<string, boolean>; pairwise: Record<string, boolean> } {
  const engine = buildPolicyEngine(cluster);
  const m = evaluateMatrix(cluster, { pods: cluster.pods, ports: [{ port, protocol }] }, { engine });
  const matrix: Record<string, boolean> = {};
  for (const c of m.cells) matrix[`${c.from}>${c.to}`] = c.allowed;
  const pairwise: Record<string, boolean> = {};
  for (const s of cluster.pods) {
    for (const d of cluster.pods) {
      if (s === d) continue;
      const v = evaluateConnection(cluster, { source: { kind: 'pod', pod: s }, destination: { kind: 'pod', pod: d }, port, protocol }, { engine });
      pairwise[`${s.metadata.namespace}/${s.metadata.name}>${d.metadata.namespace}/${d.metadata.name}`] = v.allowed;
    }
  }
  return { matrix, pairwise };
}

describe('the e2e NetworkPolicy suite as truth tables', () => {
  it('encodes at least 25 upstream cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases.map((c) => [c.upstream, c] as const))('%s', (_name, c) => {
    const cluster = buildModel(c.policies, c.model);
    for (const probe of c.probes) {
      const { matrix, pairwise } = truthTable(cluster, probe.port, probe.protocol);
      const expected = probe.reachability.table();
      expect({ probe: `${probe.protocol}/${probe.port}`, table: matrix }).toEqual({ probe: `${probe.protocol}/${probe.port}`, table: expected });
      expect({ probe: `${probe.protocol}/${probe.port}`, table: pairwise }).toEqual({ probe: `${probe.protocol}/${probe.port}`, table: expected });
    }
  });
});
