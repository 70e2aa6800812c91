// AdminNetworkPolicy / BaselineAdminNetworkPolicy precedence, after the network-policy-api conformance
// suite (conformance/tests/admin-network-policy-core-integration.go with
// conformance/base/api_integration/core-anp-np-banp.yaml, and the core-priority / gress-rules tests),
// translated onto the e2e model: gryffindor is namespace x, slytherin is namespace y.
import { describe, expect, it } from 'vitest';
import type { AdminNetworkPolicy, NetworkPolicy, Protocol } from '../../src/model/k8s.js';
import { buildPolicyEngine, evaluateConnection } from '../../src/policy/evaluate.js';
import { evaluateMatrix } from '../../src/policy/matrix.js';
import { Reachability, buildModel, buildPolicy, podIP } from '../support/netpol-model.js';

const house = (ns: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': ns } });

function anp(name: string, priority: number, spec: Record<string, unknown>): AdminNetworkPolicy {
  return { apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name }, spec: { priority, ...spec } };
}

function banp(spec: Record<string, unknown>, name = 'default'): AdminNetworkPolicy {
  return { apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'BaselineAdminNetworkPolicy', metadata: { name }, spec };
}

/** core-anp-np-banp.yaml's `pass-example`, in the older wrapped form the conformance manifest uses. */
const passExample = (ingressAction: string, egressAction: string) =>
  anp('pass-example', 10, {
    subject: { namespaces: house('x') },
    ingress: [{ name: 'deny-all-ingress-from-slytherin', action: ingressAction, from: [{ namespaces: { namespaceSelector: house('y') } }] }],
    egress: [{ name: 'deny-all-egress-to-slytherin', action: egressAction, to: [{ namespaces: { namespaceSelector: house('y') } }] }],
  });

const allowGress: NetworkPolicy = buildPolicy('x', 'allow-gress-from-to-slytherin-to-gryffindor', {}, {
  policyTypes: ['Ingress', 'Egress'],
  ingress: [{ from: [{ namespaceSelector: house('y') }] }],
  egress: [{ to: [{ namespaceSelector: house('y') }] }],
});

const baselineDeny = banp({
  subject: { namespaces: house('x') },
  ingress: [{ name: 'deny-all-ingress-from-slytherin', action: 'Deny', from: [{ namespaces: { namespaceSelector: house('y') } }] }],
  egress: [{ name: 'deny-all-egress-to-slytherin', action: 'Deny', to: [{ namespaces: { namespaceSelector: house('y') } }] }],
});

interface Case {
  name: string;
  policies: NetworkPolicy[];
  admin: AdminNetworkPolicy[];
  baseline?: AdminNetworkPolicy[];
  port?: number;
  protocol?: Protocol;
  reachability: Reachability;
}

const R = () => new Reachability();
/** allowGress isolates x both ways and admits only y: x↔x and z↔x are denied. */
const npOnly = () => R().expectPeer({}, { namespace: 'x' }, false).expectPeer({ namespace: 'x' }, {}, false).expectPeer({ namespace: 'y' }, { namespace: 'x' }, true).expectPeer({ namespace: 'x' }, { namespace: 'y' }, true);

