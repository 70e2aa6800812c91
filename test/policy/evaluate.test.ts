// The reference's edge cases (docs/network-policy.md), explanations and near misses,
// non-pod endpoints and Service destinations. Each table row names the section it encodes.
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../src/model/cluster.js';
import type { EndpointSlice, NetworkPolicy, Pod, Protocol, Service } from '../../src/model/k8s.js';
import { buildPolicyEngine, evaluateConnection, type ConnectionEnd } from '../../src/policy/evaluate.js';
import { evaluateMatrix } from '../../src/policy/matrix.js';
import { NODE, NODE_IP, buildModel, buildModelPod, buildPolicy, nsLabel, podIP, podLabel } from '../support/netpol-model.js';

function pod(cluster: Cluster, ref: string): Pod {
  const [ns, name] = ref.split('/');
  const hit = cluster.pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name);
  if (!hit) throw new Error(`no pod ${ref}`);
  return hit;
}

/** `x/a`, `node/NAME`, an IP, or `svc/NS/NAME`. */
function end(cluster: Cluster, ref: string): ConnectionEnd {
  if (ref.startsWith('node/')) return { kind: 'node', name: ref.slice(5) };
  if (ref.startsWith('svc/')) {
    const [, ns, name] = ref.split('/');
    return { kind: 'service', service: cluster.services.find((s) => s.metadata.namespace === ns && s.metadata.name === name)! };
  }
  if (/^[\d.]+$/.test(ref)) return { kind: 'ip', ip: ref };
  return { kind: 'pod', pod: pod(cluster, ref) };
}

function verdict(cluster: Cluster, from: string, to: string, port = 80, protocol: Protocol = 'TCP') {
  return evaluateConnection(cluster, { source: end(cluster, from), destination: end(cluster, to), port, protocol });
}

