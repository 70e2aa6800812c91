/**
 * `diffRules`: did kube-proxy program on a node what the API says? Pure: the Cluster (Services,
 * EndpointSlices) and the node's parsed kube-proxy state in, a report out.
 *
 *   import { diffRules } from '../netfilter/rules-diff/index.js';
 *   const report = diffRules({ cluster, node: 'kind-worker', state: { mode: 'iptables', dumps: [{ family: 4, dump }] } });
 *   report.summary.isInSync   // true when no finding at all
 *   hasErrors(report.findings) // the command's exit 1
 *
 * Per Service port and IP family it compares the destinations (ClusterIPs, external and load-balancer
 * IPs, NodePorts), the endpoints of the cluster-wide and node-local chains, the probability of each
 * random branch, and the REJECT/DROP rules of ports without endpoints, with what kube-proxy programs
 * for the same API objects: ready endpoints (serving-and-terminating ones only when none is ready),
 * internal/externalTrafficPolicy Local by this node's endpoints, no rules for headless and
 * ExternalName Services, the ClientIP session affinity and the load-balancer source ranges. Finding
 * codes (contract): service-not-programmed, stale-service-rules, stale-endpoint-rules,
 * endpoint-not-programmed, uneven-probabilities, reject-with-endpoints, affinity-not-programmed,
 * stale-affinity-rules, source-ranges-not-programmed, stale-source-ranges.
 */
import type { Cluster, ProxyMode } from '../../model/cluster.js';
import { aggregateFindings, countFindings, FINDINGS_PER_GROUP, type Finding } from '../../model/finding.js';
import { canonicalIP, type IPFamily } from '../../model/ip.js';
import type { IptablesDump } from '../iptables/parse.js';
import type { IpvsTable } from '../ipvs/parse.js';
import type { NftRuleset } from '../nft/model.js';
import { SCAN_LIMIT, expectServicePortsLazily, indexSlicesByService, type ApiEndpoint, type ExpectedServicePort } from './expected.js';
import { programmedFromIpvs, programmedFromIptables, programmedFromNft, whereOf, type ProgrammedEndpoint, type ProgrammedServicePort, type ProgrammedState } from './programmed.js';

export type { ExpectedServicePort, ApiEndpoint } from './expected.js';
export { expectServicePorts } from './expected.js';
export type { ProgrammedServicePort, ProgrammedEndpoint } from './programmed.js';

/** The node's kube-proxy state, parsed, in whichever mode kube-proxy runs. */
export type KubeProxyState =
  | { mode: 'iptables'; dumps: { family: IPFamily; dump: IptablesDump }[] }
  | { mode: 'nftables'; ruleset: NftRuleset }
  | { mode: 'ipvs'; ipvs: IpvsTable };

export interface DiffRulesOptions {
  cluster: Cluster;
  /** The node's name as EndpointSlices write it in `nodeName`: its endpoints are the local ones. */
  node: string;
  state: KubeProxyState;
  /** Only this Service. */
  service?: { namespace: string; name: string };
}

export interface RulesDiffServicePort {
  namespace: string;
  name: string;
  /** The Service port number; null for rules whose Service the API no longer has. */
  port: number | null;
  portName: string;
  protocol: string;
  family: IPFamily;
  /** in-sync: rules match the API; drift: they differ; stale: rules for a Service port the API does not have. */
  status: 'in-sync' | 'drift' | 'stale';
  endpoints: { expected: number; programmed: number };
  findings: Finding[];
}

export interface RulesDiffReport {
  node: string;
  mode: ProxyMode;
  families: IPFamily[];
  services: RulesDiffServicePort[];
  findings: Finding[];
  summary: { servicePorts: number; inSync: number; drifted: number; stale: number; errors: number; warnings: number; isInSync: boolean };
  /** What the comparison took for granted, in words. */
  assumptions: string[];
}

const PROBABILITY_TOLERANCE = 0.001;

function percent(p: number): string {
  const v = p * 100;
  return `${Number(v.toFixed(v < 1 ? 4 : 1))}%`;
}

