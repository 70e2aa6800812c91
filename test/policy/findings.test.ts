// Policies that can never match, and input the API would reject: reported with namespace/name, never thrown.
import { describe, expect, it } from 'vitest';
import type { AdminNetworkPolicy, NetworkPolicy } from '../../src/model/k8s.js';
import { POLICY_FINDING_CODES, evaluatePolicyFindings } from '../../src/policy/findings.js';
import { evaluateConnection } from '../../src/policy/evaluate.js';
import { evaluateMatrix } from '../../src/policy/matrix.js';
import { buildModel, buildPolicy, podLabel } from '../support/netpol-model.js';

const rows: { what: string; policy: NetworkPolicy; codes: string[]; message?: string }[] = [
  {
    what: 'an ipBlock cidr that is not a CIDR',
    policy: buildPolicy('x', 'bad-cidr', podLabel('a'), { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.300/8' } }] }] }),
    codes: ['invalid-cidr'],
    message: 'x/bad-cidr: spec.ingress[0].from[0].ipBlock.cidr "10.0.0.300/8" is not a CIDR; the block matches nothing.',
  },
  {
    what: 'an except outside its cidr',
    policy: buildPolicy('x', 'bad-except', podLabel('a'), { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } }] }] }),
    codes: ['except-outside-cidr'],
  },
  {
    what: 'an except equal to its cidr (not a strict subset)',
    policy: buildPolicy('x', 'same-except', podLabel('a'), { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.0.0/16'] } }] }] }),
    codes: ['except-outside-cidr'],
  },
  {
    what: 'a selector with an unknown operator',
    policy: buildPolicy('x', 'bad-op', { matchExpressions: [{ key: 'pod', operator: 'Equals', values: ['a'] }] }, { ingress: [{}] }),
    codes: ['invalid-selector'],
    message: 'x/bad-op: spec.podSelector: unknown operator "Equals" for key "pod" (expected In, NotIn, Exists or DoesNotExist); it matches nothing.',
  },
  {
    what: 'a policy with no spec',
    policy: { kind: 'NetworkPolicy', metadata: { name: 'no-spec', namespace: 'y' } },
    codes: ['policy-without-spec'],
    message: 'y/no-spec has no spec: Kubernetes reads it as podSelector {} with policyTypes [Ingress], so it denies all ingress to every pod in namespace y.',
  },
  {
    what: 'a podSelector matching no pod',
    policy: buildPolicy('x', 'typo', { matchLabels: { pod: 'd' } }, { ingress: [{}] }),
    codes: ['policy-selects-no-pods'],
  },
  {
    what: 'a peer namespaceSelector matching no namespace',
    policy: buildPolicy('x', 'no-ns', podLabel('a'), { ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ghost' } } }] }] }),
    codes: ['peer-selects-no-namespaces'],
  },
  {
    what: 'a peer podSelector matching no pod',
    policy: buildPolicy('x', 'no-peer-pod', podLabel('a'), { ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }] }] }),
    codes: ['peer-selects-no-pods'],
    message: 'x/no-peer-pod: spec.ingress[0].from[0] matches no pod: no pod in namespace x has app=frontend.',
  },
  {
    what: 'a named port no selected pod declares',
    policy: buildPolicy('x', 'no-such-port', podLabel('a'), { ingress: [{ ports: [{ port: 'http' }] }] }),
    codes: ['named-port-undeclared'],
  },
  {
    what: 'a named port declared only for another protocol',
    policy: buildPolicy('x', 'wrong-proto', podLabel('a'), { ingress: [{ ports: [{ port: 'serve-80-udp', protocol: 'TCP' }] }] }),
    codes: ['named-port-undeclared'],
  },
  {
    what: 'a policy in a namespace with no pods',
    policy: buildPolicy('empty', 'lonely', {}, { ingress: [{}] }),
    codes: ['policy-namespace-empty'],
  },
  {
    what: 'an empty peer',
    policy: buildPolicy('x', 'empty-peer', podLabel('a'), { ingress: [{ from: [{}] }] }),
    codes: ['invalid-peer'],
  },
  {
    what: 'an ipBlock combined with a selector',
    policy: buildPolicy('x', 'mixed-peer', podLabel('a'), { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }),
    codes: ['invalid-peer'],
  },
  {
    what: 'an endPort below port',
    policy: buildPolicy('x', 'bad-range', podLabel('a'), { ingress: [{ ports: [{ port: 81, endPort: 80 }] }] }),
    codes: ['invalid-port-range'],
  },
  {
    what: 'a valid policy',
    policy: buildPolicy('x', 'fine', podLabel('a'), { ingress: [{ from: [{ podSelector: podLabel('b') }], ports: [{ port: 'serve-80-tcp' }] }] }),
    codes: [],
  },
];

