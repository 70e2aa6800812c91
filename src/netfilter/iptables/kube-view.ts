// The Kubernetes view of an iptables dump: which Service ports kube-proxy programmed, with their
// ClusterIPs, external and load-balancer IPs, NodePorts, endpoints and effective probabilities,
// affinity, traffic policies, load-balancer source ranges and no-endpoint REJECT/DROP rules.
//
// Chain names are kube-proxy's hashes (pkg/proxy/iptables/proxier.go, servicePortChainName and
// servicePortEndpointChainName): PREFIX + base32(sha256(servicePortName + protocol [+ endpoint]))[:16].
// Comments name the Service port; the hash confirms it and attributes endpoint chains whose comments
// kube-proxy dropped (large clusters). sha256 is computation, not I/O.
import * as crypto from 'node:crypto';
import type { Finding } from '../../model/finding.js';
import { canonicalIP, joinHostPort } from '../../model/ip.js';
import { eachRuleFacts, eachTargetFacts, type IptablesDump } from './parse.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 of a buffer (no padding), as Go's base32.StdEncoding prints the first characters. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** kube-proxy's 16-character chain-name hash: 16 base32 characters are the first 10 bytes of the digest. */
export function kubeChainHash(text: string): string {
  return base32(sha256(text).subarray(0, 10));
}

/** SHA-256 of a string: the one-shot crypto.hash where Node has it (20.12+, half the cost for 10,000 names), else a Hash object. */
const sha256: (text: string) => Uint8Array =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'buffer') : (text) => crypto.createHash('sha256').update(text).digest();

export type ServiceChainPrefix = 'KUBE-SVC-' | 'KUBE-SVL-' | 'KUBE-EXT-' | 'KUBE-FW-';

/** `servicePortChainName`: e.g. ("KUBE-SVC-", "ns1/svc1:p80", "tcp") → KUBE-SVC-XPGD46QRK7WJZT7O. */
export function servicePortChainName(prefix: ServiceChainPrefix, servicePortName: string, protocol: string): string {
  return prefix + kubeChainHash(servicePortName + protocol.toLowerCase());
}

/** `servicePortEndpointChainName`: the endpoint is "ip:port" (IPv6 "[ip]:port"). */
export function servicePortEndpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return 'KUBE-SEP-' + kubeChainHash(servicePortName + protocol.toLowerCase() + endpoint);
}

export interface KubeEndpoint {
  /** "IP:PORT" from the endpoint chain's DNAT. */
  address: string;
  chain: string;
  /** The probability that a new connection picks this endpoint, the product along kube-proxy's statistic rules. */
  probability: number;
  /** Line of the rule in the service chain that jumps to it. */
  line: number;
  /** Whether the chain name is kube-proxy's hash of this Service port and endpoint. */
  isHashVerified: boolean;
}

export interface NoEndpointsRule {
  verdict: 'reject' | 'drop';
  /** The address the rule applies to: "IP:PORT", or "nodePort N". */
  destination: string;
  reason: string;
  chain: string;
  line: number;
}

export interface KubeServicePort {
  /** `ns/name:port` (or `ns/name` for an unnamed port), kube-proxy's ServicePortName. */
  servicePortName: string;
  namespace: string;
  name: string;
  port: string;
  protocol: string;
  /** How the name was found: from comments and confirmed by the chain hash, from comments only, or from the hash of a known name. */
  nameSource: 'comment+hash' | 'comment' | 'hash' | 'unknown';
  chains: { svc?: string; svl?: string; ext?: string; fw?: string };
  clusterIPs: string[];
  externalIPs: string[];
  loadBalancerIPs: string[];
  nodePorts: number[];
  healthCheckNodePort: number | null;
  internalTrafficPolicy: 'Cluster' | 'Local';
  externalTrafficPolicy: 'Cluster' | 'Local' | null;
  /** ClientIP affinity timeout (seconds), from `-m recent --rcheck --seconds`. */
  affinitySeconds: number | null;
  loadBalancerSourceRanges: string[];
  /** All usable endpoints (KUBE-SVC). */
  endpoints: KubeEndpoint[];
  /** Node-local endpoints (KUBE-SVL), used for Local traffic policies. */
  localEndpoints: KubeEndpoint[];
  noEndpoints: NoEndpointsRule[];
  /** Whether traffic from outside the pod network to the ClusterIP is masqueraded (`! -s podCIDR -j KUBE-MARK-MASQ`). */
  masqueradesOffCluster: boolean;
}

export interface KubeView {
  servicePorts: KubeServicePort[];
  findings: Finding[];
}

