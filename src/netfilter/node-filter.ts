// What `knet node … --service NS/NAME --ip IP --port N` keep: a rule, set element, virtual server or
// conntrack entry is shown when every given criterion group has a match in it. A Service expands
// to its frontends (ClusterIPs, external and load-balancer IPs, NodePorts) and its endpoint IPs, and
// to the `ns/name` that kube-proxy writes into comments and nft chain names.
import type { Cluster } from '../model/cluster.js';
import { canonicalIP, isIP } from '../model/ip.js';
import type { Finding } from '../model/finding.js';
import type { Service } from '../model/k8s.js';
import type { IptablesDump } from './iptables/parse.js';

export type FilterCriterion = { kind: 'ip'; ip: string } | { kind: 'port'; port: number } | { kind: 'text'; text: string };

export interface ServiceSummary {
  namespace: string;
  name: string;
  /** ClusterIPs, external IPs and load-balancer ingress IPs. */
  frontendIPs: string[];
  ports: { name?: string; port: number; protocol: string; nodePort?: number }[];
  endpointIPs: string[];
}

export interface NodeFilter {
  /** AND across groups, OR within a group. Empty: everything matches. */
  groups: FilterCriterion[][];
  service?: ServiceSummary;
  /** In words, for headers: `service default/xecho, ip 10.96.0.10`. */
  description: string;
}

export function summarizeService(cluster: Cluster, svc: Service): ServiceSummary {
  const namespace = svc.metadata.namespace ?? 'default';
  const endpointIPs = new Set<string>();
  for (const slice of cluster.endpointSlices) {
    if ((slice.metadata.namespace ?? 'default') !== namespace || slice.metadata.labels?.['kubernetes.io/service-name'] !== svc.metadata.name) continue;
    for (const ep of slice.endpoints ?? []) for (const a of ep.addresses) endpointIPs.add(canonicalIP(a));
  }
  for (const ep of cluster.endpoints) {
    if ((ep.metadata.namespace ?? 'default') !== namespace || ep.metadata.name !== svc.metadata.name) continue;
    for (const s of ep.subsets ?? []) for (const a of [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]) endpointIPs.add(canonicalIP(a.ip));
  }
  const frontendIPs = [
    ...(svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : [])),
    ...(svc.spec?.externalIPs ?? []),
    ...(svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : [])),
  ].filter((ip) => isIP(ip));
  return {
    namespace,
    name: svc.metadata.name,
    frontendIPs,
    ports: (svc.spec?.ports ?? []).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: p.port,
      protocol: (p.protocol ?? 'TCP').toLowerCase(),
      ...(p.nodePort ? { nodePort: p.nodePort } : {}),
    })),
    endpointIPs: [...endpointIPs],
  };
}

export function buildNodeFilter(options: { service?: ServiceSummary; ip?: string; port?: number }): NodeFilter {
  const groups: FilterCriterion[][] = [];
  const words: string[] = [];
  if (options.service) {
    const s = options.service;
    groups.push([
      ...[...s.frontendIPs, ...s.endpointIPs].map((ip): FilterCriterion => ({ kind: 'ip', ip: canonicalIP(ip) })),
      ...s.ports.flatMap((p): FilterCriterion[] => (p.nodePort ? [{ kind: 'port', port: p.nodePort }] : [])),
      { kind: 'text', text: `${s.namespace}/${s.name}:` },
      { kind: 'text', text: `${s.namespace}/${s.name}/` },
      { kind: 'text', text: `"${s.namespace}/${s.name}` },
      { kind: 'text', text: `${s.namespace}/${s.name} ` },
    ]);
    words.push(`service ${s.namespace}/${s.name}`);
  }
  if (options.ip !== undefined) {
    groups.push([{ kind: 'ip', ip: canonicalIP(options.ip) }]);
    words.push(`ip ${options.ip}`);
  }
  if (options.port !== undefined) {
    groups.push([{ kind: 'port', port: options.port }]);
    words.push(`port ${options.port}`);
  }
  const filter: NodeFilter = { groups, description: words.join(', ') };
  if (options.service) filter.service = options.service;
  return filter;
}