const otherNode = { kind: 'Node' as const, metadata: { name: 'kind-worker2' }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.4' }] } };

function withHostNetworkPod(cluster: Cluster, node: string, ip: string): Cluster {
  const p = buildModelPod('kube-system', 'kube-proxy-1');
  p.metadata.labels = { 'k8s-app': 'kube-proxy' };
  p.spec = { ...p.spec, hostNetwork: true, nodeName: node };
  p.status = { ...p.status, podIP: ip, podIPs: [{ ip }], hostIP: ip };
  cluster.pods.push(p);
  return cluster;
}

interface Row {
  section: string;
  policies: NetworkPolicy[];
  from: string;
  to: string;
  port?: number;
  protocol?: Protocol;
  allowed: boolean;
  egress?: boolean;
  ingress?: boolean;
  prepare?: (c: Cluster) => Cluster;
}

const rows: Row[] = [
  {
    section: '§3 egress rules without policyTypes also isolate ingress (allowing nothing in)',
    policies: [buildPolicy('x', 'egress-only', podLabel('a'), { egress: [{ to: [{ podSelector: podLabel('b') }] }] })],
    from: 'y/a', to: 'x/a', allowed: false, egress: true, ingress: false,
  },
  {
    section: '§3 egress rules without policyTypes isolate egress: only x/b is reachable',
    policies: [buildPolicy('x', 'egress-only', podLabel('a'), { egress: [{ to: [{ podSelector: podLabel('b') }] }] })],
    from: 'x/a', to: 'x/c', allowed: false, egress: false, ingress: true,
  },
  {
    section: '§3 `egress: []` without policyTypes does not isolate egress',
    policies: [buildPolicy('x', 'empty-egress', podLabel('a'), { egress: [] })],
    from: 'x/a', to: 'y/a', allowed: true, egress: true, ingress: true,
  },
  {
    section: '§3 `egress: []` without policyTypes still isolates ingress',
    policies: [buildPolicy('x', 'empty-egress', podLabel('a'), { egress: [] })],
    from: 'y/a', to: 'x/a', allowed: false, egress: true, ingress: false,
  },
  {
    section: '§3 policyTypes [Egress] with no egress field denies all egress',
    policies: [buildPolicy('x', 'deny-egress', podLabel('a'), { policyTypes: ['Egress'] })],
    from: 'x/a', to: 'x/b', allowed: false, egress: false, ingress: true,
  },
  {
    section: '§3 policyTypes [Egress] leaves ingress unisolated',
    policies: [buildPolicy('x', 'deny-egress', podLabel('a'), { policyTypes: ['Egress'] })],
    from: 'y/a', to: 'x/a', allowed: true,
  },
  {
    section: '§5 ipBlock 0.0.0.0/0 matches every pod',
    policies: [buildPolicy('x', 'from-anywhere', podLabel('a'), { ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] })],
    from: 'z/c', to: 'x/a', allowed: true,
  },
  {
    section: '§5 an except applies only inside its own ipBlock: another rule can still allow the IP',
    policies: [
      buildPolicy('x', 'cidr-except', podLabel('a'), {
        ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: [`${podIP('x', 'b')}/32`] } }] }, { from: [{ podSelector: podLabel('b') }] }],
      }),
    ],
    from: 'x/b', to: 'x/a', allowed: true,
  },
  {
    section: '§5 the excepted IP is denied when nothing else allows it',
    policies: [buildPolicy('x', 'cidr-except', podLabel('a'), { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: [`${podIP('x', 'b')}/32`] } }] }] })],
    from: 'x/b', to: 'x/a', allowed: false,
  },
  {
    section: '§5 namespaceSelector {} never matches a non-pod IP',
    policies: [buildPolicy('x', 'all-namespaces', podLabel('a'), { ingress: [{ from: [{ namespaceSelector: {} }] }] })],
    from: '8.8.8.8', to: 'x/a', allowed: false, egress: true, ingress: false,
  },
  {
    section: '§4 a rule {} allows everything, external IPs included',
    policies: [buildPolicy('x', 'allow-all', podLabel('a'), { ingress: [{}] })],
    from: '8.8.8.8', to: 'x/a', allowed: true,
  },
  {
    section: '§5 an ipBlock matches an external IP',
    policies: [buildPolicy('x', 'google-dns', podLabel('a'), { policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '8.8.0.0/16' } }], ports: [{ port: 53, protocol: 'UDP' }] }] })],
    from: 'x/a', to: '8.8.8.8', port: 53, protocol: 'UDP', allowed: true,
  },
  {
    section: '§5 NotIn and DoesNotExist match when the key is absent',
    policies: [buildPolicy('x', 'not-in', podLabel('a'), { ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }, { key: 'role', operator: 'DoesNotExist' }] } }] }] })],
    from: 'x/b', to: 'x/a', allowed: true,
  },
  {
    section: '§6 a named port declared only under another protocol matches nothing',
    policies: [buildPolicy('x', 'named-udp-as-tcp', podLabel('a'), { ingress: [{ ports: [{ port: 'serve-80-udp', protocol: 'TCP' }] }] })],
    from: 'x/b', to: 'x/a', allowed: false,
  },
  {
    section: '§6 a named egress port towards an external IP cannot be resolved: it matches nothing',
    policies: [buildPolicy('x', 'egress-named', podLabel('a'), { policyTypes: ['Egress'], egress: [{ ports: [{ port: 'serve-80-tcp' }] }] })],
    from: 'x/a', to: '8.8.8.8', allowed: false,
  },
  {
    section: '§6 protocol defaults to TCP',
    policies: [buildPolicy('x', 'port-80', podLabel('a'), { ingress: [{ ports: [{ port: 80 }] }] })],
    from: 'x/b', to: 'x/a', protocol: 'UDP', allowed: false,
  },
  {
    section: '§7 the pod\'s own node always reaches it, even under a default deny',
    policies: [buildPolicy('x', 'deny-all', {}, { policyTypes: ['Ingress', 'Egress'] })],
    from: `node/${NODE}`, to: 'x/a', allowed: true, ingress: true,
  },
  {
    section: '§7 and the pod always reaches its own node',
    policies: [buildPolicy('x', 'deny-all', {}, { policyTypes: ['Ingress', 'Egress'] })],
    from: 'x/a', to: NODE_IP, allowed: true, egress: true,
  },
  {
    section: '§7 another node is matched only by ipBlock',
    policies: [buildPolicy('x', 'deny-all', {}, { policyTypes: ['Ingress', 'Egress'] })],
    from: 'node/kind-worker2', to: 'x/a', allowed: false,
    prepare: (c) => (c.nodes.push(otherNode), c),
  },
  {
    section: '§7 an ipBlock covering another node\'s IP allows it',
    policies: [buildPolicy('x', 'nodes', {}, { ingress: [{ from: [{ ipBlock: { cidr: '172.18.0.0/16' } }] }] })],
    from: 'node/kind-worker2', to: 'x/a', allowed: true,
    prepare: (c) => (c.nodes.push(otherNode), c),
  },
  {
    section: '§8 a hostNetwork pod on the same node is that node: allowed',
    policies: [buildPolicy('x', 'deny-all', {}, { policyTypes: ['Ingress'] })],
    from: 'kube-system/kube-proxy-1', to: 'x/a', allowed: true,
    prepare: (c) => withHostNetworkPod(c, NODE, NODE_IP),
  },
  {
    section: '§8 a hostNetwork pod is never matched by podSelector or namespaceSelector',
    policies: [buildPolicy('x', 'from-all-pods', {}, { ingress: [{ from: [{ namespaceSelector: {} }] }] })],
    from: 'kube-system/kube-proxy-1', to: 'x/a', allowed: false,
    prepare: (c) => (c.nodes.push(otherNode), withHostNetworkPod(c, 'kind-worker2', '172.18.0.4')),
  },
  {
    section: '§5 an IPv6 ipBlock matches a dual-stack pod by its IPv6 address',
    policies: [buildPolicy('x', 'v6-only', podLabel('a'), { ingress: [{ from: [{ ipBlock: { cidr: 'fd00:10:244:1::/64' } }] }] })],
    from: 'x/b', to: 'x/a', allowed: true,
    prepare: (c) => {
      const b = pod(c, 'x/b');
      b.status!.podIPs = [{ ip: podIP('x', 'b') }, { ip: 'FD00:10:244:1::12' }];
      return c;
    },
  },
  {
    section: '§5 an IPv6 ipBlock does not match an IPv4-only pod',
    policies: [buildPolicy('x', 'v6-only', podLabel('a'), { ingress: [{ from: [{ ipBlock: { cidr: 'fd00:10:244:1::/64' } }] }] })],
    from: 'x/b', to: 'x/a', allowed: false,
  },
];