export interface KubeViewOptions {
  /** Service port names known from the API (`ns/name:port`), to name chains that carry no comment. */
  knownServicePorts?: readonly { servicePortName: string; protocol: string }[];
  /**
   * Whether to check each endpoint chain's name against kube-proxy's hash (default true). Without it,
   * `isHashVerified` is false and no `kube-chain-hash-mismatch` is reported: for callers that only need
   * the endpoints, on dumps of a hundred thousand rules.
   */
  shouldVerifyEndpointChains?: boolean;
  /** When given, every rule of nat KUBE-SERVICES and KUBE-NODEPORTS that jumps to a Service port's chain is added to it. */
  entryRules?: KubeEntryRule[];
}

/** A rule of nat KUBE-SERVICES or KUBE-NODEPORTS that sends a destination to a Service port's chain. */
export interface KubeEntryRule {
  entry: 'KUBE-SERVICES' | 'KUBE-NODEPORTS';
  /** The chain it jumps to. */
  target: string;
  /** Its `-d` address (without /32 or /128), null when none. */
  destination: string | null;
  dport: number | null;
  line: number;
}

const COMMENT_SUFFIXES: [string, 'cluster' | 'external' | 'loadbalancer' | 'none'][] = [
  [' cluster IP', 'cluster'],
  [' external IP', 'external'],
  [' loadbalancer IP', 'loadbalancer'],
  [' has no endpoints', 'none'],
  [' has no local endpoints', 'none'],
  [' health check node port', 'none'],
];

/** The ServicePortName a kube-proxy comment names: "ns/svc:p cluster IP" → "ns/svc:p". */
function servicePortNameOf(comment: string | undefined): string | null {
  if (comment === undefined) return null;
  let text = comment.replace(/^(masquerade traffic for|pod traffic for|masquerade LOCAL traffic for|route LOCAL traffic for|other traffic to) /, '');
  text = text.replace(/ (external destinations|will be dropped by KUBE-PROXY-FIREWALL)$/, '');
  for (const [suffix] of COMMENT_SUFFIXES) if (text.endsWith(suffix)) text = text.slice(0, -suffix.length);
  const arrow = text.indexOf(' -> ');
  if (arrow >= 0) text = text.slice(0, arrow);
  text = text.replace(/ traffic not accepted by KUBE-FW-[A-Z0-9]+$/, '');
  return /^[a-z0-9.-]+\/[a-z0-9.-]+(:[^\s]*)?$/i.test(text) ? text : null;
}

function formatHostPort(ip: string, port: number | null): string {
  const host = canonicalIP(ip);
  if (port === null) return host;
  return joinHostPort(host, port);
}

function splitServicePortName(spn: string): { servicePortName: string; namespace: string; name: string; port: string } {
  const slash = spn.indexOf('/');
  const colon = spn.indexOf(':', slash);
  return {
    servicePortName: spn,
    namespace: spn.slice(0, slash),
    name: colon < 0 ? spn.slice(slash + 1) : spn.slice(slash + 1, colon),
    port: colon < 0 ? '' : spn.slice(colon + 1),
  };
}

