// Reading what kube-proxy programmed on one node, in its mode, from the node-state source (a snapshot's
// nodes/NODE/ files, or a debug pod live): the dumps parsed leniently, their problems kept as findings.
import type { ProxyMode } from '../model/cluster.js';
import { inputError } from '../model/errors.js';
import type { Finding } from '../model/finding.js';
import type { IPFamily } from '../model/ip.js';
import { chooseBackend } from '../netfilter/iptables/kube-view.js';
import { parseIptablesSave, type IptablesDump } from '../netfilter/iptables/parse.js';
import { parseIpvsadm } from '../netfilter/ipvs/parse.js';
import { NftParseError, parseNftRuleset } from '../netfilter/nft/index.js';
import { chooseProxyMode, type KubeProxyState } from '../netfilter/rules-diff/index.js';
import type { OpenedCluster } from '../sources/cluster.js';
import { NODE_STATE_FILES, type NodeStateKind } from '../sources/node-state.js';
import { captureHint } from './node-read.js';

export interface LoadedKubeProxyState {
  state: KubeProxyState;
  /** Where each dump came from, for the header. */
  sources: string[];
  /** Parse problems read past (lenient). */
  findings: Finding[];
}

const IPTABLES_KINDS: Record<IPFamily, { plain: NodeStateKind; legacy: NodeStateKind; nft: NodeStateKind }> = {
  4: { plain: 'iptables-save', legacy: 'iptables-legacy-save', nft: 'iptables-nft-save' },
  6: { plain: 'ip6tables-save', legacy: 'ip6tables-legacy-save', nft: 'ip6tables-nft-save' },
};

/** One family's iptables dump: iptables-save, else the backend kube-proxy's iptables-wrapper would pick. */
async function readIptables(opened: OpenedCluster, node: string, family: IPFamily): Promise<{ text: string; source: string } | null> {
  const kinds = IPTABLES_KINDS[family];
  const plain = await opened.nodeState.read(node, kinds.plain);
  if (plain !== null) return { text: plain, source: opened.nodeState.describe(node, kinds.plain) };
  const legacy = await opened.nodeState.read(node, kinds.legacy);
  const nft = await opened.nodeState.read(node, kinds.nft);
  if (legacy === null && nft === null) return null;
  const kind = chooseBackend(legacy, nft).backend === 'legacy' ? kinds.legacy : kinds.nft;
  return { text: (kind === kinds.legacy ? legacy : nft)!, source: opened.nodeState.describe(node, kind) };
}

function hasKubeProxyTable(text: string): boolean {
  return /\btable\s+(ip|ip6)\s+kube-proxy\b/.test(text) || /"name"\s*:\s*"kube-proxy"/.test(text);
}

/**
 * Which mode kube-proxy runs in on the node, when its configuration does not say: from what the state
 * holds (reading only what is needed, so that a live node runs as few commands as possible).
 */
async function detectMode(opened: OpenedCluster, node: string): Promise<{ mode: ProxyMode | null; nftText: string | null; iptables: { text: string; source: string } | null }> {
  const nftText = (await opened.nodeState.read(node, 'nft-ruleset-json')) ?? (await opened.nodeState.read(node, 'nft-ruleset'));
  const iptables = await readIptables(opened, node, 4);
  const text = iptables?.text ?? '';
  const ipvsText = text.includes('KUBE-CLUSTER-IP') ? null : await opened.nodeState.read(node, 'ipvsadm');
  const mode = chooseProxyMode(undefined, {
    nftables: nftText !== null && hasKubeProxyTable(nftText),
    // IPVS mode's iptables rules match kube-proxy's ipsets; its virtual servers are in ipvsadm's table.
    ipvs: text.includes('KUBE-CLUSTER-IP') || (ipvsText !== null && /^(TCP|UDP|SCTP)\s|^-A\s/m.test(ipvsText)),
    iptables: /^:KUBE-(SVC|SEP|SERVICES)[-\s]/m.test(text),
  });
  return { mode, nftText, iptables };
}

export async function readKubeProxyState(opened: OpenedCluster, node: string, requested: ProxyMode | undefined): Promise<LoadedKubeProxyState> {
  const declared = requested ?? opened.cluster.meta.proxyMode;
  const detected = declared === undefined ? await detectMode(opened, node) : null;
  const mode = declared ?? detected!.mode;
  const nftText = detected?.nftText ?? (mode === 'nftables' ? ((await opened.nodeState.read(node, 'nft-ruleset-json')) ?? (await opened.nodeState.read(node, 'nft-ruleset'))) : null);
  const missing = (kind: NodeStateKind, what: string): never => {
    throw inputError(`node ${node} has no ${NODE_STATE_FILES[kind]} in ${opened.origin}: ${what}`, 'node-state-missing', [captureHint(node, kind)]);
  };
  if (mode === null) missing('iptables-save', "kube-proxy's rules are needed (iptables-save, nft list ruleset or ipvsadm -Ln)");
  if (mode === 'ipvs') {
    const text = (await opened.nodeState.read(node, 'ipvsadm')) ?? missing('ipvsadm', 'kube-proxy runs in IPVS mode');
    const ipvs = parseIpvsadm(text, { mode: 'lenient' });
    return { state: { mode: 'ipvs', ipvs }, sources: [opened.nodeState.describe(node, 'ipvsadm')], findings: ipvs.findings };
  }
  if (mode === 'nftables') {
    const text = nftText ?? missing('nft-ruleset', 'kube-proxy runs in nftables mode');
    try {
      const ruleset = parseNftRuleset(text, { mode: 'lenient' });
      const kind: NodeStateKind = text.trimStart().startsWith('{') ? 'nft-ruleset-json' : 'nft-ruleset';
      return { state: { mode: 'nftables', ruleset }, sources: [opened.nodeState.describe(node, kind)], findings: ruleset.findings };
    } catch (err) {
      if (err instanceof NftParseError) throw inputError(`node ${node}: ${err.message}`, 'nft-malformed', ['Capture it again with `nft -j list ruleset` on the node.']);
      throw err;
    }
  }
  const dumps: { family: IPFamily; dump: IptablesDump }[] = [];
  const sources: string[] = [];
  const findings: Finding[] = [];
  // IPv6 is compared when the node has kube-proxy's ip6tables chains or the API has IPv6 ClusterIPs.
  const hasIPv6Services = opened.cluster.services.some((svc) => (svc.spec?.clusterIPs ?? [svc.spec?.clusterIP ?? '']).some((ip) => ip.includes(':')));
  for (const family of [4, 6] as const) {
    const read = family === 4 && detected?.iptables ? detected.iptables : await readIptables(opened, node, family);
    if (read === null || (family === 6 && !hasIPv6Services && !read.text.includes(':KUBE-'))) continue;
    const dump = parseIptablesSave(read.text, { mode: 'lenient', isLazy: true, shouldCheckAll: true });
    dumps.push({ family, dump });
    sources.push(read.source);
    findings.push(...dump.findings);
  }
  if (dumps.length === 0) missing('iptables-save', 'kube-proxy runs in iptables mode');
  return { state: { mode: 'iptables', dumps }, sources, findings };
}
