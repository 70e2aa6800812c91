// The records the API implies, as the Kubernetes DNS specification (kubernetes/dns,
// docs/specification.md) describes them and as CoreDNS's kubernetes plugin serves them.
import type { Cluster } from '../model/cluster.js';
import type { Pod, Service } from '../model/k8s.js';
import { canonicalIP, parseIP } from '../model/ip.js';
import type { DnsRecord, RecordType } from './types.js';

/** CoreDNS `pods insecure|verified|disabled`: how `a-b-c-d.NS.pod.ZONE` is answered. */
export type PodMode = 'insecure' | 'verified' | 'disabled';

/** A Service's endpoint as CoreDNS sees it: ready (or published while not ready), with the name it gets in DNS. */
export interface DnsEndpoint {
  ip: string;
  /** The endpoint's `hostname`, else its address with dots (or colons) as dashes, as CoreDNS names it. */
  label: string;
  hasHostname: boolean;
  pod: string | null;
  from: string;
}

export interface ServiceDns {
  namespace: string;
  name: string;
  kind: 'cluster-ip' | 'headless' | 'external-name';
  /** Ready endpoints (plus not-ready ones when the Service publishes them): these make DNS records. */
  endpoints: DnsEndpoint[];
  /** Endpoints left out because they are not ready. */
  notReady: number;
  service: Service;
}

export interface DnsIndex {
  zone: string;
  podMode: PodMode;
  /** Every record that can be listed (pod records only for pods that exist), in a stable order. */
  records: DnsRecord[];
  byName: ReadonlyMap<string, DnsRecord[]>;
  /** Names that exist in the cluster zone, records or not (`NS.svc.ZONE` is an empty non-terminal: NODATA, not NXDOMAIN). */
  names: ReadonlySet<string>;
  namespaces: ReadonlySet<string>;
  services: ReadonlyMap<string, ServiceDns>;
  pods: readonly Pod[];
}

/** What the API says one query should get. */
export interface Expectation {
  fqdn: string;
  type: RecordType;
  /** False outside the cluster zone, and for reverse names of addresses the API does not know (CoreDNS falls through to its upstream). */
  isAuthoritative: boolean;
  exists: boolean;
  /** Records of `type` at `fqdn`, or the CNAME there (a server answers a CNAME for any type). */
  records: DnsRecord[];
}

/** A name as DNS compares it: lower case, without the trailing dot. */
export function normalizeName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/** `10.0.0.1` → `1.0.0.10.in-addr.arpa`; IPv6 in nibbles under ip6.arpa. Null when `ip` is not an address. */
export function reverseName(ip: string): string | null {
  const parsed = parseIP(ip);
  if (!parsed) return null;
  if (parsed.family === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const hex = parsed.value.toString(16).padStart(32, '0');
  return `${[...hex].reverse().join('.')}.ip6.arpa`;
}

/** The address a reverse name stands for, or null. */
export function addressOfReverseName(name: string): string | null {
  const n = normalizeName(name);
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(n);
  if (v4) {
    const ip = `${v4[4]}.${v4[3]}.${v4[2]}.${v4[1]}`;
    return parseIP(ip) ? ip : null;
  }
  const v6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(n);
  if (v6) {
    const hex = v6[1]!.split('.').filter(Boolean).reverse().join('');
    const ip = hex.match(/.{4}/g)!.join(':');
    return canonicalIP(ip);
  }
  return null;
}

/** The DNS label CoreDNS gives an endpoint without a hostname: its address with `.` or `:` as `-`. */
export function dashedIP(ip: string): string {
  return ip.includes('.') ? ip.replaceAll('.', '-') : canonicalIP(ip).replaceAll(':', '-');
}

function addressType(ip: string): RecordType | null {
  const p = parseIP(ip);
  return p ? (p.family === 4 ? 'A' : 'AAAA') : null;
}

function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None' || svc.spec?.clusterIPs?.[0] === 'None';
}

function clusterIPsOf(svc: Service): string[] {
  const ips = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec?.clusterIP ? [svc.spec.clusterIP] : [];
  return ips.filter((ip) => ip !== 'None' && parseIP(ip) !== null).map(canonicalIP);
}

