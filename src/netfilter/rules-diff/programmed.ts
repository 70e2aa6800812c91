// What kube-proxy did program on a node, read back into one shape for every mode: per Service port
// the destinations that lead to its chains, the endpoints of its cluster-wide and node-local chains
// with the probability each is picked, and the REJECT/DROP rules for destinations without endpoints.
import { canonicalCIDR, canonicalIP, ipFamily, type IPFamily } from '../../model/ip.js';
import { buildKubeView, type KubeEndpoint, type KubeEntryRule } from '../iptables/kube-view.js';
import { hasChain, type IptablesDump } from '../iptables/parse.js';
import type { IpvsTable } from '../ipvs/parse.js';
import type { NftChain, NftRuleset, NftTable } from '../nft/model.js';
import { hostPort, servicePortKey, type ExpectedServicePort } from './expected.js';

export interface ProgrammedEndpoint {
  address: string;
  /** The share of new connections this endpoint gets, 0..1. */
  probability: number;
  /** Where it is programmed: the chain (or virtual server) and the line of the rule that picks it. */
  chain: string;
  line: number;
}

/** "KUBE-SVC-X line 12": where an endpoint is programmed, for messages. */
export function whereOf(e: ProgrammedEndpoint): string {
  return `${e.chain} line ${e.line}`;
}

export interface ProgrammedBlock {
  /** "IP:PORT", or "nodePort N". */
  destination: string;
  verdict: 'reject' | 'drop';
  where: string;
}

export interface ProgrammedServicePort {
  /** Same key as ExpectedServicePort.key; null when the rules do not say which Service port they serve. */
  key: string | null;
  namespace: string;
  name: string;
  portName: string;
  protocol: string;
  /** Destinations ("IP:PORT") that lead to this port's chains (ClusterIPs, external and load-balancer IPs). */
  destinations: Map<string, string>;
  /** NodePorts that lead to this port's chains. */
  nodePorts: Map<number, string>;
  clusterEndpoints: ProgrammedEndpoint[] | null;
  localEndpoints: ProgrammedEndpoint[] | null;
  blocks: ProgrammedBlock[];
  /** The chain (or virtual server) that names the port, for messages. */
  where: string;
  /** ClientIP affinity timeout (seconds) of the port's endpoint chains or virtual server; null: none; undefined: the state does not tell. */
  affinitySeconds?: number | null;
  /** Where the affinity was read, for messages. */
  affinityWhere?: string;
  /** Sources the load-balancer firewall admits (canonical CIDRs); null: no firewall; undefined: the state does not tell. */
  sourceRanges?: string[] | null;
  /** The firewall chain, for messages. */
  firewallWhere?: string;
}

export interface ProgrammedState {
  family: IPFamily;
  servicePorts: ProgrammedServicePort[];
}

function emptyPort(key: string | null, spn: string, protocol: string, where: string): ProgrammedServicePort {
  const slash = spn.indexOf('/');
  const colon = spn.indexOf(':', slash);
  return {
    key,
    namespace: slash < 0 ? '?' : spn.slice(0, slash),
    name: colon < 0 ? spn.slice(slash + 1) : spn.slice(slash + 1, colon),
    portName: colon < 0 ? '' : spn.slice(colon + 1),
    protocol,
    destinations: new Map(),
    nodePorts: new Map(),
    clusterEndpoints: null,
    localEndpoints: null,
    blocks: [],
    where,
  };
}

// ---- iptables ----

function iptablesEndpoints(list: readonly KubeEndpoint[], chain: string): ProgrammedEndpoint[] {
  return list.map((e) => ({ address: normalizeAddress(e.address), probability: e.probability, chain, line: e.line }));
}

const CANONICAL_IPV4_PORT = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d):\d+$/;

/** "IP:PORT" / "[IPv6]:PORT" in canonical form. */
function normalizeAddress(address: string): string {
  if (CANONICAL_IPV4_PORT.test(address)) return address;
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  return m ? hostPort(m[1]!, Number(m[2])) : address;
}