/**
 * Whether a line of rule text mentions what the filter asks for. IPs match as whole words (also as
 * `IP/32`, `IP:PORT`, `src=IP`); ports as whole numbers (`--dport 80`, `. 80 :`, `:80`).
 */
export function textMatches(filter: NodeFilter, text: string): boolean {
  if (filter.groups.length === 0) return true;
  let words: Set<string> | null = null;
  const wordsOf = (): Set<string> => {
    if (words) return words;
    words = new Set<string>();
    for (const w of text.split(/[\s,{}";=[\]]+/)) {
      if (!w) continue;
      words.add(w);
      // `[fd00::2]:53` splits into `fd00::2` and `:53`.
      if (w.startsWith(':') && /^:\d+$/.test(w)) words.add(w.slice(1));
      const slash = w.indexOf('/');
      if (slash > 0 && isIP(w.slice(0, slash))) words.add(canonicalIP(w.slice(0, slash)));
      const colon = w.lastIndexOf(':');
      if (colon > 0 && w.indexOf('.') > 0 && w.indexOf(':') === colon) {
        words.add(w.slice(0, colon));
        words.add(w.slice(colon + 1));
      }
      if (isIP(w)) words.add(canonicalIP(w));
    }
    return words;
  };
  return filter.groups.every((group) =>
    group.some((c) => {
      if (c.kind === 'text') return text.includes(c.text);
      // The substring test is a shortcut for IPv4 only: an IPv6 address may be written in another form
      // (fd00:0010:… for fd00:10:…, :: for zeros) and is compared parsed.
      if (c.kind === 'ip') return (c.ip.includes(':') || text.includes(c.ip.split('/')[0]!.slice(0, 4))) && wordsOf().has(c.ip);
      return text.includes(String(c.port)) && wordsOf().has(String(c.port));
    }),
  );
}

// ── iptables-save, as `knet node iptables` shows it ─────────────────────────────────────────────

export interface IptablesRuleView {
  line: number;
  rule: string;
  target: string | null;
  comment?: string;
}

export interface IptablesChainView {
  name: string;
  policy: string | null;
  /** Rules in the chain, before filtering. */
  ruleCount: number;
  rules: IptablesRuleView[];
}

export interface IptablesView {
  tables: { name: string; chains: IptablesChainView[] }[];
  ruleCount: number;
  shownCount: number;
  findings: Finding[];
}

/** kube-proxy's per-Service chains: when a shown rule jumps to one, its rules are shown as well. */
const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP|XLB)-/;

export function viewIptables(dump: IptablesDump, filter: NodeFilter): IptablesView {
  let shown = 0;
  const tables = dump.tables.map((t) => {
    const byName = new Map(t.chains.map((c) => [c.name, c]));
    const included = new Map<string, Set<number>>();
    const include = (chain: string, line: number): void => {
      const set = included.get(chain) ?? new Set<number>();
      set.add(line);
      included.set(chain, set);
    };
    const follow = (chainName: string, seen: Set<string>): void => {
      if (seen.has(chainName)) return;
      seen.add(chainName);
      for (const r of byName.get(chainName)?.rules ?? []) {
        include(chainName, r.line);
        if (r.target && SERVICE_CHAIN.test(r.target.name)) follow(r.target.name, seen);
      }
    };
    for (const c of t.chains) {
      for (const r of c.rules) {
        if (!textMatches(filter, r.raw)) continue;
        include(c.name, r.line);
        if (filter.groups.length && r.target && SERVICE_CHAIN.test(r.target.name)) follow(r.target.name, new Set());
      }
    }
    const chains = t.chains
      .filter((c) => filter.groups.length === 0 || included.has(c.name))
      .map((c): IptablesChainView => {
        const lines = included.get(c.name);
        const rules = c.rules
          .filter((r) => filter.groups.length === 0 || lines?.has(r.line))
          .map((r): IptablesRuleView => ({ line: r.line, rule: r.raw, target: r.target?.name ?? null, ...(r.comment ? { comment: r.comment } : {}) }));
        shown += rules.length;
        return { name: c.name, policy: c.policy, ruleCount: c.rules.length, rules };
      });
    return { name: t.name, chains };
  });
  return { tables: tables.filter((t) => filter.groups.length === 0 || t.chains.length > 0), ruleCount: dump.ruleCount, shownCount: shown, findings: dump.findings };
}
