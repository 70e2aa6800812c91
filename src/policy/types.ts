// The result shapes of the policy engine. A verdict is data: which policies selected the pod, which rule,
// peer and port matched, or why each rule did not. Renderers format these; they never re-derive them.
import type { Labels } from '../model/labels.js';
import type { Pod, Protocol } from '../model/k8s.js';
import type { Finding } from '../model/finding.js';

export type Direction = 'ingress' | 'egress';

/**
 * One side of a connection as policy sees it. A hostNetwork pod is its node (the most common
 * implementation ignores hostNetwork pods in selectors and sees their traffic as the node's IP).
 */
export type PolicyEndpoint =
  | {
      kind: 'pod';
      namespace: string;
      name: string;
      labels: Labels;
      namespaceLabels: Labels;
      ips: string[];
      nodeName?: string;
      pod: Pod;
    }
  | { kind: 'node'; name: string; ips: string[]; hostNetworkPod?: string }
  | { kind: 'external'; ip: string };

export type PolicyKind = 'NetworkPolicy' | 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy';

export type DifferenceKind =
  | 'pod-label'
  | 'namespace-label'
  | 'namespace'
  | 'not-a-pod'
  | 'ip'
  | 'port'
  | 'protocol'
  | 'named-port'
  | 'invalid';

/**
 * One reason a rule did not match, in words: `wish` completes "would allow this if …",
 * `actual` says what is true instead ("it has `app=front-end`").
 */
export interface Difference {
  kind: DifferenceKind;
  wish: string;
  actual: string;
  /** For a label value: what the rule wants and what the object has (`app=frontend`, `app=front-end`). */
  want?: string;
  have?: string;
}

export interface RuleExplanation {
  /** Index of the rule in spec.ingress / spec.egress. */
  index: number;
  /** The rule's name (AdminNetworkPolicy rules have one). */
  name?: string;
  /** Allow for NetworkPolicy; Allow, Deny or Pass for the admin kinds. */
  action: 'Allow' | 'Deny' | 'Pass';
  matched: boolean;
  /** Index of the peer (from/to item) that matched; null when the rule has no peers (it matches all). */
  peer: number | null;
  /** Index of the ports item that matched; null when the rule has no ports (it matches all). */
  port: number | null;
  /** When not matched: the fewest differences over the rule's peers and ports. */
  differences: Difference[];
  /** One sentence: what matched, or why not. */
  summary: string;
}

export interface PolicyExplanation {
  kind: PolicyKind;
  /** null for the cluster-scoped admin kinds. */
  namespace: string | null;
  name: string;
  /** The first rule that matched, or null. */
  rule: number | null;
  /** AdminNetworkPolicy priority. */
  priority?: number;
  rules: RuleExplanation[];
}

export type StepEffect =
  | 'not-a-pod'
  | 'own-node'
  | 'not-isolated'
  | 'isolated'
  | 'rule-allows'
  | 'no-rule-allows'
  | 'admin-allow'
  | 'admin-deny'
  | 'admin-pass'
  | 'baseline-allow'
  | 'baseline-deny'
  | 'default-allow';

/** A named effect in the chain that leads to a verdict. */
export interface Step {
  effect: StepEffect;
  /** `ns/name` (or `name` for the admin kinds) of the policy that had the effect. */
  policy?: string;
  rule?: number;
  message: string;
}

export interface NearMiss {
  kind: PolicyKind;
  policy: string;
  rule: number;
  differences: Difference[];
  message: string;
}

export type DecidedBy =
  | 'not-a-pod'
  | 'own-node'
  | 'not-isolated'
  | 'network-policy'
  | 'admin-network-policy'
  | 'baseline-admin-network-policy';

export interface DirectionExplanation {
  direction: Direction;
  allowed: boolean;
  /** Whether NetworkPolicies isolate the pod in this direction. */
  isolated: boolean;
  decidedBy: DecidedBy;
  /** The pod this direction is about (the source for egress, the destination for ingress), or the endpoint. */
  subject: string;
  /** The policies that select the subject for this direction, in evaluation order. */
  policies: PolicyExplanation[];
  reason: string;
  steps: Step[];
  nearestMiss?: NearMiss;
}

export interface EndpointSummary {
  kind: PolicyEndpoint['kind'] | 'service';
  /** `NS/POD`, `node/NAME`, `svc/NS/NAME` or the IP. */
  name: string;
  ips: string[];
}

export interface ConnectionExplanation {
  allowed: boolean;
  source: EndpointSummary;
  destination: EndpointSummary;
  port: number;
  protocol: Protocol;
  egress: DirectionExplanation;
  ingress: DirectionExplanation;
  reason: string;
}

export interface ServiceEndpointExplanation extends ConnectionExplanation {
  /** The target port on this endpoint pod, and how it was found. */
  targetPort: number;
  targetPortFrom: string;
}

export interface ServiceExplanation {
  namespace: string;
  name: string;
  port: number;
  protocol: Protocol;
  /** How the Service port maps to pod ports: `80 → 8080` or `80 → http`. */
  targetPort: number | string;
  endpoints: ServiceEndpointExplanation[];
}

/** What `explain-policy SRC DST` returns: the contract's fields, and the evidence behind them. */
export interface PolicyVerdict extends ConnectionExplanation {
  /** Present when the destination is a Service: one evaluation per endpoint pod. */
  service?: ServiceExplanation;
  findings: Finding[];
}

export interface MatrixCell {
  from: string;
  to: string;
  port: number;
  protocol: Protocol;
  allowed: boolean;
}

export interface MatrixPort {
  port: number;
  protocol: Protocol;
}
