// Reads a trace in Service terms: what the destination is (ClusterIP, NodePort … of which Service
// port), which endpoint each DNAT reached, why the packet was masqueraded, and which rule decided a
// drop or reject. Renderers only format this; they never re-derive it.
import { parseIP } from '../../model/ip.js';
import type { TraceResult } from '../types.js';
import { describeDestination, type KubeView } from './kube-view.js';

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
  /** e.g. `ClusterIP 172.30.0.41:80 of ns1/svc1:p80`; null when the destination is no Service address. */
  destination: { servicePortName: string; role: string; address: string } | null;
  outcomes: OutcomeExplanation[];
}

const COMMENT_RE = /--comment (?:"((?:[^"\\]|\\.)*)"|(\S+))/;

function ruleText(rule: string): string {
  const m = COMMENT_RE.exec(rule);
  return m ? (m[1] ?? m[2] ?? rule) : rule;
}

export function explainTrace(result: TraceResult, view: KubeView | null, localIPs: readonly string[]): TraceExplanation {
  const { packet } = result;
  const dst = parseIP(packet.dst);
  const isLocal = dst !== null && (localIPs.includes(packet.dst) || (dst.family === 4 && packet.dst.startsWith('127.')) || packet.dst === '::1');
  const found = view === null ? null : describeDestination(view, packet.dst, packet.dport, packet.protocol, isLocal);
  const destination = found === null ? null : { servicePortName: found.servicePort.servicePortName, role: found.role, address: packet.dport === undefined ? packet.dst : `${packet.dst}:${packet.dport}` };
  const outcomes = result.outcomes.map((o): OutcomeExplanation => {
    let masqueradedBy: RuleRef | null = null;
    let decidedBy: RuleRef | null = null;
    for (const s of o.path) {
      const ref = { table: s.table, chain: s.chain, line: s.line, text: ruleText(s.rule) };
      if (masqueradedBy === null && (/\bKUBE-MARK-MASQ\b/.test(s.rule) || /^(MASQUERADE|SNAT)/.test(s.effect ?? ''))) masqueradedBy = ref;
      if (/^(ACCEPT|DROP|REJECT|chain policy DROP)/.test(s.effect?.replace(/^probability [^,]+, /, '') ?? '')) decidedBy = ref;
    }
    let endpointOf: string | null = null;
    if (o.dnat !== null && view !== null) {
      for (const sp of view.servicePorts) {
        if (sp.endpoints.some((e) => e.address === o.dnat) || sp.localEndpoints.some((e) => e.address === o.dnat)) {
          endpointOf = sp.servicePortName;
          if (destination === null || destination.servicePortName === sp.servicePortName) break;
        }
      }
    }
    return { endpointOf, masqueradedBy, decidedBy };
  });
  return { destination, outcomes };
}