/** kube-proxy's iptables mode, read through the kube view (comments and chain hashes). */
export function programmedFromIptables(dump: IptablesDump, family: IPFamily, known: readonly Pick<ExpectedServicePort, 'servicePortName' | 'protocol'>[]): ProgrammedState {
  // Endpoints are matched by their DNAT address, so their chain names need no hash check here.
  const entryRules: KubeEntryRule[] = [];
  const view = buildKubeView(dump, { knownServicePorts: known, shouldVerifyEndpointChains: false, entryRules });
  const byChain = new Map<string, ProgrammedServicePort>();
  const ports: ProgrammedServicePort[] = [];
  const firewallOf = new Map<ProgrammedServicePort, string>();
  for (const sp of view.servicePorts) {
    const isNamed = sp.nameSource !== 'unknown';
    const where = sp.chains.svc ?? sp.chains.svl ?? sp.chains.ext ?? sp.chains.fw ?? sp.noEndpoints[0]?.chain ?? 'KUBE-SERVICES';
    const p = emptyPort(isNamed ? servicePortKey(sp.servicePortName, sp.protocol) : null, sp.servicePortName, sp.protocol, where);
    if (sp.chains.svc !== undefined && hasChain(dump, 'nat', sp.chains.svc)) p.clusterEndpoints = iptablesEndpoints(sp.endpoints, sp.chains.svc);
    if (sp.chains.svl !== undefined && hasChain(dump, 'nat', sp.chains.svl)) p.localEndpoints = iptablesEndpoints(sp.localEndpoints, sp.chains.svl);
    for (const b of sp.noEndpoints) p.blocks.push({ destination: b.destination.startsWith('nodePort') ? b.destination : normalizeAddress(b.destination), verdict: b.verdict, where: `filter ${b.chain} line ${b.line}` });
    // Affinity: `-m recent --rcheck --seconds T` in the endpoint chains (read by the view).
    if (p.clusterEndpoints !== null || p.localEndpoints !== null) {
      p.affinitySeconds = sp.affinitySeconds;
      p.affinityWhere = `nat ${sp.chains.svc ?? sp.chains.svl ?? where}`;
    }
    // loadBalancerSourceRanges: `-s RANGE -j KUBE-EXT-…` in KUBE-FW-…; kube-proxy adds `-s LB-IP` when a range holds a node IP.
    if (sp.chains.fw !== undefined && hasChain(dump, 'nat', sp.chains.fw)) {
      p.sourceRanges = sp.loadBalancerSourceRanges.map((r) => canonicalCIDR(r) ?? r);
      p.firewallWhere = `nat ${sp.chains.fw}`;
      firewallOf.set(p, sp.chains.fw);
    } else if (sp.loadBalancerIPs.length > 0) {
      p.sourceRanges = null;
      p.firewallWhere = `nat KUBE-SERVICES`;
    }
    for (const c of Object.values(sp.chains)) if (c !== undefined) byChain.set(c, p);
    ports.push(p);
  }
  // The entry rules: which destinations and NodePorts jump to each port's chains.
  const jumpedTo = new Set<string>();
  for (const rule of entryRules) {
    const p = byChain.get(rule.target);
    if (p === undefined) continue;
    jumpedTo.add(rule.target);
    const dport = rule.dport;
    if (dport === null) continue;
    const where = `nat ${rule.entry} line ${rule.line}`;
    const dst = rule.destination;
    if (rule.entry === 'KUBE-NODEPORTS') {
      // kube-proxy 1.29+ adds a `-d 127.0.0.0/8` copy of each NodePort rule for localhost only; the NodePort is the rule without -d.
      if (dst === null && !p.nodePorts.has(dport)) p.nodePorts.set(dport, where);
      continue;
    }
    if (dst !== null) p.destinations.set(hostPort(dst, dport), where);
  }
  // A firewall chain no load-balancer IP rule jumps to filters nothing.
  for (const [p, fw] of firewallOf) {
    if (jumpedTo.has(fw)) continue;
    p.sourceRanges = null;
    p.firewallWhere = 'nat KUBE-SERVICES';
  }
  return { family, servicePorts: ports };
}

// ---- nftables ----

const NFT_CHAIN = /^(service|local|external|firewall)-[A-Z2-7]{8}-([^/]+)\/([^/]+)\/([a-z]+)\/(.*)$/;

/** `service-HASH-ns/name/tcp/port` → the Service port key. */
function nftKeyOf(chain: string): { key: string; spn: string; protocol: string; kind: string } | null {
  const m = NFT_CHAIN.exec(chain);
  if (!m) return null;
  const spn = `${m[2]}/${m[3]}${m[5] ? `:${m[5]}` : ''}`;
  return { key: servicePortKey(spn, m[4]!), spn, protocol: m[4]!, kind: m[1]! };
}

function nftChainEndpoints(table: NftTable, chain: NftChain): ProgrammedEndpoint[] {
  const out: ProgrammedEndpoint[] = [];
  for (const rule of chain.rules) {
    for (const st of rule.statements) {
      if (st.kind !== 'numgen') continue;
      const slots = new Map<string, number>();
      for (const el of st.elements) {
        const target = el.verdict && 'target' in el.verdict ? el.verdict.target : null;
        if (target !== null) slots.set(target, (slots.get(target) ?? 0) + 1);
      }
      for (const [target, count] of slots) {
        let address = target;
        for (const r of table.chains.get(target)?.rules ?? []) {
          for (const s of r.statements) if (s.kind === 'dnat') address = s.port === undefined ? canonicalIP(s.address) : hostPort(s.address, s.port);
        }
        out.push({ address, probability: st.mod > 0 ? count / st.mod : 0, chain: chain.name, line: rule.line });
      }
    }
  }
  return out;
}

