// Reads a trace in Service terms: what the destination is (ClusterIP, NodePort … of which Service
// port), which endpoint each DNAT reached, why the packet was masqueraded, and which rule decided a
// drop or reject. It reads only the rules the packet crossed (kube-proxy's comments on them), so it
// costs nothing on a dump of 100,000 rules. Renderers only format this; they never re-derive it.
import type { PathStep, TraceResult } from '../types.js';
import { joinHostPort } from '../../model/ip.js';

export interface RuleRef {
  table: string;
  chain: string;
  line: number;
  /** The rule's comment when it has one, else its raw text. */
  text: string;
}

export interface OutcomeExplanation {
  /** The Service port whose endpoint the DNAT reached. */
  endpointOf: string | null;
  /** The rule that marked the packet for masquerade (KUBE-MARK-MASQ) or masqueraded it. */
  masqueradedBy: RuleRef | null;
  /** The rule that accepted, dropped or rejected the packet, when a rule (not a chain policy or the end of the walk) did. */
  decidedBy: RuleRef | null;
}

export interface TraceExplanation {
  /** e.g. `{ servicePortName: 'ns1/svc1:p80', role: 'ClusterIP' }`; null when no kube-proxy rule names it. */
  destination: { servicePortName: string; role: 'ClusterIP' | 'external IP' | 'load-balancer IP' | 'NodePort'; address: string } | null;
  outcomes: OutcomeExplanation[];
}

const COMMENT_RE = /--comment (?:"((?:[^"\\]|\\.)*)"|(\S+))/;
const SPN = '([a-z0-9.-]+/[a-z0-9.-]+(?::\\S*)?)';
/** kube-proxy's comments on the rules that pick a Service port, and what each says the address is. */
type Role = NonNullable<TraceExplanation['destination']>['role'];
const ROLE_COMMENTS: [RegExp, Role][] = [
  [new RegExp(`^${SPN} cluster IP$`, 'i'), 'ClusterIP'],
  [new RegExp(`^${SPN} external IP$`, 'i'), 'external IP'],
  [new RegExp(`^${SPN} loadbalancer IP$`, 'i'), 'load-balancer IP'],
];
const NO_ENDPOINTS = new RegExp(`^${SPN} has no (?:local )?endpoints$`, 'i');
const TO_ENDPOINT = new RegExp(`^${SPN} -> (\\S+)$`, 'i');

function commentOf(rule: string): string | null {
  const m = COMMENT_RE.exec(rule);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

function destinationOf(path: readonly PathStep[], address: string): TraceExplanation['destination'] {
  for (const s of path) {
    const comment = commentOf(s.rule);
    if (comment === null) continue;
    if (s.table === 'nat' && s.chain === 'KUBE-SERVICES') {
      for (const [re, role] of ROLE_COMMENTS) {
        const m = re.exec(comment);
        if (m) return { servicePortName: m[1]!, role, address };
      }
    }
    if (s.table === 'nat' && s.chain === 'KUBE-NODEPORTS' && /^[a-z0-9.-]+\/[a-z0-9.-]+(:\S*)?$/i.test(comment)) {
      return { servicePortName: comment, role: 'NodePort', address };
    }
    const none = NO_ENDPOINTS.exec(comment);
    if (none && s.table === 'filter') {
      const role: Role = s.chain === 'KUBE-SERVICES' ? 'ClusterIP' : /--dst-type LOCAL/.test(s.rule) ? 'NodePort' : 'external IP';
      return { servicePortName: none[1]!, role, address };
    }
  }
  return null;
}

export function explainTrace(result: TraceResult): TraceExplanation {
  const { packet } = result;
  const address = packet.dport === undefined ? packet.dst : joinHostPort(packet.dst, packet.dport);
  let destination: TraceExplanation['destination'] = null;
  for (const o of result.outcomes) {
    destination = destinationOf(o.path, address);
    if (destination !== null) break;
  }
  const outcomes = result.outcomes.map((o): OutcomeExplanation => {
    let masqueradedBy: RuleRef | null = null;
    let decidedBy: RuleRef | null = null;
    let endpointOf: string | null = null;
    for (const s of o.path) {
      const comment = commentOf(s.rule);
      const ref = { table: s.table, chain: s.chain, line: s.line, text: comment ?? s.rule };
      if (masqueradedBy === null && (/\bKUBE-MARK-MASQ\b/.test(s.rule) || /^(MASQUERADE|SNAT)/.test(s.effect ?? ''))) masqueradedBy = ref;
      if (/^(ACCEPT|DROP|REJECT|chain policy DROP)/.test(s.effect?.replace(/^probability [^,]+, /, '') ?? '')) decidedBy = ref;
      const to = comment === null ? null : TO_ENDPOINT.exec(comment);
      if (to && o.dnat !== null && to[2] === o.dnat) endpointOf = to[1]!;
    }
    return { endpointOf, masqueradedBy, decidedBy };
  });
  return { destination, outcomes };
}