function familiesOf(state: KubeProxyState): IPFamily[] {
  if (state.mode === 'iptables') return [...new Set(state.dumps.map((d) => d.family))].sort();
  if (state.mode === 'nftables') {
    const out: IPFamily[] = [];
    if (state.ruleset.tables.some((t) => t.name === 'kube-proxy' && t.family === 'ip')) out.push(4);
    if (state.ruleset.tables.some((t) => t.name === 'kube-proxy' && t.family === 'ip6')) out.push(6);
    return out;
  }
  const out: IPFamily[] = [4];
  if (state.ipvs.virtualServers.some((vs) => vs.address.includes(':'))) out.push(6);
  return out;
}

function programmedOf(state: KubeProxyState, family: IPFamily, expected: readonly ExpectedServicePort[]): ProgrammedState {
  if (state.mode === 'iptables') {
    const dump = state.dumps.find((d) => d.family === family)!.dump;
    return programmedFromIptables(dump, family, expected);
  }
  if (state.mode === 'nftables') return programmedFromNft(state.ruleset, family) ?? { family, servicePorts: [] };
  return programmedFromIpvs(state.ipvs, family, expected);
}

interface PortContext {
  node: string;
  mode: ProxyMode;
  family: IPFamily;
}

function serviceContext(e: { namespace: string; name: string }, servicePortName: string, protocol: string): Record<string, string> {
  return { service: `${e.namespace}/${e.name}`, servicePort: servicePortName, protocol };
}

const KUBE_PROXY_HINT = (node: string): string =>
  `kube-proxy on ${node} is behind the API: check its logs (kubectl -n kube-system logs POD, the kube-proxy pod on ${node}) and its sync metrics; restarting it rewrites every rule.`;

function roleOf(e: ExpectedServicePort, dest: string): string {
  if (e.clusterIPs.includes(dest)) return `ClusterIP ${dest}`;
  if (e.loadBalancerIPs.includes(dest)) return `load-balancer IP ${dest}`;
  if (e.externalIPs.includes(dest)) return `external IP ${dest}`;
  return dest;
}

/** Why kube-proxy does not use an address that the rules send traffic to. */
function whyNotUsed(address: string, e: ExpectedServicePort, chain: 'cluster' | 'local'): string {
  const api = e.endpoints.find((x) => x.address === address);
  if (api === undefined) return `not an endpoint of ${e.servicePortName} in the API any more (gone)`;
  if (!api.isReady && api.isTerminating && !api.isServing) return 'terminating and no longer serving';
  if (!api.isReady && api.isTerminating) return 'terminating, while other endpoints are ready';
  if (!api.isReady) return 'not ready';
  if (chain === 'local' && !api.isLocal) return `on node ${api.nodeName ?? '(none)'}, not this one`;
  if (chain === 'cluster' && e.clusterEndpoints === null) return `ready, but kube-proxy writes no cluster-wide chain for this port (internalTrafficPolicy Local, no external access)`;
  return 'not used by kube-proxy';
}

function describeEndpoint(api: ApiEndpoint | undefined, address: string): string {
  if (api === undefined) return address;
  return `${address}${api.nodeName ? ` on ${api.nodeName}` : ''}`;
}

/** The addresses of a list as a Set when it is long, else null (scanned by `hasAddress`). */
function addressSet(list: readonly { address: string }[]): Set<string> | null {
  return list.length <= SCAN_LIMIT ? null : new Set(list.map((x) => x.address));
}

function hasAddress(list: readonly { address: string }[], set: Set<string> | null, address: string): boolean {
  if (set !== null) return set.has(address);
  for (const x of list) if (x.address === address) return true;
  return false;
}

function isSameOrder(a: readonly { address: string }[], b: readonly { address: string }[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i]!.address !== b[i]!.address) return false;
  return true;
}

const NO_ENDPOINTS: readonly never[] = [];

/** How many distinct endpoints two lists hold together. */
function countDistinct(a: readonly { address: string }[] | null, b: readonly { address: string }[] | null): number {
  if (a === null || a.length === 0) return b?.length ?? 0;
  if (b === null || b.length === 0) return a.length;
  return new Set([...a, ...b].map((x) => x.address)).size;
}

function chainWordOf(kind: 'cluster' | 'local', ctx: PortContext): string {
  return ctx.mode === 'ipvs' ? 'the virtual servers' : kind === 'cluster' ? `the cluster-wide chain${ctx.mode === 'iptables' ? ' (KUBE-SVC)' : ' (service-…)'}` : `the node-local chain${ctx.mode === 'iptables' ? ' (KUBE-SVL)' : ' (local-…)'}`;
}