/** The timeout of the affinity sets a service or local chain checks (`ip saddr @affinity-…`); null when it checks none. */
function nftAffinitySeconds(table: NftTable, chain: NftChain): number | null {
  for (const rule of chain.rules) {
    for (const st of rule.statements) {
      if (st.kind !== 'match' || st.right.kind !== 'set-ref' || !st.right.name.startsWith('affinity-')) continue;
      // A set without a timeout keeps clients forever: kube-proxy always gives one; say 0 for "unknown".
      return table.sets.get(st.right.name)?.timeoutSeconds ?? 0;
    }
  }
  return null;
}

/** kube-proxy's nftables mode: `table ip kube-proxy` (family 4) or `table ip6 kube-proxy` (6). */
export function programmedFromNft(ruleset: NftRuleset, family: IPFamily): ProgrammedState | null {
  const table = ruleset.tables.find((t) => t.name === 'kube-proxy' && t.family === (family === 4 ? 'ip' : 'ip6'));
  if (table === undefined) return null;
  const byKey = new Map<string, ProgrammedServicePort>();
  const portOf = (chainOrComment: string, protocol: string | null): ProgrammedServicePort | null => {
    let parsed = nftKeyOf(chainOrComment);
    if (parsed === null && protocol !== null && /^[^/\s]+\/[^/\s:]+(:\S*)?$/.test(chainOrComment)) {
      parsed = { key: servicePortKey(chainOrComment, protocol), spn: chainOrComment, protocol, kind: 'comment' };
    }
    if (parsed === null) return null;
    let p = byKey.get(parsed.key);
    if (p === undefined) {
      p = emptyPort(parsed.key, parsed.spn, parsed.protocol, chainOrComment);
      byKey.set(parsed.key, p);
    }
    if (parsed.kind === 'service' || parsed.kind === 'local') p.where = chainOrComment;
    return p;
  };
  const elementsOf = (name: string) => table.sets.get(name)?.elements ?? [];
  for (const el of elementsOf('service-ips')) {
    const target = el.verdict && 'target' in el.verdict ? el.verdict.target : null;
    const [ip, proto, port] = el.key;
    if (target === null || ip === undefined || proto === undefined || port === undefined) continue;
    portOf(target, proto)?.destinations.set(hostPort(ip, Number(port)), `map service-ips (${el.key.join(' . ')})`);
  }
  for (const el of elementsOf('service-nodeports')) {
    const target = el.verdict && 'target' in el.verdict ? el.verdict.target : null;
    const [proto, port] = el.key;
    if (target === null || proto === undefined || port === undefined) continue;
    portOf(target, proto)?.nodePorts.set(Number(port), `map service-nodeports (${el.key.join(' . ')})`);
  }
  for (const [mapName, isNodePort] of [['no-endpoint-services', false], ['no-endpoint-nodeports', true]] as const) {
    for (const el of elementsOf(mapName)) {
      const proto = isNodePort ? el.key[0] : el.key[1];
      const port = isNodePort ? el.key[1] : el.key[2];
      if (el.comment === undefined || proto === undefined || port === undefined) continue;
      const p = portOf(el.comment, proto);
      if (p === null) continue;
      const verdict = el.verdict?.kind === 'drop' ? 'drop' : 'reject';
      p.blocks.push({ destination: isNodePort ? `nodePort ${port}` : hostPort(el.key[0]!, Number(port)), verdict, where: `map ${mapName} (${el.key.join(' . ')})` });
    }
  }
  for (const chain of table.chains.values()) {
    const parsed = nftKeyOf(chain.name);
    if (parsed === null || (parsed.kind !== 'service' && parsed.kind !== 'local')) continue;
    const p = byKey.get(parsed.key);
    // A chain no map element leads to carries no traffic (kube-proxy deletes such chains a while later).
    if (p === undefined) continue;
    const endpoints = nftChainEndpoints(table, chain);
    if (parsed.kind === 'service') p.clusterEndpoints = endpoints;
    else p.localEndpoints = endpoints;
    // Affinity: `ip saddr @affinity-… goto endpoint-…` per endpoint, the set's timeout the affinity's.
    const affinity = nftAffinitySeconds(table, chain);
    if (p.affinitySeconds === undefined || p.affinitySeconds === null) {
      p.affinitySeconds = affinity;
      p.affinityWhere = `chain ${chain.name}`;
    }
  }
  // loadBalancerSourceRanges: `firewall-ips` sends a load-balancer IP to firewall-…, which drops `ip saddr != { ranges }`.
  for (const el of elementsOf('firewall-ips')) {
    const target = el.verdict && 'target' in el.verdict ? el.verdict.target : null;
    const [, proto] = el.key;
    if (target === null || proto === undefined) continue;
    const p = portOf(target, proto);
    if (p === null) continue;
    const ranges = p.sourceRanges ?? [];
    for (const r of table.chains.get(target)?.rules ?? []) {
      for (const st of r.statements) {
        if (st.kind !== 'match' || st.op !== '!=' || st.right.kind !== 'atoms' || !/^ip6? saddr$/.test(st.left[0]?.name ?? '')) continue;
        for (const atom of st.right.atoms) {
          const cidr = atom.length === 1 ? canonicalCIDR(atom[0]!) : null;
          if (cidr !== null && !ranges.includes(cidr)) ranges.push(cidr);
        }
      }
    }
    p.sourceRanges = ranges;
    p.firewallWhere = `chain ${target}`;
  }
  // A port no firewall-ips element names has no firewall.
  for (const p of byKey.values()) {
    if (p.sourceRanges !== undefined) continue;
    p.sourceRanges = null;
    p.firewallWhere = 'map firewall-ips';
  }
  return { family, servicePorts: [...byKey.values()] };
}