describe('policy findings', () => {
  it.each(rows.map((r) => [r.what, r] as const))('%s', (_w, r) => {
    const cluster = buildModel([r.policy]);
    const findings = evaluatePolicyFindings(cluster);
    expect(findings.map((f) => f.code)).toEqual(r.codes);
    for (const f of findings) {
      expect(f).toMatchObject({ kind: 'NetworkPolicy', namespace: r.policy.metadata.namespace, name: r.policy.metadata.name, severity: POLICY_FINDING_CODES[f.code as keyof typeof POLICY_FINDING_CODES] });
    }
    if (r.message) expect(findings[0]?.message).toBe(r.message);
    // Evaluation never throws on the same input, and the bad parts match nothing.
    expect(() => evaluateMatrix(cluster, { pods: cluster.pods, ports: [{ port: 80, protocol: 'TCP' }] })).not.toThrow();
  });

  it('reads a policy with no spec as a default deny of ingress, as Kubernetes stores it', () => {
    const cluster = buildModel([{ kind: 'NetworkPolicy', metadata: { name: 'no-spec', namespace: 'y' } }]);
    const [src, dst] = [cluster.pods[0]!, cluster.pods.find((p) => p.metadata.namespace === 'y')!];
    expect(evaluateConnection(cluster, { source: { kind: 'pod', pod: src }, destination: { kind: 'pod', pod: dst }, port: 80 }).allowed).toBe(false);
  });

  it('reports an invalid selector inside a peer and treats the peer as matching nothing', () => {
    const cluster = buildModel([buildPolicy('x', 'bad-peer-op', podLabel('a'), { ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'in', values: ['b'] }] } }] }] })]);
    expect(evaluatePolicyFindings(cluster).map((f) => [f.code, f.namespace, f.name])).toEqual([['invalid-selector', 'x', 'bad-peer-op']]);
    const [xb, xa] = [cluster.pods[1]!, cluster.pods[0]!];
    const v = evaluateConnection(cluster, { source: { kind: 'pod', pod: xb }, destination: { kind: 'pod', pod: xa }, port: 80 });
    expect(v.allowed).toBe(false);
    expect(v.ingress.policies[0]!.rules[0]!.differences.map((d) => d.kind)).toEqual(['invalid']);
  });

  it('reports admin policies without spec or with an unknown action', () => {
    const cluster = buildModel([]);
    const bad: AdminNetworkPolicy[] = [
      { kind: 'AdminNetworkPolicy', metadata: { name: 'empty' } },
      { kind: 'AdminNetworkPolicy', metadata: { name: 'drop' }, spec: { priority: 1, subject: { namespaces: {} }, ingress: [{ action: 'Drop', from: [{ namespaces: {} }] }] } },
    ];
    cluster.adminNetworkPolicies.push(...bad);
    expect(evaluatePolicyFindings(cluster).map((f) => [f.code, f.name])).toEqual([
      ['admin-policy-without-spec', 'empty'],
      ['admin-policy-invalid-action', 'drop'],
    ]);
  });

  it('limits findings to the namespaces asked for', () => {
    const cluster = buildModel([buildPolicy('x', 'typo', { matchLabels: { pod: 'd' } }), buildPolicy('y', 'typo', { matchLabels: { pod: 'd' } })]);
    expect(evaluatePolicyFindings(cluster, { namespaces: ['y'] }).map((f) => `${String(f.namespace)}/${String(f.name)}`)).toEqual(['y/typo']);
  });
});

describe('policy findings fold past a bound, per code and policy', () => {
  it('a policy with 2,000 CIDRs that are not CIDRs is one invalid-cidr finding with the count; another policy keeps its own', () => {
    const n = 2000;
    const from = Array.from({ length: n }, (_, i) => ({ ipBlock: { cidr: `10.0.${i}.300/8` } }));
    const cluster = buildModel([buildPolicy('x', 'many-bad', podLabel('a'), { ingress: [{ from }] }), buildPolicy('x', 'one-bad', podLabel('a'), { ingress: [{ from: [{ ipBlock: { cidr: 'nope' } }] }] })]);
    const findings = evaluatePolicyFindings(cluster);
    expect(findings.map((f) => [f.code, f.severity, f.name, f.count ?? null])).toEqual([
      ['invalid-cidr', 'error', 'many-bad', n],
      ['invalid-cidr', 'error', 'one-bad', null],
    ]);
    expect((findings[0]!.examples as { message: string }[]).map((e) => e.message.match(/from\[(\d+)\]/)?.[1])).toEqual(['0', '1', '2', '3', '4']);
    expect(findings[0]!.message).toMatch(/^2000 findings like this one; the first: x\/many-bad: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr "10\.0\.0\.300\/8"/);
  });
});