/** Adds to `out` what differs between one chain's endpoints in the API and on the node. Nothing is made for a chain that matches. */
function compareChain(out: Finding[], e: ExpectedServicePort, kind: 'cluster' | 'local', expected: ApiEndpoint[] | null, programmed: ProgrammedEndpoint[] | null, ctx: PortContext, isPortMissing: boolean): void {
  const wanted: readonly ApiEndpoint[] = expected ?? NO_ENDPOINTS;
  const have: readonly ProgrammedEndpoint[] = programmed ?? NO_ENDPOINTS;
  // The same addresses in the same order, as the rules were written from these slices: nothing is
  // missing and nothing stale, found with one comparison per endpoint instead of a search for each.
  if (wanted.length === have.length && isSameOrder(wanted, have)) {
    unevenProbabilities(out, e, have, kind, ctx);
    return;
  }
  const haveSet = addressSet(have);
  const wantedSet = addressSet(wanted);
  if (!isPortMissing) {
    for (const w of wanted) {
      if (hasAddress(have, haveSet, w.address)) continue;
      const state = w.isReady ? 'ready' : 'serving (terminating, and none is ready)';
      out.push({
        code: 'endpoint-not-programmed',
        severity: 'error',
        message: `${e.servicePortName} (${e.protocol}): ${state} endpoint ${describeEndpoint(w, w.address)} is missing from ${chainWordOf(kind, ctx)} on ${ctx.node}${programmed === null ? ', which does not exist' : ''}: it gets no traffic through this node`,
        hint: KUBE_PROXY_HINT(ctx.node),
        ...serviceContext(e, e.servicePortName, e.protocol),
        endpoint: w.address,
      });
    }
  }
  for (const h of have) {
    if (hasAddress(wanted, wantedSet, h.address)) continue;
    out.push({
      code: 'stale-endpoint-rules',
      severity: 'error',
      message: `${e.servicePortName} (${e.protocol}): ${whereOf(h)} sends ${percent(h.probability)} of new connections to ${h.address}, which is ${whyNotUsed(h.address, e, kind)}: those connections fail or reach the wrong pod`,
      hint: KUBE_PROXY_HINT(ctx.node),
      ...serviceContext(e, e.servicePortName, e.protocol),
      endpoint: h.address,
      rule: whereOf(h),
    });
  }
  unevenProbabilities(out, e, have, kind, ctx);
}

function unevenProbabilities(out: Finding[], e: ExpectedServicePort, have: readonly ProgrammedEndpoint[], kind: 'cluster' | 'local', ctx: PortContext): void {
  if (have.length === 0) return;
  const even = 1 / have.length;
  let total = 0;
  let isEven = true;
  for (const h of have) {
    total += h.probability;
    if (!(Math.abs(h.probability - even) <= PROBABILITY_TOLERANCE)) isEven = false;
  }
  if (isEven && Math.abs(total - 1) <= PROBABILITY_TOLERANCE) return;
  const spn = e.servicePortName;
  const rest = total < 1 - PROBABILITY_TOLERANCE ? `; ${percent(1 - total)} fall through the chain without an endpoint` : '';
  out.push({
    code: 'uneven-probabilities',
    severity: 'warning',
    message: `${spn}: ${chainWordOf(kind, ctx)} on ${ctx.node} split${ctx.mode === 'ipvs' ? '' : 's'} new connections ${have.map((h) => `${h.address} ${percent(h.probability)}`).join(', ')} instead of ${percent(even)} each${rest}`,
    hint: 'kube-proxy writes probabilities 1/n, 1/(n-1) … 1 down its list; uneven ones were edited by hand or are left from another writer.',
    ...serviceContext(e, e.servicePortName, e.protocol),
    rule: whereOf(have[0]!),
  });
}