/** Builds the view. Pure: the same dump gives the same view. */
export function buildKubeView(dump: IptablesDump, options: KubeViewOptions = {}): KubeView {
  const findings: Finding[] = [];
  const shouldVerify = options.shouldVerifyEndpointChains ?? true;
  const byHash = new Map<string, KubeServicePort>();
  // Hashes of the known Service port names, computed only when a chain without a comment needs naming.
  let hashCandidatesCache: Map<string, { servicePortName: string; protocol: string }> | undefined;
  const hashCandidates = (): Map<string, { servicePortName: string; protocol: string }> => {
    if (hashCandidatesCache === undefined) {
      hashCandidatesCache = new Map();
      for (const k of options.knownServicePorts ?? []) hashCandidatesCache.set(kubeChainHash(k.servicePortName + k.protocol.toLowerCase()), k);
    }
    return hashCandidatesCache;
  };

  const portFor = (servicePortName: string | null, protocol: string | null, hash: string | null): KubeServicePort | null => {
    let key = hash;
    if (key === null) {
      if (servicePortName === null || protocol === null) return null;
      key = kubeChainHash(servicePortName + protocol);
    }
    let sp = byHash.get(key);
    if (sp === undefined) {
      let name = servicePortName;
      let proto = protocol;
      let nameSource: KubeServicePort['nameSource'] = 'unknown';
      if (name !== null && proto !== null) nameSource = kubeChainHash(name + proto) === key ? 'comment+hash' : 'comment';
      else if (hashCandidates().has(key)) {
        const known = hashCandidates().get(key)!;
        name = known.servicePortName;
        proto = known.protocol.toLowerCase();
        nameSource = 'hash';
      }
      // Written out, not spread: an object made by spreading and then given more fields takes a slow
      // path for every field added, which 10,000 Service ports make plain.
      const names = splitServicePortName(name ?? `?/${key}`);
      sp = {
        servicePortName: names.servicePortName,
        namespace: names.namespace,
        name: names.name,
        port: names.port,
        protocol: proto ?? 'tcp',
        nameSource,
        chains: {},
        clusterIPs: [],
        externalIPs: [],
        loadBalancerIPs: [],
        nodePorts: [],
        healthCheckNodePort: null,
        internalTrafficPolicy: 'Cluster',
        externalTrafficPolicy: null,
        affinitySeconds: null,
        loadBalancerSourceRanges: [],
        endpoints: [],
        localEndpoints: [],
        noEndpoints: [],
        masqueradesOffCluster: false,
      };
      byHash.set(key, sp);
    } else if (sp.nameSource === 'unknown' && servicePortName !== null && protocol !== null) {
      // A later rule carried the comment that an earlier one lacked.
      Object.assign(sp, splitServicePortName(servicePortName), { protocol, nameSource: kubeChainHash(servicePortName + protocol) === key ? 'comment+hash' : 'comment' });
    }
    return sp;
  };

  const hashOfChain = (chain: string): string | null => {
    const m = /^KUBE-(SVC|SVL|EXT|FW)-([A-Z2-7]{16})$/.exec(chain);
    return m ? m[2]! : null;
  };
  const pushUnique = <T>(list: T[], value: T): void => {
    if (!list.includes(value)) list.push(value);
  };

  // nat: the entry rules name each Service port's chains and addresses.
  for (const entry of ['KUBE-SERVICES', 'KUBE-NODEPORTS'] as const) {
    eachRuleFacts(dump, 'nat', entry, (rule) => {
      if (!rule.isTarget('KUBE-', false)) return;
      const target = rule.target()!;
      const hash = hashOfChain(target);
      if (hash === null) return;
      const comment = rule.comment();
      const sp = portFor(servicePortNameOf(comment), rule.protocol(), hash)!;
      const kind = target.slice(5, target.indexOf('-', 5));
      if (kind === 'SVC') sp.chains.svc = target;
      if (kind === 'SVL') {
        sp.chains.svl = target;
        sp.internalTrafficPolicy = 'Local';
      }
      if (kind === 'EXT') sp.chains.ext = target;
      if (kind === 'FW') sp.chains.fw = target;
      const dport = rule.dport();
      const dst = rule.address('destination');
      options.entryRules?.push({ entry, target, destination: dst, dport, line: rule.line });
      if (entry === 'KUBE-NODEPORTS') {
        if (dport !== null) pushUnique(sp.nodePorts, dport);
        return;
      }
      if (dst === null) return;
      const where = formatHostPort(dst, dport);
      if ((comment ?? '').endsWith(' loadbalancer IP') || kind === 'FW') pushUnique(sp.loadBalancerIPs, where);
      else if ((comment ?? '').endsWith(' external IP') || kind === 'EXT') pushUnique(sp.externalIPs, where);
      else pushUnique(sp.clusterIPs, where);
    });
  }

  // Each Service port's chains: endpoints and their probabilities, affinity, masquerade, policies.
  for (const [hash, sp] of byHash) {
    const svc = 'KUBE-SVC-' + hash;
    if (readServiceChain(dump, svc, sp, sp.endpoints, shouldVerify)) sp.chains.svc = svc;
    const svl = 'KUBE-SVL-' + hash;
    if (readServiceChain(dump, svl, sp, sp.localEndpoints, shouldVerify)) sp.chains.svl = svl;
    const ext = 'KUBE-EXT-' + hash;
    let isLocal = false;
    if (eachRuleFacts(dump, 'nat', ext, (r) => (isLocal ||= (r.comment() ?? '').startsWith('pod traffic for') || r.isTarget('KUBE-SVL-', false) || r.hasAddrtype('src-type')))) {
      sp.chains.ext = ext;
      sp.externalTrafficPolicy = isLocal ? 'Local' : 'Cluster';
    } else if (sp.nodePorts.length > 0 || sp.externalIPs.length > 0 || sp.loadBalancerIPs.length > 0) {
      sp.externalTrafficPolicy = 'Cluster';
    }
    const fw = 'KUBE-FW-' + hash;
    const isFirewalled = eachRuleFacts(dump, 'nat', fw, (r) => {
      const src = r.address('source');
      if (src !== null && r.isTarget('KUBE-EXT-', false)) pushUnique(sp.loadBalancerSourceRanges, src);
    });
    if (isFirewalled) sp.chains.fw = fw;
    if (shouldVerify && sp.endpoints.length > 0 && !sp.endpoints.every((e) => e.isHashVerified) && sp.nameSource !== 'unknown') {
      findings.push({
        code: 'kube-chain-hash-mismatch',
        severity: 'warning',
        message: `${sp.servicePortName}: endpoint chains ${sp.endpoints.filter((e) => !e.isHashVerified).map((e) => e.chain).join(', ')} are not kube-proxy's hash of this Service port and endpoint (edited by hand, or written by another tool)`,
      });
    }
  }

  // filter: REJECT/DROP for Service ports without (local) endpoints, and health-check NodePorts.
  for (const chainName of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS']) {
    eachRuleFacts(dump, 'filter', chainName, (rule) => {
      const comment = rule.comment() ?? '';
      const spn = servicePortNameOf(comment);
      const proto = rule.protocol();
      if (spn === null || proto === null) return;
      const sp = portFor(spn, proto, null)!;
      const verdict = rule.target();
      const dport = rule.dport();
      if (verdict === 'ACCEPT' && comment.endsWith('health check node port')) {
        sp.healthCheckNodePort = dport;
        return;
      }
      if (verdict !== 'REJECT' && verdict !== 'DROP') return;
      const dst = rule.address('destination');
      const isNodePort = dst === null && rule.hasAddrtype('dst-type');
      const destination = isNodePort ? `nodePort ${dport ?? '?'}` : formatHostPort(dst ?? '*', dport);
      sp.noEndpoints.push({ verdict: verdict === 'REJECT' ? 'reject' : 'drop', destination, reason: comment.slice(spn.length + 1), chain: chainName, line: rule.line });
      if (isNodePort && dport !== null) pushUnique(sp.nodePorts, dport);
      else if (dst !== null && chainName === 'KUBE-SERVICES') {
        pushUnique(sp.clusterIPs, destination);
        if (comment.endsWith('has no local endpoints')) sp.internalTrafficPolicy = 'Local';
      } else if (dst !== null && chainName === 'KUBE-EXTERNAL-SERVICES') {
        if (!sp.loadBalancerIPs.includes(destination)) pushUnique(sp.externalIPs, destination);
        if (verdict === 'DROP') sp.externalTrafficPolicy = 'Local';
      }
    });
  }
  eachRuleFacts(dump, 'filter', 'KUBE-PROXY-FIREWALL', (rule) => {
    const spn = servicePortNameOf(rule.comment());
    const proto = rule.protocol();
    const dst = rule.address('destination');
    if (spn === null || proto === null || dst === null) return;
    const sp = portFor(spn, proto, null)!;
    const where = formatHostPort(dst, rule.dport());
    pushUnique(sp.loadBalancerIPs, where);
    sp.externalIPs = sp.externalIPs.filter((e) => e !== where);
  });

  for (const sp of byHash.values()) {
    if (sp.nameSource === 'unknown') {
      findings.push({ code: 'kube-chain-unnamed', severity: 'info', message: `chains ${Object.values(sp.chains).join(', ')} carry no comment and match no known Service port: shown by chain name` });
    }
  }
  const servicePorts = [...byHash.values()].sort((a, b) => a.servicePortName.localeCompare(b.servicePortName) || a.protocol.localeCompare(b.protocol));
  return { servicePorts, findings };
}