const cases: Case[] = [
  {
    name: 'integration: Should Deny traffic from slytherin to gryffindor (and back) respecting ANP, over an NP that allows it',
    policies: [allowGress],
    admin: [passExample('Deny', 'Deny')],
    baseline: [baselineDeny],
    reachability: npOnly().expectPeer({ namespace: 'y' }, { namespace: 'x' }, false).expectPeer({ namespace: 'x' }, { namespace: 'y' }, false),
  },
  {
    name: "integration: Should support a 'pass-ingress' policy for ANP and respect the match for network policy",
    policies: [allowGress],
    admin: [passExample('Pass', 'Deny')],
    baseline: [baselineDeny],
    reachability: npOnly().expectPeer({ namespace: 'x' }, { namespace: 'y' }, false),
  },
  {
    name: "integration: Should support a 'pass-egress' policy for ANP and respect the match for network policy",
    policies: [allowGress],
    admin: [passExample('Pass', 'Pass')],
    baseline: [baselineDeny],
    reachability: npOnly(),
  },
  {
    name: "integration: Should support a 'pass-ingress'/'pass-egress' policy for ANP and respect the match for baseline admin network policy (NP deleted)",
    policies: [],
    admin: [passExample('Pass', 'Pass')],
    baseline: [baselineDeny],
    reachability: R().expectPeer({ namespace: 'y' }, { namespace: 'x' }, false).expectPeer({ namespace: 'x' }, { namespace: 'y' }, false),
  },
  {
    name: 'BANP applies only where no NetworkPolicy isolates the pod',
    policies: [buildPolicy('x', 'allow-all-in', {}, { ingress: [{}] })],
    admin: [],
    baseline: [baselineDeny],
    reachability: R().expectPeer({ namespace: 'x' }, { namespace: 'y' }, false),
  },
  {
    name: 'a BaselineAdminNetworkPolicy not named "default" has no effect',
    policies: [],
    admin: [],
    baseline: [banp({ subject: { namespaces: house('x') }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] }, 'other')],
    reachability: R(),
  },
  {
    name: 'core-priority: the lower priority number wins (Allow at 10 over Deny at 20)',
    policies: [],
    admin: [
      anp('deny-20', 20, { subject: { namespaces: house('x') }, ingress: [{ action: 'Deny', from: [{ namespaces: house('y') }] }] }),
      anp('allow-10', 10, { subject: { namespaces: house('x') }, ingress: [{ action: 'Allow', from: [{ namespaces: house('y') }] }] }),
    ],
    reachability: R(),
  },
  {
    name: 'core-priority: the lower priority number wins (Deny at 10 over Allow at 20)',
    policies: [],
    admin: [
      anp('deny-10', 10, { subject: { namespaces: house('x') }, ingress: [{ action: 'Deny', from: [{ namespaces: house('y') }] }] }),
      anp('allow-20', 20, { subject: { namespaces: house('x') }, ingress: [{ action: 'Allow', from: [{ namespaces: house('y') }] }] }),
    ],
    reachability: R().expectPeer({ namespace: 'y' }, { namespace: 'x' }, false),
  },
  {
    name: 'gress-rules: within one ANP the first matching rule decides',
    policies: [],
    admin: [
      anp('ordered', 5, {
        subject: { pods: { namespaceSelector: house('x'), podSelector: { matchLabels: { pod: 'a' } } } },
        ingress: [
          { name: 'allow-y-a', action: 'Allow', from: [{ pods: { namespaceSelector: house('y'), podSelector: { matchLabels: { pod: 'a' } } } }] },
          { name: 'deny-y', action: 'Deny', from: [{ namespaces: house('y') }] },
        ],
      }),
    ],
    reachability: R().expectPeer({ namespace: 'y' }, { namespace: 'x', pod: 'a' }, false).expect('y/a', 'x/a', true),
  },
  {
    name: 'an ANP Allow overrides a NetworkPolicy default deny',
    policies: [buildPolicy('x', 'deny-all', {}, { policyTypes: ['Ingress'] })],
    admin: [anp('allow-z', 1, { subject: { namespaces: house('x') }, ingress: [{ action: 'Allow', from: [{ namespaces: house('z') }] }] })],
    reachability: R().expectPeer({}, { namespace: 'x' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x' }, true),
  },
  {
    name: 'ANP ports: portNumber 80 matches port 80 only',
    policies: [],
    admin: [anp('deny-80', 1, { subject: { namespaces: house('x') }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }], ports: [{ portNumber: { protocol: 'TCP', port: 80 } }] }] })],
    port: 81,
    reachability: R(),
  },
  {
    name: 'ANP ports: namedPort resolves on the destination pod',
    policies: [],
    admin: [anp('deny-named', 1, { subject: { namespaces: house('x') }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }], ports: [{ namedPort: 'serve-80-udp' }] }] })],
    port: 80,
    protocol: 'UDP',
    reachability: R().expectPeer({}, { namespace: 'x' }, false),
  },
  {
    name: 'ANP ports: portRange 80-81 over SCTP',
    policies: [],
    admin: [anp('deny-range', 1, { subject: { namespaces: house('y') }, egress: [{ action: 'Deny', to: [{ namespaces: {} }], ports: [{ portRange: { protocol: 'SCTP', start: 80, end: 81 } }] }] })],
    port: 81,
    protocol: 'SCTP',
    reachability: R().expectPeer({ namespace: 'y' }, {}, false),
  },
  {
    name: 'ANP egress networks: a CIDR covering y/a and y/b',
    policies: [],
    admin: [anp('deny-cidr', 1, { subject: { namespaces: house('x') }, egress: [{ action: 'Deny', to: [{ networks: [`${podIP('y', 'a').replace(/\d+$/, '20')}/31`, `${podIP('y', 'b')}/32`] }] }] })],
    reachability: R().expectPeer({ namespace: 'x' }, { namespace: 'y', pod: 'a' }, false).expectPeer({ namespace: 'x' }, { namespace: 'y', pod: 'b' }, false),
  },
  {
    name: 'an ANP rule with an invalid action matches nothing',
    policies: [],
    admin: [anp('bad-action', 1, { subject: { namespaces: house('x') }, ingress: [{ action: 'Drop', from: [{ namespaces: {} }] }] })],
    reachability: R(),
  },
];