function comparePort(e: ExpectedServicePort, p: ProgrammedServicePort | undefined, ctx: PortContext): Finding[] {
  const isIpvs = ctx.mode === 'ipvs';
  const usable = e.clusterEndpoints?.length ?? e.localEndpoints?.length ?? 0;
  if (p === undefined) {
    if (e.hasEndpoints) {
      const destinations = [...(isIpvs || e.hasInternalEndpoints ? e.clusterIPs : []), ...e.externalIPs, ...e.loadBalancerIPs].map((d) => roleOf(e, d));
      if (e.nodePort !== null) destinations.push(`NodePort ${e.nodePort}`);
      return [
        {
          code: 'service-not-programmed',
          severity: 'error',
          message: `${e.servicePortName} (${e.protocol}) has ${usable} usable endpoint${usable === 1 ? '' : 's'} but no rules on ${ctx.node}: connections to ${destinations.join(', ')} through this node are not load-balanced`,
          hint: KUBE_PROXY_HINT(ctx.node),
          ...serviceContext(e, e.servicePortName, e.protocol),
          destinations,
        },
      ];
    }
    return [
      {
        code: 'service-not-programmed',
        severity: 'warning',
        message: `${e.servicePortName} (${e.protocol}) has no endpoints, and ${isIpvs ? 'no virtual server exists' : 'no rule rejects it'} on ${ctx.node}: clients wait for a timeout instead of being refused at once`,
        hint: KUBE_PROXY_HINT(ctx.node),
        ...serviceContext(e, e.servicePortName, e.protocol),
      },
    ];
  }
  // A port whose rules match the API, as nearly all do, makes nothing here but `out`: no Set, no copy.
  const out: Finding[] = [];
  const internal = e.clusterIPs;
  const isApiDestination = (d: string): boolean => internal.includes(d) || e.externalIPs.includes(d) || e.loadBalancerIPs.includes(d);
  const isBlocked = (d: string): boolean => p.blocks.some((b) => b.destination === d);
  // IPVS keeps a virtual server for every address; the iptables and nftables modes route a destination only when it has endpoints.
  // Routed in this order: ClusterIPs, external IPs, load-balancer IPs.
  const missing: string[] = [];
  const isMissing = (d: string): boolean => !p.destinations.has(d) && !isBlocked(d);
  if (isIpvs || e.hasInternalEndpoints) for (const d of internal) if (isMissing(d)) missing.push(roleOf(e, d));
  if (isIpvs || e.hasEndpoints) {
    for (const d of e.externalIPs) if (isMissing(d)) missing.push(roleOf(e, d));
    for (const d of e.loadBalancerIPs) if (isMissing(d)) missing.push(roleOf(e, d));
  }
  const isNodePortRouted = e.nodePort !== null && (isIpvs || e.hasEndpoints);
  if (isNodePortRouted && !p.nodePorts.has(e.nodePort!) && !isBlocked(`nodePort ${e.nodePort}`)) missing.push(`NodePort ${e.nodePort}`);
  const isPortMissing = missing.length > 0 && p.destinations.size === 0 && p.nodePorts.size === 0;
  if (missing.length > 0) {
    out.push({
      code: 'service-not-programmed',
      severity: 'error',
      message: `${e.servicePortName} (${e.protocol}) has ${usable} usable endpoint${usable === 1 ? '' : 's'}, but no rule on ${ctx.node} sends ${missing.join(', ')} to them: connections there through this node are not load-balanced`,
      hint: KUBE_PROXY_HINT(ctx.node),
      ...serviceContext(e, e.servicePortName, e.protocol),
      destinations: missing,
    });
  }
  for (const [dest, where] of p.destinations) {
    if (isApiDestination(dest)) continue;
    out.push(staleDestination(e, dest, where, ctx));
  }
  for (const [nodePort, where] of p.nodePorts) {
    if (nodePort === e.nodePort) continue;
    out.push(staleDestination(e, `NodePort ${nodePort}`, where, ctx));
  }
  if (!isIpvs) {
    for (const b of p.blocks) {
      const isNodePort = b.destination.startsWith('nodePort ');
      const known = isNodePort ? Number(b.destination.slice(9)) === e.nodePort : isApiDestination(b.destination);
      if (!known) {
        out.push(staleDestination(e, b.destination, b.where, ctx));
        continue;
      }
      const isInternal = !isNodePort && internal.includes(b.destination);
      const hasEndpoints = isInternal ? e.hasInternalEndpoints : e.hasExternalEndpoints;
      if (!hasEndpoints) continue;
      out.push({
        code: 'reject-with-endpoints',
        severity: 'error',
        message: `${e.servicePortName} (${e.protocol}): ${b.where} ${b.verdict === 'reject' ? 'rejects' : 'drops'} new connections to ${isNodePort ? b.destination.replace('nodePort', 'NodePort') : roleOf(e, b.destination)}, although the Service has ${usable} usable endpoint${usable === 1 ? '' : 's'}${isInternal || e.externalTrafficPolicy !== 'Local' ? '' : ' on this node'}`,
        hint: KUBE_PROXY_HINT(ctx.node),
        ...serviceContext(e, e.servicePortName, e.protocol),
        destination: b.destination,
        rule: b.where,
      });
    }
    // What kube-proxy rejects or drops, in this order: ClusterIPs, external IPs, load-balancer IPs, the NodePort.
    if (!e.hasInternalEndpoints || !e.hasExternalEndpoints) {
      const shouldBlock = [...(e.hasInternalEndpoints ? [] : internal), ...(e.hasExternalEndpoints ? [] : [...e.externalIPs, ...e.loadBalancerIPs]), ...(e.hasExternalEndpoints || e.nodePort === null ? [] : [`nodePort ${e.nodePort}`])];
      const missingBlocks: string[] = [];
      for (const d of shouldBlock) if (!isBlocked(d)) missingBlocks.push(d.startsWith('nodePort') ? d.replace('nodePort', 'NodePort') : roleOf(e, d));
      if (missingBlocks.length > 0) {
        const why = e.hasEndpoints ? 'has no endpoint on this node for them' : 'has no endpoints';
        out.push({
          code: 'service-not-programmed',
          severity: 'warning',
          message: `${e.servicePortName} (${e.protocol}) ${why}, and no rule on ${ctx.node} ${e.hasEndpoints ? 'drops' : 'rejects'} ${missingBlocks.join(', ')}: clients wait for a timeout instead of being refused at once`,
          hint: KUBE_PROXY_HINT(ctx.node),
          ...serviceContext(e, e.servicePortName, e.protocol),
          destinations: missingBlocks,
        });
      }
    }
  }
  compareChain(out, e, 'cluster', e.clusterEndpoints, p.clusterEndpoints, ctx, isPortMissing);
  compareChain(out, e, 'local', e.localEndpoints, p.localEndpoints, ctx, isPortMissing);
  compareAffinity(out, e, p, ctx);
  compareSourceRanges(out, e, p, ctx);
  return out;
}