/** CoreDNS reads `pods MODE` from its Corefile; without one, kubeadm's default (`pods insecure`). */
export function podModeOf(cluster: Cluster): PodMode {
  const cm = cluster.configMaps.find((c) => c.metadata.namespace === 'kube-system' && c.metadata.name === 'coredns');
  const corefile = cm?.data?.Corefile;
  if (corefile === undefined) return 'insecure';
  const m = /^\s*pods\s+(insecure|verified|disabled)\b/m.exec(corefile);
  return (m?.[1] as PodMode | undefined) ?? 'disabled';
}

interface PortView {
  name: string;
  port: number;
  protocol: string;
}

/** Endpoints of one Service: from its EndpointSlices (as CoreDNS reads them), else from the legacy Endpoints object. */
function endpointsOf(cluster: Cluster, svc: Service): { endpoints: DnsEndpoint[]; notReady: number; ports: PortView[] } {
  const ns = svc.metadata.namespace ?? 'default';
  const name = svc.metadata.name;
  const publish = svc.spec?.publishNotReadyAddresses === true;
  const endpoints: DnsEndpoint[] = [];
  const ports: PortView[] = [];
  let notReady = 0;
  const slices = cluster.endpointSlices.filter(
    (s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === name && s.addressType !== 'FQDN',
  );
  const seen = new Set<string>();
  if (slices.length) {
    for (const slice of slices) {
      for (const p of slice.ports ?? []) {
        if (p.port !== undefined) ports.push({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' });
      }
      for (const e of slice.endpoints ?? []) {
        // The API says an unknown (null) readiness is to be read as ready; CoreDNS does so.
        const isReady = e.conditions?.ready !== false;
        if (!isReady && !publish) {
          notReady++;
          continue;
        }
        for (const ip of e.addresses) {
          const key = `${canonicalIP(ip)}|${e.hostname ?? ''}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const pod = e.targetRef?.kind === 'Pod' && e.targetRef.name ? `${e.targetRef.namespace ?? ns}/${e.targetRef.name}` : null;
          endpoints.push({
            ip: canonicalIP(ip),
            label: e.hostname ?? dashedIP(ip),
            hasHostname: Boolean(e.hostname),
            pod,
            from: `endpointslice ${ns}/${slice.metadata.name}${pod ? ` (pod ${pod})` : ''}`,
          });
        }
      }
    }
  } else {
    const ep = cluster.endpoints.find((e) => e.metadata.namespace === ns && e.metadata.name === name);
    for (const subset of ep?.subsets ?? []) {
      for (const p of subset.ports ?? []) ports.push({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' });
      const addresses = [...(subset.addresses ?? []), ...(publish ? (subset.notReadyAddresses ?? []) : [])];
      if (!publish) notReady += subset.notReadyAddresses?.length ?? 0;
      for (const a of addresses) {
        const key = `${canonicalIP(a.ip)}|${a.hostname ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const pod = a.targetRef?.kind === 'Pod' && a.targetRef.name ? `${a.targetRef.namespace ?? ns}/${a.targetRef.name}` : null;
        endpoints.push({
          ip: canonicalIP(a.ip),
          label: a.hostname ?? dashedIP(a.ip),
          hasHostname: Boolean(a.hostname),
          pod,
          from: `endpoints ${ns}/${name}${pod ? ` (pod ${pod})` : ''}`,
        });
      }
    }
  }
  const uniquePorts = new Map(ports.map((p) => [`${p.name}|${p.port}|${p.protocol}`, p]));
  return { endpoints, notReady, ports: [...uniquePorts.values()] };
}

function namespacesOf(cluster: Cluster): Set<string> {
  const set = new Set<string>(cluster.namespaces.map((n) => n.metadata.name));
  for (const o of [...cluster.pods, ...cluster.services]) if (o.metadata.namespace) set.add(o.metadata.namespace);
  return set;
}

export interface BuildDnsOptions {
  /** The cluster domain (`--cluster-domain`, the snapshot's metadata, else cluster.local). */
  clusterDomain: string;
  /** Overrides what the CoreDNS Corefile says. */
  podMode?: PodMode;
}

/**
 * Every record the API implies. Follows CoreDNS's kubernetes plugin:
 * - a ClusterIP Service (with at least one port) has A/AAAA `SVC.NS.svc.ZONE` → its ClusterIPs, SRV at that
 *   name and at `_PORT._PROTO.SVC.NS.svc.ZONE` for named ports → `PORT SVC.NS.svc.ZONE`, PTR from each ClusterIP;
 * - a headless Service has an A/AAAA per ready endpoint at its name, SRV per endpoint and port →
 *   `PORT LABEL.SVC.NS.svc.ZONE`, and no name at all without a ready endpoint;
 * - every endpoint (of any Service) has A/AAAA `LABEL.SVC.NS.svc.ZONE`, LABEL being its hostname
 *   (a pod's `hostname` under the headless Service its `subdomain` names) or its dashed address, and a
 *   PTR from its address unless that address is a ClusterIP;
 * - an ExternalName Service is a CNAME to its externalName;
 * - pods have A/AAAA `A-B-C-D.NS.pod.ZONE` (listed here for pods that exist; `pods insecure` answers any address);
 * - `dns-version.ZONE` TXT `1.1.0`.
 */
export function buildDnsIndex(cluster: Cluster, options: BuildDnsOptions): DnsIndex {
  const zone = normalizeName(options.clusterDomain);
  const podMode = options.podMode ?? podModeOf(cluster);
  const records: DnsRecord[] = [];
  const services = new Map<string, ServiceDns>();
  const clusterIPs = new Set<string>();
  const add = (name: string, type: RecordType, data: string, from: string): void => {
    records.push({ name: name.toLowerCase(), type, data, from });
  };

  const sorted = [...cluster.services].sort(
    (a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name),
  );
  for (const svc of sorted) for (const ip of clusterIPsOf(svc)) clusterIPs.add(ip);

  for (const svc of sorted) {
    const ns = svc.metadata.namespace ?? 'default';
    const base = `${svc.metadata.name}.${ns}.svc.${zone}`;
    const from = `service ${ns}/${svc.metadata.name}`;
    if (svc.spec?.type === 'ExternalName') {
      services.set(`${ns}/${svc.metadata.name}`, { namespace: ns, name: svc.metadata.name, kind: 'external-name', endpoints: [], notReady: 0, service: svc });
      const target = svc.spec.externalName ? normalizeName(svc.spec.externalName) : '';
      // CoreDNS answers a CNAME only when externalName is a name, not an address.
      if (target && !parseIP(target)) add(base, 'CNAME', target, `${from} (ExternalName)`);
      continue;
    }
    const { endpoints, notReady, ports } = endpointsOf(cluster, svc);
    const headless = isHeadless(svc);
    services.set(`${ns}/${svc.metadata.name}`, { namespace: ns, name: svc.metadata.name, kind: headless ? 'headless' : 'cluster-ip', endpoints, notReady, service: svc });

    if (headless) {
      const srvPorts = ports.length ? ports : [];
      for (const e of endpoints) {
        const type = addressType(e.ip);
        if (!type) continue;
        add(base, type, e.ip, e.from);
        for (const p of srvPorts) {
          add(base, 'SRV', `${p.port} ${e.label}.${base}`, e.from);
          if (p.name) add(`_${p.name}._${p.protocol.toLowerCase()}.${base}`, 'SRV', `${p.port} ${e.label}.${base}`, e.from);
        }
      }
    } else {
      const svcPorts = svc.spec?.ports ?? [];
      // CoreDNS finds no record for a ClusterIP Service without ports: NXDOMAIN.
      if (svcPorts.length) {
        for (const ip of clusterIPsOf(svc)) add(base, addressType(ip)!, ip, from);
        for (const p of svcPorts) {
          add(base, 'SRV', `${p.port} ${base}`, from);
          if (p.name) add(`_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${base}`, 'SRV', `${p.port} ${base}`, from);
        }
        for (const ip of clusterIPsOf(svc)) add(reverseName(ip)!, 'PTR', base, from);
      }
    }
    for (const e of endpoints) {
      const type = addressType(e.ip);
      if (!type) continue;
      add(`${e.label}.${base}`, type, e.ip, e.from);
      if (!clusterIPs.has(e.ip)) add(reverseName(e.ip)!, 'PTR', `${e.label}.${base}`, e.from);
    }
  }

  if (podMode !== 'disabled') {
    const pods = [...cluster.pods].sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
    for (const pod of pods) {
      const ns = pod.metadata.namespace ?? 'default';
      const ips = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
      for (const ip of ips) {
        const type = addressType(ip);
        if (type) add(`${dashedIP(ip)}.${ns}.pod.${zone}`, type, canonicalIP(ip), `pod ${ns}/${pod.metadata.name}`);
      }
    }
  }
  add(`dns-version.${zone}`, 'TXT', '1.1.0', 'the Kubernetes DNS specification');
  // CoreDNS names itself ns.dns.ZONE, at the cluster DNS Service's address.
  const dnsService = sorted.find((s) => s.metadata.namespace === 'kube-system' && s.metadata.name === 'kube-dns');
  for (const ip of dnsService ? clusterIPsOf(dnsService) : []) add(`ns.dns.${zone}`, addressType(ip)!, ip, 'service kube-system/kube-dns (the DNS server itself)');

  // Duplicates (a ClusterIP Service's SRV per port repeated, one pod in two lists) add nothing.
  const unique = new Map<string, DnsRecord>();
  for (const r of records) {
    const key = `${r.name}|${r.type}|${r.data}`;
    if (!unique.has(key)) unique.set(key, r);
  }
  const list = [...unique.values()];
  const byName = new Map<string, DnsRecord[]>();
  for (const r of list) {
    const at = byName.get(r.name);
    if (at) at.push(r);
    else byName.set(r.name, [r]);
  }
  const namespaces = namespacesOf(cluster);
  const names = new Set<string>([zone, `svc.${zone}`, `pod.${zone}`]);
  for (const ns of namespaces) {
    names.add(`${ns}.svc.${zone}`);
    names.add(`${ns}.pod.${zone}`);
  }
  for (const r of list) {
    if (!isInZone(r.name, zone)) continue;
    // A name exists, and so does every name between it and the zone (empty non-terminals).
    let n = r.name;
    while (n !== zone && !names.has(n)) {
      names.add(n);
      n = n.slice(n.indexOf('.') + 1);
    }
  }
  return { zone, podMode, records: list, byName, names, namespaces, services, pods: cluster.pods };
}

export function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** What the API says a query for `type` at `fqdn` should get. */
export function expectRecords(index: DnsIndex, fqdnIn: string, type: RecordType): Expectation {
  const fqdn = normalizeName(fqdnIn);
  const at = index.byName.get(fqdn) ?? [];
  const pick = (rs: DnsRecord[]): DnsRecord[] => {
    const same = rs.filter((r) => r.type === type);
    if (same.length || type === 'CNAME') return same;
    return rs.filter((r) => r.type === 'CNAME');
  };
  if (isInZone(fqdn, index.zone)) {
    const pod = podRecord(index, fqdn);
    if (pod) return { fqdn, type, isAuthoritative: true, exists: true, records: pick([pod]) };
    return { fqdn, type, isAuthoritative: true, exists: index.names.has(fqdn), records: pick(at) };
  }
  if (fqdn.endsWith('.in-addr.arpa') || fqdn.endsWith('.ip6.arpa')) {
    // CoreDNS answers reverse names of the addresses it knows and hands the rest to its upstream.
    return { fqdn, type, isAuthoritative: at.length > 0, exists: at.length > 0, records: pick(at) };
  }
  return { fqdn, type, isAuthoritative: false, exists: at.length > 0, records: pick(at) };
}

/** `A-B-C-D.NS.pod.ZONE` under `pods insecure` (any address in a namespace that exists) or `verified` (a pod has it). */
function podRecord(index: DnsIndex, fqdn: string): DnsRecord | null {
  const suffix = `.pod.${index.zone}`;
  if (!fqdn.endsWith(suffix) || index.podMode === 'disabled') return null;
  const labels = fqdn.slice(0, -suffix.length).split('.');
  if (labels.length !== 2) return null;
  const [label, ns] = labels as [string, string];
  const ip = (label.match(/-/g) ?? []).length === 3 && !label.includes('--') ? label.replaceAll('-', '.') : label.replaceAll('-', ':');
  const parsed = parseIP(ip);
  if (!parsed || !index.namespaces.has(ns)) return null;
  const canonical = canonicalIP(ip);
  if (index.podMode === 'verified') {
    return index.byName.get(fqdn)?.find((r) => r.data === canonical) ?? null;
  }
  return index.byName.get(fqdn)?.[0] ?? { name: fqdn, type: parsed.family === 4 ? 'A' : 'AAAA', data: canonical, from: 'pods insecure (any address in the namespace)' };
}