/**
 * Reads one KUBE-SVC/KUBE-SVL chain: masquerade rule, affinity, and the statistic ladder to KUBE-SEP
 * chains, each endpoint's address from its chain's DNAT. False when the dump has no such chain.
 */
function readServiceChain(dump: IptablesDump, chain: string, sp: KubeServicePort, list: KubeEndpoint[], shouldVerify: boolean): boolean {
  let remaining = 1;
  return eachRuleFacts(dump, 'nat', chain, (rule) => {
    if (rule.isTarget('KUBE-MARK-MASQ', true) && (rule.hasNegatedSource() || !rule.hasSourceOrInInterface())) sp.masqueradesOffCluster = true;
    if (!rule.isTarget('KUBE-SEP-', false)) return;
    if (rule.hasRecentCheck()) {
      const seconds = rule.recentSeconds();
      if (Number.isFinite(seconds)) sp.affinitySeconds = seconds;
      return;
    }
    const probability = remaining * (rule.probability() ?? 1);
    remaining -= probability;
    // The facts are read before the endpoint chain's: that read reuses them.
    const line = rule.line;
    const target = rule.target()!;
    let address = '?';
    eachTargetFacts(dump, 'nat', rule, (r) => {
      if (r.isTarget('DNAT', true)) address = r.toDestination() ?? '?';
    });
    const isHashVerified = shouldVerify && servicePortEndpointChainName(sp.servicePortName, sp.protocol, address) === target;
    list.push({ address, chain: target, probability, line, isHashVerified });
  });
}