function seconds(s: number): string {
  return s === 0 ? 'no timeout' : `${s}s`;
}

/**
 * sessionAffinity ClientIP: kube-proxy keeps each client on the endpoint it first reached, for
 * timeoutSeconds (iptables `-m recent --rcheck --seconds T` per endpoint, nftables affinity sets with
 * `timeout T`, IPVS `persistent T`). Compared where the node has endpoint rules to carry it.
 */
function compareAffinity(out: Finding[], e: ExpectedServicePort, p: ProgrammedServicePort, ctx: PortContext): void {
  const have = p.affinitySeconds;
  const hasEndpointRules = (p.clusterEndpoints?.length ?? 0) + (p.localEndpoints?.length ?? 0) > 0;
  if (have === undefined || !hasEndpointRules) return;
  const want = e.affinitySeconds;
  // The same timeout, or none on either side: nothing to say (and nothing made).
  if (want === have) return;
  const where = p.affinityWhere ?? p.where;
  const base = { ...serviceContext(e, e.servicePortName, e.protocol), rule: where };
  if (want !== null && have === null) {
    out.push({
      code: 'affinity-not-programmed',
      severity: 'error',
      message: `${e.servicePortName} (${e.protocol}) asks for sessionAffinity ClientIP (${want}s), but ${where} on ${ctx.node} keeps no affinity: a client's connections are spread over every endpoint`,
      hint: KUBE_PROXY_HINT(ctx.node),
      ...base,
      expectedSeconds: want,
    });
    return;
  }
  if (want === null && have !== null) {
    out.push({
      code: 'stale-affinity-rules',
      severity: 'warning',
      message: `${where} on ${ctx.node} keeps each client on one endpoint of ${e.servicePortName} (${e.protocol}) for ${seconds(have)}, but the Service no longer asks for sessionAffinity ClientIP`,
      hint: KUBE_PROXY_HINT(ctx.node),
      ...base,
      programmedSeconds: have,
    });
    return;
  }
  // 0: a timeout the state does not tell (an nftables set printed without one).
  if (want !== null && have !== null && have !== 0 && have !== want) {
    out.push({
      code: 'stale-affinity-rules',
      severity: 'warning',
      message: `${where} on ${ctx.node} keeps ${e.servicePortName} (${e.protocol}) clients on their endpoint for ${seconds(have)}, but the Service's sessionAffinityConfig says ${want}s`,
      hint: KUBE_PROXY_HINT(ctx.node),
      ...base,
      expectedSeconds: want,
      programmedSeconds: have,
    });
  }
}

