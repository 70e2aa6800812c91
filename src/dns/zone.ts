// The records the API implies as RFC 1035 zone files, so that any DNS server (bind9, CoreDNS's `file`
// plugin) can serve exactly what the API says: to compare a replica with, or to try knet offline.
import { isInZone, type DnsIndex } from './records.js';
import type { DnsRecord } from './types.js';

export interface ZoneFile {
  /** The zone's origin without the trailing dot: the cluster domain, `in-addr.arpa` or `ip6.arpa`. */
  origin: string;
  text: string;
}

function rdata(r: DnsRecord): string {
  switch (r.type) {
    case 'CNAME':
    case 'PTR':
      return `${r.data}.`;
    case 'SRV': {
      const [port, target] = r.data.split(' ');
      return `0 100 ${port} ${target}.`;
    }
    case 'TXT':
      return `"${r.data.replace(/(["\\])/g, '\\$1')}"`;
    default:
      return r.data;
  }
}

function zoneText(origin: string, records: DnsRecord[], o: { ttl: number; serial: number; nsAddress: string }): string {
  const lines = [
    `; Records the Kubernetes API implies, written by knet.`,
    `$ORIGIN ${origin}.`,
    `$TTL ${o.ttl}`,
    `@ IN SOA ns.dns.${origin}. hostmaster.${origin}. ${o.serial} 7200 1800 86400 ${o.ttl}`,
    `@ IN NS ns.dns.${origin}.`,
  ];
  if (!records.some((r) => r.name === `ns.dns.${origin}`)) lines.push(`ns.dns.${origin}. IN A ${o.nsAddress}`);
  for (const r of records) lines.push(`${r.name}. IN ${r.type} ${rdata(r)}`);
  return lines.join('\n') + '\n';
}

/**
 * One zone file for the cluster domain and one for each reverse tree that has records. Reverse zones are
 * written whole (`in-addr.arpa`, `ip6.arpa`): a server serving them answers NXDOMAIN for every other address.
 */
export function formatZones(index: DnsIndex, o: { ttl?: number; serial?: number; nsAddress?: string } = {}): ZoneFile[] {
  const opts = { ttl: o.ttl ?? 30, serial: o.serial ?? 1, nsAddress: o.nsAddress ?? '127.0.0.1' };
  const forward = index.records.filter((r) => isInZone(r.name, index.zone));
  const v4 = index.records.filter((r) => r.name.endsWith('.in-addr.arpa'));
  const v6 = index.records.filter((r) => r.name.endsWith('.ip6.arpa'));
  const nsName = `ns.dns.${index.zone}`;
  const out: ZoneFile[] = [{ origin: index.zone, text: zoneText(index.zone, forward, opts) }];
  // Reverse zones name the cluster's DNS server as theirs.
  const reverse = (origin: string, records: DnsRecord[]): string =>
    zoneText(origin, records, opts).replace(`@ IN NS ns.dns.${origin}.`, `@ IN NS ${nsName}.`).replace(`ns.dns.${origin}. IN A ${opts.nsAddress}\n`, '');
  out.push({ origin: 'in-addr.arpa', text: reverse('in-addr.arpa', v4) });
  if (v6.length) out.push({ origin: 'ip6.arpa', text: reverse('ip6.arpa', v6) });
  return out;
}
