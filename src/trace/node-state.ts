// The node state one trace needs, parsed from the plain command output a source hands over: the rules
// of kube-proxy's mode on the node the packet meets first, the node's addresses and routes, and the
// conntrack entries of the destination. Parsing is lenient: a trace is an explanation, and a line
// knet cannot read is a finding, not a reason to explain nothing.
import type { Cluster, ProxyMode } from '../model/cluster.js';
import type { Finding } from '../model/finding.js';
import type { ConntrackEntry } from '../netfilter/conntrack/parse.js';
import { detectRulesFormat } from '../netfilter/detect.js';
import { parseIptablesSave, type IptablesDump } from '../netfilter/iptables/parse.js';
import { chooseBackend } from '../netfilter/iptables/kube-view.js';
import { ipsetLookup, parseIpset } from '../netfilter/ipset/index.js';
import { parseIpvsadm, type IpvsTable } from '../netfilter/ipvs/index.js';
import { parseNftRuleset, type NftRuleset } from '../netfilter/nft/index.js';
import { localAddresses, parseIpAddr, parseIpRoute, type Route } from '../netfilter/routes/index.js';
import type { IpsetLookup } from '../netfilter/types.js';

export type NodeRules =
  | { mode: 'iptables'; dump: IptablesDump; source: string }
  | { mode: 'nftables'; ruleset: NftRuleset; source: string }
  | { mode: 'ipvs'; ipvs: IpvsTable; dump?: IptablesDump; ipsets?: IpsetLookup; source: string };

/** What is known of one node's data plane; a null part is missing and its hop is skipped. */
export interface TraceNodeState {
  node: string;
  rules: NodeRules | null;
  /** The node's own addresses: from `ip addr`, else the Node object's. */
  localIPs: string[];
  routes: Route[] | null;
  /** Entries that involve the destination's addresses; null when the node has no conntrack capture. */
  conntrack: ConntrackEntry[] | null;
  /** What would fill each missing part, for the skipped hop to say. */
  missing: { rules?: string; routes?: string; conntrack?: string };
  findings: Finding[];
}

/** Raw outputs, as the node-state source returns them (null when absent), with where each came from. */
export interface NodeStateTexts {
  node: string;
  iptables?: { text: string; source: string } | null;
  iptablesLegacy?: string | null;
  iptablesNft?: string | null;
  nft?: { text: string; source: string } | null;
  ipvsadm?: { text: string; source: string } | null;
  ipset?: string | null;
  ipRoute?: string | null;
  ipAddr?: string | null;
  conntrack?: ConntrackEntry[] | null;
  /** The sentence for a missing kind, e.g. how to capture it into a snapshot. */
  hint: (kind: 'iptables-save' | 'nft-ruleset' | 'ipvsadm' | 'ip-route' | 'conntrack') => string;
}

const KUBE_PROXY_NFT = /^\s*table\s+(ip|ip6|inet)\s+kube-proxy\b/m;

/** Which rules to read, as kube-proxy's mode says; without a mode, whatever the node has. */
function pickMode(mode: ProxyMode | undefined, t: NodeStateTexts): ProxyMode | null {
  if (mode) return mode;
  if (t.nft && KUBE_PROXY_NFT.test(t.nft.text)) return 'nftables';
  if (t.ipvsadm) return 'ipvs';
  if (t.iptables || t.iptablesLegacy || t.iptablesNft) return 'iptables';
  return null;
}

function iptablesOf(t: NodeStateTexts, findings: Finding[]): { dump: IptablesDump; source: string } | null {
  let text = t.iptables?.text ?? null;
  let source = t.iptables?.source ?? '';
  if (text === null && (t.iptablesLegacy || t.iptablesNft)) {
    const choice = chooseBackend(t.iptablesLegacy ?? null, t.iptablesNft ?? null);
    text = (choice.backend === 'legacy' ? t.iptablesLegacy : t.iptablesNft) ?? null;
    source = `iptables-${choice.backend}-save on ${t.node} (${choice.reason})`;
    if (choice.isSplitBrain) {
      findings.push({ code: 'iptables-split-brain', severity: 'warning', message: `node ${t.node} has kube-proxy chains in both the legacy and the nft iptables backends; the packet meets both`, hint: 'Remove the stale backend\'s rules (iptables-legacy -t nat -F KUBE-SERVICES …) after checking which one kube-proxy writes.', node: t.node });
    }
  }
  if (text === null || detectRulesFormat(text) !== 'iptables') return null;
  // Lazily, as `rules trace` reads it: only the chains this packet reaches are parsed (a node with
  // 10,000 Services has 200,000 rules; one connection meets a few dozen).
  const dump = parseIptablesSave(text, { mode: 'lenient', isLazy: true });
  findings.push(...dump.findings);
  return { dump, source };
}

export function parseTraceNodeState(cluster: Cluster, t: NodeStateTexts): TraceNodeState {
  const findings: Finding[] = [];
  const missing: TraceNodeState['missing'] = {};
  const mode = pickMode(cluster.meta.proxyMode, t);
  let rules: NodeRules | null = null;
  if (mode === 'nftables') {
    if (t.nft) rules = { mode, ruleset: parseNftRuleset(t.nft.text, { mode: 'lenient' }), source: t.nft.source };
    else missing.rules = t.hint('nft-ruleset');
  } else if (mode === 'ipvs') {
    if (t.ipvsadm) {
      const ipt = iptablesOf(t, findings);
      const sets = t.ipset ? parseIpset(t.ipset, { mode: 'lenient' }) : null;
      if (sets) findings.push(...sets.findings);
      rules = { mode, ipvs: parseIpvsadm(t.ipvsadm.text, { mode: 'lenient' }), source: t.ipvsadm.source, ...(ipt ? { dump: ipt.dump } : {}), ...(sets ? { ipsets: ipsetLookup(sets.sets) } : {}) };
    } else missing.rules = t.hint('ipvsadm');
  } else {
    const ipt = iptablesOf(t, findings);
    if (ipt) rules = { mode: 'iptables', dump: ipt.dump, source: ipt.source };
    else missing.rules = t.hint('iptables-save');
  }
  let routes: Route[] | null = null;
  if (t.ipRoute) {
    const parsed = parseIpRoute(t.ipRoute);
    routes = parsed.routes;
    findings.push(...parsed.findings);
  } else missing.routes = t.hint('ip-route');
  const node = cluster.nodes.find((n) => n.metadata.name === t.node);
  const apiIPs = (node?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => a.address);
  const localIPs = t.ipAddr ? localAddresses(parseIpAddr(t.ipAddr).interfaces) : apiIPs;
  if (t.conntrack == null) missing.conntrack = t.hint('conntrack');
  return { node: t.node, rules, localIPs: [...new Set([...localIPs, ...apiIPs])], routes, conntrack: t.conntrack ?? null, missing, findings };
}