/**
 * loadBalancerSourceRanges: kube-proxy sends the load-balancer IPs of a port with endpoints through a
 * firewall that admits only those sources (iptables KUBE-FW-… `-s RANGE` rules, with KUBE-PROXY-FIREWALL
 * dropping the rest; nftables firewall-ips and `ip saddr != { … } drop`). Besides the ranges, kube-proxy
 * admits the load-balancer IPs themselves when a range holds a node IP.
 */
function compareSourceRanges(out: Finding[], e: ExpectedServicePort, p: ProgrammedServicePort, ctx: PortContext): void {
  const have = p.sourceRanges;
  if (have === undefined || e.loadBalancerIPs.length === 0 || !e.hasEndpoints) return;
  const want = e.loadBalancerSourceRanges;
  const where = p.firewallWhere ?? p.where;
  const base = { ...serviceContext(e, e.servicePortName, e.protocol), rule: where };
  const lbHosts = new Set(e.loadBalancerIPs.map((d) => `${canonicalIP(d.slice(0, d.lastIndexOf(':')).replace(/^\[|\]$/g, ''))}/${d.includes('[') ? 128 : 32}`));
  const lbs = e.loadBalancerIPs.map((d) => roleOf(e, d)).join(', ');
  if (have === null) {
    if (want.length === 0) return;
    out.push({
      code: 'source-ranges-not-programmed',
      severity: 'error',
      message: `${e.servicePortName} (${e.protocol}) admits only ${want.join(', ')} (loadBalancerSourceRanges), but ${ctx.node} has no firewall for ${lbs}: every source reaches it through this node`,
      hint: KUBE_PROXY_HINT(ctx.node),
      ...base,
      sourceRanges: want,
    });
    return;
  }
  if (want.length === 0) {
    out.push({
      code: 'stale-source-ranges',
      severity: 'error',
      message: `${where} on ${ctx.node} admits only ${have.join(', ') || 'no source'} to ${lbs}, but the Service sets no loadBalancerSourceRanges: every other client is dropped`,
      hint: KUBE_PROXY_HINT(ctx.node),
      ...base,
      programmedRanges: have,
    });
    return;
  }
  const missing = want.filter((r) => !have.includes(r));
  const extra = have.filter((r) => !want.includes(r) && !lbHosts.has(r));
  if (missing.length > 0) {
    out.push({
      code: 'source-ranges-not-programmed',
      severity: 'error',
      message: `${e.servicePortName} (${e.protocol}) admits ${missing.join(', ')} (loadBalancerSourceRanges), but ${where} on ${ctx.node} does not: clients from there are dropped`,
      hint: KUBE_PROXY_HINT(ctx.node),
      ...base,
      sourceRanges: missing,
    });
  }
  if (extra.length > 0) {
    out.push({
      code: 'stale-source-ranges',
      severity: 'error',
      message: `${where} on ${ctx.node} admits ${extra.join(', ')} to ${lbs}, which the Service's loadBalancerSourceRanges (${want.join(', ')}) no longer allow`,
      hint: KUBE_PROXY_HINT(ctx.node),
      ...base,
      sourceRanges: extra,
    });
  }
}

function staleDestination(e: ExpectedServicePort, dest: string, where: string, ctx: PortContext): Finding {
  return {
    code: 'stale-service-rules',
    severity: 'warning',
    message: `${where} on ${ctx.node} still serves ${dest} for ${e.servicePortName} (${e.protocol}), which the API no longer gives this Service port`,
    hint: KUBE_PROXY_HINT(ctx.node),
    ...serviceContext(e, e.servicePortName, e.protocol),
    destination: dest,
    rule: where,
  };
}