// ---- IPVS ----

/**
 * kube-proxy's IPVS mode: one virtual server per ClusterIP, external and load-balancer IP, and per
 * node IP and NodePort. IPVS holds no Service names, so virtual servers are named by the API's
 * addresses (`resolve`); real servers of weight 0 are terminating endpoints kube-proxy keeps while
 * their connections drain, and are left out.
 */
export function programmedFromIpvs(ipvs: IpvsTable, family: IPFamily, expected: readonly ExpectedServicePort[]): ProgrammedState {
  const byDestination = new Map<string, ExpectedServicePort>();
  const byNodePort = new Map<string, ExpectedServicePort>();
  for (const e of expected) {
    for (const d of [...e.clusterIPs, ...e.externalIPs, ...e.loadBalancerIPs]) byDestination.set(`${e.protocol} ${d}`, e);
    if (e.nodePort !== null) byNodePort.set(`${e.protocol} ${e.nodePort}`, e);
  }
  const byKey = new Map<string, ProgrammedServicePort>();
  const ports: ProgrammedServicePort[] = [];
  for (const vs of ipvs.virtualServers) {
    if (vs.protocol === 'FWM' || ipFamily(vs.address) !== family) continue;
    const protocol = vs.protocol.toLowerCase();
    const dest = hostPort(vs.address, vs.port);
    const where = `virtual server ${vs.protocol} ${dest} (line ${vs.line})`;
    const viaVip = byDestination.get(`${protocol} ${dest}`);
    const e = viaVip ?? byNodePort.get(`${protocol} ${vs.port}`);
    let p: ProgrammedServicePort;
    if (e === undefined) {
      p = emptyPort(null, `?/${dest}`, protocol, where);
      ports.push(p);
    } else {
      p = byKey.get(e.key) ?? emptyPort(e.key, e.servicePortName, protocol, where);
      if (!byKey.has(e.key)) {
        byKey.set(e.key, p);
        ports.push(p);
      }
    }
    if (viaVip !== undefined || e === undefined) p.destinations.set(dest, where);
    else p.nodePorts.set(vs.port, where);
    // ClientIP affinity is the virtual server's persistence (`persistent T`).
    if (p.affinitySeconds === undefined || p.affinitySeconds === null) {
      p.affinitySeconds = vs.persistent ?? null;
      p.affinityWhere = where;
    }
    const active = vs.realServers.filter((r) => r.weight > 0);
    const total = active.reduce((s, r) => s + r.weight, 0);
    const endpoints = active.map((r) => ({ address: hostPort(r.address, r.port), probability: total > 0 ? r.weight / total : 0, chain: `virtual server ${vs.protocol} ${dest}`, line: r.line }));
    // ClusterIP virtual servers carry the internal policy's endpoints, the others the external policy's.
    const isClusterIP = e !== undefined && e.clusterIPs.includes(dest);
    const policy = e === undefined ? 'Cluster' : isClusterIP ? e.internalTrafficPolicy : (e.externalTrafficPolicy ?? 'Cluster');
    const slot = policy === 'Local' ? 'localEndpoints' : 'clusterEndpoints';
    const list = p[slot] ?? [];
    for (const ep of endpoints) if (!list.some((x) => x.address === ep.address)) list.push(ep);
    p[slot] = list;
  }
  return { family, servicePorts: ports };
}