describe('reference edge cases', () => {
  it.each(rows.map((r) => [r.section, r] as const))('%s', (_s, r) => {
    let cluster = buildModel(r.policies);
    if (r.prepare) cluster = r.prepare(cluster);
    const v = verdict(cluster, r.from, r.to, r.port ?? 80, r.protocol ?? 'TCP');
    expect({ allowed: v.allowed, ...(r.egress !== undefined ? { egress: v.egress.allowed } : {}), ...(r.ingress !== undefined ? { ingress: v.ingress.allowed } : {}) }).toEqual({
      allowed: r.allowed,
      ...(r.egress !== undefined ? { egress: r.egress } : {}),
      ...(r.ingress !== undefined ? { ingress: r.ingress } : {}),
    });
    // The compiled matrix must agree whenever both ends are pods.
    const ends = [r.from, r.to];
    if (ends.every((e) => /^[a-z-]+\/[a-z0-9-]+$/.test(e) && !e.startsWith('node/'))) {
      const pods = ends.map((e) => pod(cluster, e));
      const m = evaluateMatrix(cluster, { pods, ports: [{ port: r.port ?? 80, protocol: r.protocol ?? 'TCP' }] });
      expect(m.cells.find((c) => c.from === r.from && c.to === r.to)?.allowed).toBe(r.allowed);
    }
  });
});

describe('named ports resolve on the destination pod (§6)', () => {
  // y/b declares `http` as 8080, y/c as 9090, y/a not at all: the same egress rule means different ports.
  const cluster = buildModel([buildPolicy('x', 'egress-http', podLabel('a'), { policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] })]);
  pod(cluster, 'y/b').spec!.containers!.push({ name: 'web', ports: [{ name: 'http', containerPort: 8080 }] });
  pod(cluster, 'y/c').spec!.containers!.push({ name: 'web', ports: [{ name: 'http', containerPort: 9090 }] });

  it.each([
    ['y/b', 8080, true],
    ['y/b', 9090, false],
    ['y/c', 9090, true],
    ['y/c', 8080, false],
    ['y/a', 8080, false],
  ] as const)('x/a → %s on %i: %s', (to, port, allowed) => {
    expect(verdict(cluster, 'x/a', to, port).allowed).toBe(allowed);
    const m = evaluateMatrix(cluster, { pods: [pod(cluster, 'x/a'), pod(cluster, to)], ports: [{ port, protocol: 'TCP' }] });
    expect(m.cells.filter((c) => c.from === 'x/a').map((c) => c.allowed)).toEqual([allowed]);
  });

  it('says which name the destination does not declare', () => {
    const v = verdict(cluster, 'x/a', 'y/a', 8080);
    expect(v.egress.nearestMiss?.differences).toEqual([{ kind: 'named-port', wish: 'y/a declared a TCP port named `http`', actual: 'it declares no port of that name' }]);
  });
});