function stalePort(p: ProgrammedServicePort, ctx: PortContext): Finding {
  const dests = [...p.destinations.keys(), ...[...p.nodePorts.keys()].map((n) => `NodePort ${n}`), ...p.blocks.map((b) => b.destination)];
  const endpoints = [...(p.clusterEndpoints ?? []), ...(p.localEndpoints ?? [])].map((x) => x.address);
  const spn = p.key === null ? null : `${p.namespace}/${p.name}${p.portName ? `:${p.portName}` : ''}`;
  return {
    code: 'stale-service-rules',
    severity: 'warning',
    message: `${p.where} on ${ctx.node} still serves ${spn ?? 'a Service port'} (${p.protocol})${dests.length ? ` at ${dests.join(', ')}` : ''}${endpoints.length ? `, sending it to ${endpoints.join(', ')}` : ''}, but the API has no such Service port`,
    hint: `kube-proxy on ${ctx.node} has not caught up with a deleted Service (check its logs), or the rules were written by something else.`,
    ...(spn ? { service: `${p.namespace}/${p.name}`, servicePort: spn } : {}),
    protocol: p.protocol,
    rule: p.where,
  };
}

/**
 * Which kube-proxy mode a node runs: as declared (kube-proxy's configuration), else from what its state
 * holds: a `kube-proxy` nftables table, IPVS virtual servers (or iptables rules matching kube-proxy's
 * ipsets), or kube-proxy's iptables chains. kube-proxy removes the other modes' rules when it starts.
 */
export function chooseProxyMode(declared: ProxyMode | undefined, has: { iptables: boolean; nftables: boolean; ipvs: boolean }): ProxyMode | null {
  if (declared !== undefined) return declared;
  if (has.nftables) return 'nftables';
  if (has.ipvs) return 'ipvs';
  if (has.iptables) return 'iptables';
  return null;
}

/** Every programmed port by protocol and destination ("IP:PORT"); a later port wins a destination two share. */
function indexByDestination(ports: readonly ProgrammedServicePort[]): Map<string, Map<string, ProgrammedServicePort>> {
  const out = new Map<string, Map<string, ProgrammedServicePort>>();
  for (const p of ports) {
    let ofProtocol = out.get(p.protocol);
    if (ofProtocol === undefined) out.set(p.protocol, (ofProtocol = new Map<string, ProgrammedServicePort>()));
    for (const d of p.destinations.keys()) ofProtocol.set(d, p);
  }
  return out;
}

/** Kubernetes names and kube-proxy's protocols: lowercase letters, digits, '-' and '.'. */
const PLAIN_NAME = /^[-.0-9a-z]*$/;

let plainCollation: boolean | undefined;

/**
 * Whether this runtime's default collation (what `localeCompare` uses) orders strings of PLAIN_NAME's
 * characters as their code units do. It does in the root collation, which English uses untailored:
 * each of those characters has a primary weight of its own, in the order '-' < '.' < 0-9 < a-z, none
 * is ignorable or part of a contraction, so the first character that differs decides, and a prefix
 * comes first. Other languages tailor letters (Danish sorts "aa" after "z", Czech "ch" after "h"), so
 * for them the answer is no.
 */
function isPlainCollation(): boolean {
  if (plainCollation === undefined) {
    const o = new Intl.Collator().resolvedOptions();
    plainCollation = /^(und|en|en-[A-Z]{2}|en-\d{3})$/.test(o.locale) && o.collation === 'default' && !o.numeric && !o.ignorePunctuation;
  }
  return plainCollation;
}

function byLocale(a: RulesDiffServicePort, b: RulesDiffServicePort): number {
  return a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name) || (a.port ?? 0) - (b.port ?? 0) || a.protocol.localeCompare(b.protocol) || a.family - b.family;
}

