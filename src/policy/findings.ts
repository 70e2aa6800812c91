// Findings about the policies themselves: what can never match, what the API would reject, what is
// read in a way the author may not expect. Reported with the object's namespace/name; never thrown.
import type { Cluster } from '../model/cluster.js';
import { aggregateFindings, type Finding } from '../model/finding.js';
import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer } from '../model/k8s.js';
import { formatSelector, matchesSelector, validateSelector } from '../model/labels.js';
import { cidrContainsCIDR, parseCIDR } from '../model/ip.js';
import { podPorts } from '../model/pod.js';
import { normalizeAdminPolicy } from './admin-policy.js';
import { buildPolicyContext, type PolicyContext } from './endpoint.js';
import { normalizePolicy, type NormalizedPolicy } from './network-policy.js';

/** Every finding code this module emits, with its severity: the README lists them. */
export const POLICY_FINDING_CODES = {
  'policy-without-spec': 'warning',
  'policy-selects-no-pods': 'warning',
  'policy-namespace-empty': 'warning',
  'peer-selects-no-pods': 'warning',
  'peer-selects-no-namespaces': 'warning',
  'named-port-undeclared': 'warning',
  'invalid-selector': 'error',
  'invalid-cidr': 'error',
  'except-outside-cidr': 'error',
  'invalid-peer': 'error',
  'invalid-port-range': 'error',
  'admin-policy-without-spec': 'error',
  'admin-policy-invalid-action': 'error',
} as const;

export type PolicyFindingCode = keyof typeof POLICY_FINDING_CODES;

function finding(code: PolicyFindingCode, policy: { namespace: string | null; name: string; kind: string }, message: string, hint?: string): Finding {
  return {
    code,
    severity: POLICY_FINDING_CODES[code],
    message,
    ...(hint ? { hint } : {}),
    kind: policy.kind,
    ...(policy.namespace !== null ? { namespace: policy.namespace } : {}),
    name: policy.name,
  };
}

interface Scope {
  ctx: PolicyContext;
  podsByNamespace: Map<string, { labels: Record<string, string>; pod: Cluster['pods'][number] }[]>;
  namespaces: string[];
}

function selectorProblems(selector: LabelSelector | null | undefined, where: string, ref: { namespace: string | null; name: string; kind: string }, out: Finding[]): boolean {
  if (!selector) return true;
  const problems = validateSelector(selector);
  for (const p of problems) {
    out.push(finding('invalid-selector', ref, `${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}: ${where}: ${p}; it matches nothing.`, 'The API server rejects such a selector; fix the operator or values.'));
  }
  return problems.length === 0;
}

/** Whether the peer matches any pod: stops at the first (a finding needs only none or some). */
function hasPodMatching(scope: Scope, peer: NetworkPolicyPeer, policyNs: string): boolean {
  const podSelector = peer.podSelector ?? {};
  const namespaceSelector = peer.namespaceSelector;
  for (const ns of namespaceSelector ? scope.namespaces : [policyNs]) {
    if (namespaceSelector && !matchesSelector(namespaceSelector, scope.ctx.namespaceLabels(ns))) continue;
    for (const p of scope.podsByNamespace.get(ns) ?? []) if (matchesSelector(podSelector, p.labels)) return true;
  }
  return false;
}