describe('explanations', () => {
  const policies = [
    buildPolicy('x', 'default-deny', {}, { policyTypes: ['Ingress'] }),
    buildPolicy('x', 'allow-frontend', podLabel('a'), { ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ port: 80, protocol: 'TCP' }] }] }),
  ];

  it('names the policy, rule, peer and port that allowed the connection', () => {
    const cluster = buildModel(policies, { podLabels: { 'x/b': { app: 'frontend' } } });
    const v = verdict(cluster, 'x/b', 'x/a');
    expect(v.allowed).toBe(true);
    expect(v.ingress.policies.map((p) => ({ namespace: p.namespace, name: p.name, rule: p.rule }))).toEqual([
      { namespace: 'x', name: 'allow-frontend', rule: 0 },
      { namespace: 'x', name: 'default-deny', rule: null },
    ]);
    expect(v.ingress.policies[0]!.rules[0]).toMatchObject({ matched: true, peer: 0, port: 0 });
    expect(v.ingress.decidedBy).toBe('network-policy');
    expect(v.ingress.reason).toBe('Ingress to x/a from x/b on TCP port 80 is allowed by x/allow-frontend: rule 0 allows ingress from pods with app=frontend in namespace x on TCP port 80.');
    expect(v.egress).toMatchObject({ allowed: true, decidedBy: 'not-isolated', policies: [] });
  });

  it('reports the nearest miss in words when a label is misspelt', () => {
    const cluster = buildModel(policies, { podLabels: { 'x/b': { app: 'front-end' } } });
    const v = verdict(cluster, 'x/b', 'x/a');
    expect(v.allowed).toBe(false);
    expect(v.ingress.nearestMiss).toEqual({
      kind: 'NetworkPolicy',
      policy: 'x/allow-frontend',
      rule: 0,
      differences: [{ kind: 'pod-label', wish: 'the source had `app=frontend`', actual: 'it has `app=front-end`', want: 'app=frontend', have: 'app=front-end' }],
      message: '`x/allow-frontend` would allow this if the source had `app=frontend`; it has `app=front-end`',
    });
    expect(v.ingress.reason).toBe('Ingress to x/a from x/b on TCP port 80 is denied: 2 policies (x/allow-frontend, x/default-deny) select x/a for ingress, and their only rule does not match.');
  });

  it('counts a port and a namespace as differences and picks the rule with fewest', () => {
    const cluster = buildModel(
      [
        buildPolicy('x', 'far', podLabel('a'), { ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend', tier: 'web' } } }], ports: [{ port: 8080 }] }] }),
        buildPolicy('x', 'near', podLabel('a'), { ingress: [{ from: [{ podSelector: podLabel('b') }], ports: [{ port: 81 }] }] }),
      ],
    );
    const v = verdict(cluster, 'y/b', 'x/a');
    expect(v.ingress.nearestMiss?.policy).toBe('x/near');
    expect(v.ingress.nearestMiss?.differences.map((d) => d.kind)).toEqual(['namespace', 'port']);
    expect(v.ingress.nearestMiss?.message).toBe(
      '`x/near` would allow this if the source were in namespace `x` and the port were 81; it is in `y` (a podSelector without namespaceSelector means the policy\'s own namespace); it is 80',
    );
  });

  it('between rules one difference away, prefers the label value closest to what the source has (a typo)', () => {
    const cluster = buildModel(
      [
        buildPolicy('x', 'a-allow-db-clients', podLabel('a'), { ingress: [{ from: [{ podSelector: { matchLabels: { app: 'db' } } }] }] }),
        buildPolicy('x', 'b-allow-frontend', podLabel('a'), { ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }] }] }),
      ],
      { podLabels: { 'x/b': { app: 'front-end' } } },
    );
    expect(verdict(cluster, 'x/b', 'x/a').ingress.nearestMiss?.policy).toBe('x/b-allow-frontend');
  });

  it('gives no nearest miss for a default deny with no rules, and says so', () => {
    const cluster = buildModel([buildPolicy('x', 'deny', {}, { policyTypes: ['Ingress'] })]);
    const v = verdict(cluster, 'y/a', 'x/a');
    expect(v.ingress.nearestMiss).toBeUndefined();
    expect(v.ingress.reason).toBe('Ingress to x/a from y/a on TCP port 80 is denied: x/deny selects x/a for ingress and has no ingress rules.');
    expect(v.ingress.steps.map((s) => s.effect)).toEqual(['isolated', 'no-rule-allows']);
  });

  it('says a non-pod source has no egress policy', () => {
    const v = verdict(buildModel([]), '8.8.8.8', 'x/a');
    expect(v.egress).toMatchObject({ allowed: true, decidedBy: 'not-a-pod' });
    expect(v.source).toEqual({ kind: 'external', name: '8.8.8.8', ips: ['8.8.8.8'] });
  });

  it('names a namespace label difference', () => {
    const cluster = buildModel([buildPolicy('x', 'from-y', podLabel('a'), { ingress: [{ from: [{ namespaceSelector: nsLabel('y') }] }] })]);
    expect(verdict(cluster, 'z/a', 'x/a').ingress.nearestMiss?.differences).toEqual([
      {
        kind: 'namespace-label',
        wish: "the source's namespace `z` had `kubernetes.io/metadata.name=y`",
        actual: 'it has `kubernetes.io/metadata.name=z`',
        want: 'kubernetes.io/metadata.name=y',
        have: 'kubernetes.io/metadata.name=z',
      },
    ]);
  });
});