function byCodeUnits(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

function byPlain(a: RulesDiffServicePort, b: RulesDiffServicePort): number {
  return byCodeUnits(a.namespace, b.namespace) || byCodeUnits(a.name, b.name) || (a.port ?? 0) - (b.port ?? 0) || byCodeUnits(a.protocol, b.protocol) || a.family - b.family;
}

/**
 * By namespace, name, port, protocol and family, names in the default locale's order (localeCompare).
 * When every name is a plain Kubernetes name and the locale orders those as their code units do, the
 * same order comes from comparing code units, at a third of the cost: every comparison has the same
 * sign, so the (stable) sort gives the same list.
 */
function sortServicePorts(services: RulesDiffServicePort[]): void {
  const isPlain = isPlainCollation() && services.every((s) => PLAIN_NAME.test(s.namespace) && PLAIN_NAME.test(s.name) && PLAIN_NAME.test(s.protocol));
  services.sort(isPlain ? byPlain : byLocale);
}

export function diffRules(options: DiffRulesOptions): RulesDiffReport {
  const { cluster, node, state } = options;
  const families = familiesOf(state);
  const slices = indexSlicesByService(cluster);
  const services: RulesDiffServicePort[] = [];
  const isWanted = (ns: string, name: string): boolean => options.service === undefined || (options.service.namespace === ns && options.service.name === name);
  for (const family of families) {
    const ctx: PortContext = { node, mode: state.mode, family };
    // Each port's endpoints are read when it is compared, below, and dropped after.
    const expected = expectServicePortsLazily(cluster, node, family, slices);
    const programmed = programmedOf(state, family, expected);
    const byKey = new Map<string, ProgrammedServicePort>();
    for (const p of programmed.servicePorts) if (p.key !== null) byKey.set(p.key, p);
    // protocol → destination → port; made at the first port not found by its key (nearly always none is).
    let byDestination: Map<string, Map<string, ProgrammedServicePort>> | undefined;
    const used = new Set<ProgrammedServicePort>();
    for (const lazy of expected) {
      if (!isWanted(lazy.namespace, lazy.name)) continue;
      const e = lazy.withEndpoints();
      // Chains without a comment or known hash are matched by their ClusterIP.
      let p = byKey.get(e.key);
      if (p === undefined) {
        byDestination ??= indexByDestination(programmed.servicePorts);
        const ofProtocol = byDestination.get(e.protocol);
        if (ofProtocol !== undefined) for (const d of e.clusterIPs) p ??= ofProtocol.get(d);
      }
      if (p !== undefined && p.key !== null && p.key !== e.key) p = undefined;
      if (p !== undefined) used.add(p);
      // Findings per endpoint fold past a bound for each Service port (one code, one Service port).
      const compared = comparePort(e, p, ctx);
      const findings = compared.length > FINDINGS_PER_GROUP ? aggregateFindings(compared) : compared;
      services.push({
        namespace: e.namespace,
        name: e.name,
        port: e.port,
        portName: e.portName,
        protocol: e.protocol,
        family,
        status: findings.length === 0 ? 'in-sync' : 'drift',
        endpoints: { expected: countDistinct(e.clusterEndpoints, e.localEndpoints), programmed: countDistinct(p?.clusterEndpoints ?? null, p?.localEndpoints ?? null) },
        findings,
      });
    }
    for (const p of programmed.servicePorts) {
      if (used.has(p) || !isWanted(p.namespace, p.name)) continue;
      const findings = [stalePort(p, ctx)];
      services.push({
        namespace: p.namespace,
        name: p.name,
        port: null,
        portName: p.portName,
        protocol: p.protocol,
        family,
        status: 'stale',
        endpoints: { expected: 0, programmed: countDistinct(p.clusterEndpoints, p.localEndpoints) },
        findings,
      });
    }
  }
  sortServicePorts(services);
  const findings: Finding[] = [];
  let inSync = 0;
  let drifted = 0;
  let stale = 0;
  for (const s of services) {
    for (const f of s.findings) findings.push(f);
    if (s.status === 'in-sync') inSync++;
    else if (s.status === 'drift') drifted++;
    else stale++;
  }
  const errors = countFindings(findings, 'error');
  const warnings = countFindings(findings, 'warning');
  const assumptions = [
    `endpoints whose nodeName is ${node} are this node's (internal/externalTrafficPolicy Local)`,
    'ready endpoints are used; serving-and-terminating ones only when none is ready (kube-proxy 1.28+)',
    'topology hints are not applied',
  ];
  if (state.mode === 'ipvs') assumptions.push('IPVS real servers of weight 0 are terminating endpoints left to drain, and are not compared');
  return {
    node,
    mode: state.mode,
    families,
    services,
    findings,
    summary: {
      servicePorts: services.length,
      inSync,
      drifted,
      stale,
      errors,
      warnings,
      isInSync: findings.length === 0,
    },
    assumptions,
  };
}