describe('AdminNetworkPolicy and BaselineAdminNetworkPolicy precedence', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const cluster = buildModel(c.policies);
    cluster.adminNetworkPolicies.push(...c.admin);
    cluster.baselineAdminNetworkPolicies.push(...(c.baseline ?? []));
    const port = c.port ?? 80;
    const protocol = c.protocol ?? 'TCP';
    const engine = buildPolicyEngine(cluster);
    const matrix: Record<string, boolean> = {};
    for (const cell of evaluateMatrix(cluster, { pods: cluster.pods, ports: [{ port, protocol }] }, { engine }).cells) matrix[`${cell.from}>${cell.to}`] = cell.allowed;
    const pairwise: Record<string, boolean> = {};
    for (const s of cluster.pods) {
      for (const d of cluster.pods) {
        if (s === d) continue;
        pairwise[`${s.metadata.namespace}/${s.metadata.name}>${d.metadata.namespace}/${d.metadata.name}`] = evaluateConnection(
          cluster,
          { source: { kind: 'pod', pod: s }, destination: { kind: 'pod', pod: d }, port, protocol },
          { engine },
        ).allowed;
      }
    }
    expect(matrix).toEqual(c.reachability.table());
    expect(pairwise).toEqual(c.reachability.table());
  });

  it('explains an ANP Deny as the deciding step, with the rule name', () => {
    const cluster = buildModel([allowGress]);
    cluster.adminNetworkPolicies.push(passExample('Deny', 'Deny'));
    const [src, dst] = [cluster.pods.find((p) => p.metadata.namespace === 'y')!, cluster.pods.find((p) => p.metadata.namespace === 'x')!];
    const v = evaluateConnection(cluster, { source: { kind: 'pod', pod: src }, destination: { kind: 'pod', pod: dst }, port: 80 });
    expect(v.ingress.decidedBy).toBe('admin-network-policy');
    expect(v.ingress.steps).toEqual([
      {
        effect: 'admin-deny',
        policy: 'pass-example',
        rule: 0,
        message: 'AdminNetworkPolicy pass-example (priority 10) rule 0 "deny-all-ingress-from-slytherin" denies ingress to x/a from y/a on TCP port 80; NetworkPolicies cannot override it.',
      },
    ]);
    expect(v.ingress.policies[0]).toMatchObject({ kind: 'AdminNetworkPolicy', namespace: null, name: 'pass-example', rule: 0, priority: 10 });
  });

  it('explains a Pass followed by the NetworkPolicy that allows it', () => {
    const cluster = buildModel([allowGress]);
    cluster.adminNetworkPolicies.push(passExample('Pass', 'Pass'));
    const [src, dst] = [cluster.pods.find((p) => p.metadata.namespace === 'y')!, cluster.pods.find((p) => p.metadata.namespace === 'x')!];
    const v = evaluateConnection(cluster, { source: { kind: 'pod', pod: src }, destination: { kind: 'pod', pod: dst }, port: 80 });
    expect(v.ingress.steps.map((s) => s.effect)).toEqual(['admin-pass', 'isolated', 'rule-allows']);
    expect(v.ingress.decidedBy).toBe('network-policy');
  });
});
