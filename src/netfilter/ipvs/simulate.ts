// kube-proxy's IPVS mode: iptables rules (with ipsets) decide marks, masquerade and filtering; the
// IPVS table decides the destination. Every Service IP sits on the dummy interface kube-ipvs0, so it
// is LOCAL to the node: the packet goes to INPUT, where IPVS picks a real server and DNATs to it.
import { canonicalIP, joinHostPort } from '../../model/ip.js';
import type { IptablesDump } from '../iptables/parse.js';
import { simulateIptables } from '../iptables/simulate.js';
import type { Outcome, Packet, PathStep, SimulateOptions, TraceResult } from '../types.js';
import { overallVerdict } from '../types.js';
import type { IpsetLookup } from '../types.js';
import type { IpvsTable, VirtualServer } from './parse.js';

const MASQ_BIT = 0x4000;
/** Schedulers whose long-run share of new connections follows the weights. */
const WEIGHTED = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sed', 'nq', 'fo', 'ovf', 'mh', 'sh', 'dh']);

export interface IpvsState {
  ipvs: IpvsTable;
  /** The node's `iptables-save`; without it only the IPVS lookup is simulated. */
  iptables?: IptablesDump;
  ipsets?: IpsetLookup;
}

export function findVirtualServer(ipvs: IpvsTable, packet: Pick<Packet, 'dst' | 'dport' | 'protocol' | 'mark'>): VirtualServer | undefined {
  const dst = canonicalIP(packet.dst);
  const proto = packet.protocol.toUpperCase();
  const byMark = packet.mark ? ipvs.virtualServers.find((v) => v.protocol === 'FWM' && v.fwmark === packet.mark) : undefined;
  return byMark ?? ipvs.virtualServers.find((v) => v.protocol === proto && v.port === packet.dport && canonicalIP(v.address) === dst);
}

function vsName(vs: VirtualServer): string {
  if (vs.protocol === 'FWM') return `FWM ${vs.fwmark ?? 0}`;
  return `${vs.protocol} ${joinHostPort(vs.address, vs.port)}`;
}

export function simulateIpvs(state: IpvsState, packet: Packet, options: SimulateOptions): TraceResult {
  // kube-ipvs0 holds every virtual address: they are the node's own for addrtype LOCAL and routing.
  const vips = state.ipvs.virtualServers.filter((v) => v.protocol !== 'FWM').map((v) => v.address);
  const localIPs = [...new Set([...options.localIPs, ...vips])];
  const assumptions = [
    'virtual server addresses are bound to kube-ipvs0, so they are local to the node',
    'each real server gets new connections in proportion to its weight (weight 0: draining, none)',
  ];
  const findings = [...state.ipvs.findings];
  let before: Outcome[];
  if (state.iptables) {
    const ipt = simulateIptables(state.iptables, packet, { ...options, localIPs, ...(state.ipsets ? { ipsets: state.ipsets } : {}) });
    before = ipt.outcomes;
    assumptions.push(...ipt.assumptions);
    findings.push(...ipt.findings);
  } else {
    before = [{ probability: 1, verdict: 'accept', dnat: null, masquerade: false, path: [] }];
    assumptions.push('no iptables-save was given: only the IPVS lookup is simulated (no filtering, marks or masquerade)');
  }
  const outcomes: Outcome[] = [];
  for (const o of before) {
    if (o.verdict !== 'accept' || o.dnat !== null) {
      outcomes.push(o);
      continue;
    }
    outcomes.push(...ipvsOutcomes(state.ipvs, packet, o, localIPs));
  }
  return { verdict: overallVerdict(outcomes), outcomes, format: 'ipvs', packet, assumptions, findings };
}

function ipvsOutcomes(ipvs: IpvsTable, packet: Packet, o: Outcome, localIPs: string[]): Outcome[] {
  const vs = findVirtualServer(ipvs, { ...packet, mark: o.mark ?? packet.mark ?? 0 });
  const isMasq = o.masquerade || ((o.mark ?? 0) & MASQ_BIT) !== 0;
  if (!vs) {
    // Not a virtual server: delivered or forwarded as iptables left it.
    return [{ ...o, masquerade: isMasq }];
  }
  const vsStep: PathStep = { table: 'ipvs', chain: vsName(vs), rule: vs.raw, line: vs.line, effect: `virtual server ${vsName(vs)}, scheduler ${vs.scheduler}${vs.persistent ? `, persistent ${vs.persistent}s (session affinity)` : ''}` };
  const live = vs.realServers.filter((r) => r.weight > 0);
  const total = live.reduce((s, r) => s + r.weight, 0);
  if (live.length === 0) {
    const why = vs.realServers.length === 0 ? 'has no real servers' : 'has only real servers of weight 0 (draining)';
    const isVip = localIPs.includes(packet.dst);
    return [
      {
        ...o,
        verdict: 'reject',
        masquerade: isMasq,
        path: [...o.path, { ...vsStep, effect: `${vsStep.effect}: ${why}; the packet goes to the node's own stack${isVip ? ' on kube-ipvs0' : ''}, where nothing listens (connection refused)` }],
      },
    ];
  }
  const isWeighted = WEIGHTED.has(vs.scheduler);
  return live.map((rs) => {
    const share = isWeighted ? rs.weight / total : 1 / live.length;
    const isNat = rs.forward === 'Masq';
    const outcome: Outcome = {
      ...o,
      probability: o.probability * share,
      verdict: 'accept',
      dnat: isNat ? joinHostPort(rs.address, rs.port) : null,
      masquerade: isMasq,
      realServer: joinHostPort(rs.address, rs.port),
      path: [
        ...o.path,
        vsStep,
        { table: 'ipvs', chain: vsName(vs), rule: rs.raw, line: rs.line, effect: `real server ${joinHostPort(rs.address, rs.port)} (${rs.forward}, weight ${rs.weight} of ${total})${isNat ? `: DNAT to ${joinHostPort(rs.address, rs.port)}` : ''}` },
      ],
    };
    return outcome;
  });
}