describe('Service destinations', () => {
  function serviceCluster(slices: EndpointSlice[] = []): Cluster {
    const cluster = buildModel([buildPolicy('x', 'web-8080-only', { matchLabels: { tier: 'web' } }, { ingress: [{ ports: [{ port: 8080 }] }] })], {
      podLabels: { 'x/a': { tier: 'web' }, 'x/b': { tier: 'web' } },
    });
    pod(cluster, 'x/a').spec!.containers!.push({ name: 'web', ports: [{ name: 'web', containerPort: 8080 }] });
    pod(cluster, 'x/b').spec!.containers!.push({ name: 'web', ports: [{ name: 'web', containerPort: 9090 }] });
    const svc: Service = { kind: 'Service', metadata: { name: 'web', namespace: 'x' }, spec: { selector: { tier: 'web' }, clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 'web', protocol: 'TCP' }] } };
    cluster.services.push(svc);
    cluster.endpointSlices.push(...slices);
    return cluster;
  }

  it('resolves the named targetPort on each endpoint pod and evaluates each', () => {
    const v = verdict(serviceCluster(), 'y/a', 'svc/x/web', 80);
    expect(v.allowed).toBe(false);
    expect(v.service?.endpoints.map((e) => ({ pod: e.destination.name, targetPort: e.targetPort, allowed: e.allowed }))).toEqual([
      { pod: 'x/a', targetPort: 8080, allowed: true },
      { pod: 'x/b', targetPort: 9090, allowed: false },
    ]);
    expect(v.service?.endpoints[1]!.targetPortFrom).toBe('Service port 80 → targetPort "web" = 9090 on b');
    expect(v.reason).toMatch(/^1 of 2 endpoint pods of svc\/x\/web deny this connection; for example x\/b: /);
  });

  it('takes the endpoint pods from EndpointSlices when there are any', () => {
    const slice: EndpointSlice = {
      kind: 'EndpointSlice',
      metadata: { name: 'web-abc', namespace: 'x', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [podIP('x', 'a')], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'a', namespace: 'x' } }],
      ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    };
    const v = verdict(serviceCluster([slice]), 'y/a', 'svc/x/web', 80);
    expect(v.allowed).toBe(true);
    expect(v.service?.endpoints.map((e) => e.destination.name)).toEqual(['x/a']);
  });
});

describe('one engine, many connections', () => {
  it('gives the same verdicts with a prebuilt engine', () => {
    const cluster = buildModel([buildPolicy('x', 'deny', {}, { policyTypes: ['Ingress'] })]);
    const engine = buildPolicyEngine(cluster);
    const q = { source: end(cluster, 'y/a'), destination: end(cluster, 'x/a'), port: 80 };
    expect(evaluateConnection(cluster, q, { engine })).toEqual(evaluateConnection(cluster, q));
  });
});