function checkNetworkPolicy(np: NetworkPolicy, policy: NormalizedPolicy, scope: Scope, out: Finding[]): void {
  const ref = { kind: 'NetworkPolicy', namespace: policy.namespace, name: policy.name };
  const key = policy.key;
  if (!np.spec) {
    out.push(finding('policy-without-spec', ref, `${key} has no spec: Kubernetes reads it as podSelector {} with policyTypes [Ingress], so it denies all ingress to every pod in namespace ${policy.namespace}.`, 'Give it a spec, or delete it if a default-deny was not meant.'));
  }
  const nsPods = scope.podsByNamespace.get(policy.namespace) ?? [];
  const subjectValid = selectorProblems(policy.podSelector, 'spec.podSelector', ref, out);
  const selected = nsPods.filter((p) => !p.pod.spec?.hostNetwork && matchesSelector(policy.podSelector, p.labels));
  if (nsPods.length === 0) {
    out.push(finding('policy-namespace-empty', ref, `${key} is in namespace ${policy.namespace}, which has no pods: it affects nothing yet.`));
  } else if (subjectValid && selected.length === 0) {
    out.push(finding('policy-selects-no-pods', ref, `${key} selects no pod: no pod in ${policy.namespace} has ${formatSelector(policy.podSelector)}.`, 'Check the labels of spec.podSelector against kubectl get pods --show-labels.'));
  }
  for (const dir of ['ingress', 'egress'] as const) {
    policy[dir].forEach((rule, ri) => {
      const field = dir === 'ingress' ? 'from' : 'to';
      rule.peers.forEach((peer, pi) => {
        const where = `spec.${dir}[${ri}].${field}[${pi}]`;
        if (!peer.podSelector && !peer.namespaceSelector && !peer.ipBlock) {
          out.push(finding('invalid-peer', ref, `${key}: ${where} is empty, which the API rejects; it matches nothing here.`));
          return;
        }
        if (peer.ipBlock) {
          if (peer.podSelector || peer.namespaceSelector) {
            out.push(finding('invalid-peer', ref, `${key}: ${where} combines ipBlock with a selector, which the API rejects; it matches nothing here.`));
            return;
          }
          const cidr = parseCIDR(String(peer.ipBlock.cidr ?? ''));
          if (!cidr || !String(peer.ipBlock.cidr).includes('/')) {
            out.push(finding('invalid-cidr', ref, `${key}: ${where}.ipBlock.cidr "${String(peer.ipBlock.cidr)}" is not a CIDR; the block matches nothing.`, 'Write it as ADDRESS/PREFIX, e.g. 10.0.0.0/8.'));
            return;
          }
          for (const ex of peer.ipBlock.except ?? []) {
            const e = parseCIDR(String(ex));
            if (!e || !String(ex).includes('/')) {
              out.push(finding('invalid-cidr', ref, `${key}: ${where}.ipBlock.except "${String(ex)}" is not a CIDR.`));
            } else if (!cidrContainsCIDR(cidr, e) || e.prefix <= cidr.prefix) {
              out.push(finding('except-outside-cidr', ref, `${key}: ${where}.ipBlock.except ${ex} is not a strict subset of cidr ${peer.ipBlock.cidr}; the API rejects it, and it excludes nothing outside the block.`));
            }
          }
          return;
        }
        const nsValid = selectorProblems(peer.namespaceSelector, `${where}.namespaceSelector`, ref, out);
        const podValid = selectorProblems(peer.podSelector, `${where}.podSelector`, ref, out);
        if (!nsValid || !podValid) return;
        if (peer.namespaceSelector && !scope.namespaces.some((ns) => matchesSelector(peer.namespaceSelector!, scope.ctx.namespaceLabels(ns)))) {
          out.push(finding('peer-selects-no-namespaces', ref, `${key}: ${where}.namespaceSelector (${formatSelector(peer.namespaceSelector)}) matches no namespace, so the peer never matches.`, 'Check namespace labels with kubectl get ns --show-labels.'));
          return;
        }
        if (!hasPodMatching(scope, peer, policy.namespace)) {
          const inNs = peer.namespaceSelector ? `namespaces with ${formatSelector(peer.namespaceSelector)}` : `namespace ${policy.namespace}`;
          out.push(finding('peer-selects-no-pods', ref, `${key}: ${where} matches no pod: no pod in ${inNs} has ${formatSelector(peer.podSelector ?? {})}.`, 'Check the labels against kubectl get pods --show-labels.'));
        }
      });
      rule.ports.forEach((p, pi) => {
        const where = `spec.${dir}[${ri}].ports[${pi}]`;
        if (p.endPort !== undefined && (typeof p.port !== 'number' || p.endPort < p.port)) {
          out.push(finding('invalid-port-range', ref, `${key}: ${where} has endPort ${p.endPort} ${typeof p.port === 'number' ? `below port ${p.port}` : 'without a numeric port'}, which the API rejects.`));
        }
        if (typeof p.port !== 'string') return;
        // Ingress: the selected pods must declare the name. Egress: some pod the rule could send to must.
        const candidates = dir === 'ingress' ? selected.map((s) => s.pod) : scope.ctx.cluster.pods;
        if (!candidates.some((pod) => podPorts(pod).some((c) => c.name === p.port && c.protocol === p.protocol))) {
          out.push(finding('named-port-undeclared', ref, `${key}: ${where} names port "${p.port}" for ${p.protocol}, which no ${dir === 'ingress' ? 'selected ' : ''}pod declares; the item matches nothing.`, 'Use the name from the container ports (with the same protocol), or a number.'));
        }
      });
    });
  }
}

/** Findings for every NetworkPolicy (or those in `namespaces`) and every admin policy. */
export function evaluatePolicyFindings(cluster: Cluster, options: { namespaces?: string[] } = {}): Finding[] {
  const ctx = buildPolicyContext(cluster);
  const podsByNamespace: Scope['podsByNamespace'] = new Map();
  for (const pod of cluster.pods) {
    const ns = pod.metadata.namespace ?? 'default';
    const list = podsByNamespace.get(ns) ?? [];
    list.push({ labels: pod.metadata.labels ?? {}, pod });
    podsByNamespace.set(ns, list);
  }
  const namespaces = [...new Set([...cluster.namespaces.map((n) => n.metadata.name), ...podsByNamespace.keys()])];
  const scope: Scope = { ctx, podsByNamespace, namespaces };
  const out: Finding[] = [];
  const wanted = options.namespaces ? new Set(options.namespaces) : undefined;
  for (const np of cluster.networkPolicies) {
    const policy = normalizePolicy(np);
    if (wanted && !wanted.has(policy.namespace)) continue;
    checkNetworkPolicy(np, policy, scope, out);
  }
  for (const obj of [...cluster.adminNetworkPolicies, ...cluster.baselineAdminNetworkPolicies]) {
    const ref = { kind: obj.kind, namespace: null, name: obj.metadata.name };
    const anp = normalizeAdminPolicy(obj);
    if (!anp) {
      out.push(finding('admin-policy-without-spec', ref, `${obj.kind} ${obj.metadata.name} has no spec; it is ignored.`));
      continue;
    }
    for (const dir of ['ingress', 'egress'] as const) {
      anp[dir].forEach((rule, i) => {
        const allowed = anp.kind === 'AdminNetworkPolicy' ? ['Allow', 'Deny', 'Pass'] : ['Allow', 'Deny'];
        if (!allowed.includes(rule.action)) {
          out.push(finding('admin-policy-invalid-action', ref, `${obj.kind} ${obj.metadata.name}: spec.${dir}[${i}] has action "${String(rule.action)}"; expected ${allowed.join(', ')}. The rule is read as matching nothing.`));
        }
      });
    }
    selectorProblems(anp.subject.namespaces ?? anp.subject.pods?.podSelector, 'spec.subject', ref, out);
  }
  // A policy with thousands of peers that select nothing is one finding per code with a count.
  return aggregateFindings(out, { keyOf: (f) => JSON.stringify([f.code, f.kind, f.namespace ?? null, f.name]) });
}