/** What a destination is, in Service terms: the Service port and the role of the address. */
export interface DestinationDescription {
  servicePort: KubeServicePort;
  role: 'ClusterIP' | 'external IP' | 'load-balancer IP' | 'NodePort';
}

export function describeDestination(view: KubeView, ip: string, port: number | undefined, protocol: string, isLocal: boolean): DestinationDescription | null {
  const where = formatHostPort(ip, port ?? null);
  for (const sp of view.servicePorts) {
    if (sp.protocol !== protocol) continue;
    if (sp.clusterIPs.includes(where)) return { servicePort: sp, role: 'ClusterIP' };
    if (sp.externalIPs.includes(where)) return { servicePort: sp, role: 'external IP' };
    if (sp.loadBalancerIPs.includes(where)) return { servicePort: sp, role: 'load-balancer IP' };
  }
  if (isLocal && port !== undefined) {
    for (const sp of view.servicePorts) if (sp.protocol === protocol && sp.nodePorts.includes(port)) return { servicePort: sp, role: 'NodePort' };
  }
  return null;
}

/** The Service port (and endpoint) a KUBE-* chain belongs to, for explanations. */
export function serviceOfChain(view: KubeView, chain: string): KubeServicePort | null {
  for (const sp of view.servicePorts) {
    if (Object.values(sp.chains).includes(chain)) return sp;
    if (sp.endpoints.some((e) => e.chain === chain) || sp.localEndpoints.some((e) => e.chain === chain)) return sp;
  }
  return null;
}

export type IptablesBackend = 'legacy' | 'nft';

export interface BackendChoice {
  backend: IptablesBackend;
  reason: string;
  legacyRules: number;
  nftRules: number;
  /** Both backends hold kube-proxy chains: two sets of rules fight over the same packets. */
  isSplitBrain: boolean;
}

const KUBELET_CHAINS = /^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)[\s]/m;

function countRuleLines(text: string | null): number {
  if (text === null) return 0;
  let n = 0;
  for (let i = 0; i < text.length; ) {
    if (text[i] === '-') n++;
    const next = text.indexOf('\n', i);
    if (next < 0) break;
    i = next + 1;
  }
  return n;
}

/**
 * Which iptables backend kube-proxy uses when both dumps exist, as kubernetes-sigs/iptables-wrappers
 * decides: kubelet's hint chains (KUBE-IPTABLES-HINT or KUBE-KUBELET-CANARY in mangle) in the nft
 * backend first, then in legacy; without hints (clusters before 1.17, the older shell wrapper),
 * the backend with more rule lines, legacy winning ties.
 */
export function chooseBackend(legacyDump: string | null, nftDump: string | null): BackendChoice {
  const legacyRules = countRuleLines(legacyDump);
  const nftRules = countRuleLines(nftDump);
  const hasKube = (t: string | null): boolean => t !== null && /^:KUBE-(SERVICES|POSTROUTING|MARK-MASQ)\s/m.test(t);
  const isSplitBrain = hasKube(legacyDump) && hasKube(nftDump);
  const base = { legacyRules, nftRules, isSplitBrain };
  if (nftDump !== null && KUBELET_CHAINS.test(nftDump)) return { backend: 'nft', reason: "kubelet's hint chain is in the nft backend", ...base };
  if (legacyDump !== null && KUBELET_CHAINS.test(legacyDump)) return { backend: 'legacy', reason: "kubelet's hint chain is in the legacy backend", ...base };
  if (legacyRules >= nftRules && legacyDump !== null) return { backend: 'legacy', reason: `no hint chain; legacy has ${legacyRules} rules, nft ${nftRules} (legacy wins ties)`, ...base };
  return { backend: 'nft', reason: `no hint chain; nft has ${nftRules} rules, legacy ${legacyRules}`, ...base };
}
