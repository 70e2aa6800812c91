// Streams conntrack lines through a filter, keeping only what matches. A million-line table is read
// without holding it: unmatched lines are dropped after a cheap substring test, before they are
// split, and matched entries are kept up to a limit (the count goes on).
import type { Finding } from '../../model/finding.js';
import { canonicalIP } from '../../model/ip.js';
import { parseConntrackLine, type ConntrackEntry } from './parse.js';
import { findStaleEntry, frontendKey, type ServiceEndpointIndex } from './stale.js';

export interface ConntrackFilter {
  /** Any of the four addresses (original or reply, source or destination). */
  ips?: readonly string[];
  /** Any of the ports of either tuple. */
  ports?: readonly number[];
  /** tcp, udp, sctp, icmp… */
  protocol?: string;
  /** TCP/SCTP state, or UNREPLIED / ASSURED for flags. */
  state?: string;
  /** Only entries whose reply source differs from the original destination. */
  isDnatOnly?: boolean;
}

export interface ConntrackScanOptions {
  filter?: ConntrackFilter;
  /** Matched entries kept in the result (all are counted). Default 10,000. */
  limit?: number;
  /** Service IP:port → endpoint IPs, to find entries that still point at a removed endpoint. */
  services?: ServiceEndpointIndex;
}

export interface ConntrackScan {
  /** Lines read, and of those, entries (lines that were conntrack entries). */
  lines: number;
  /** Entries that matched the filter (all counted, even beyond the limit). */
  matched: number;
  /** Matched entries that were DNATed. */
  dnatMatched: number;
  entries: ConntrackEntry[];
  isTruncated: boolean;
  findings: Finding[];
}

const MAX_LINE_FINDINGS = 20;

export async function scanConntrack(lines: AsyncIterable<string> | Iterable<string>, options: ConntrackScanOptions = {}): Promise<ConntrackScan> {
  const filter = options.filter ?? {};
  const limit = options.limit ?? 10_000;
  const ips = filter.ips?.map(canonicalIP);
  // Substring needles for the fast path: `=IP ` cannot match 10.0.0.10 when looking for 10.0.0.1.
  const ipNeedles = ips?.map((ip) => `=${ip} `);
  const portNeedles = filter.ports?.map((p) => `port=${p} `);
  const protocol = filter.protocol?.toLowerCase();
  const state = filter.state?.toUpperCase();
  const scan: ConntrackScan = { lines: 0, matched: 0, dnatMatched: 0, entries: [], isTruncated: false, findings: [] };
  let badLines = 0;
  for await (const raw of lines) {
    const lineNo = ++scan.lines;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const padded = line + ' ';
    if (ipNeedles && !ipNeedles.some((n) => padded.includes(n))) continue;
    if (portNeedles && !portNeedles.some((n) => padded.includes(n))) continue;
    const parsed = parseConntrackLine(line, lineNo);
    if (parsed === null) continue;
    if ('error' in parsed) {
      badLines++;
      if (badLines <= MAX_LINE_FINDINGS) {
        scan.findings.push({
          code: 'conntrack-line-not-understood',
          severity: 'warning',
          message: `line ${lineNo}: ${parsed.error}: ${line.length > 120 ? `${line.slice(0, 120)}…` : line}`,
          line: lineNo,
        });
      }
      continue;
    }
    const e = parsed.entry;
    if (!matches(e, ips, filter.ports, protocol, state, filter.isDnatOnly === true)) continue;
    scan.matched++;
    if (e.isDnat) scan.dnatMatched++;
    if (options.services) {
      const svc = e.original.dport === undefined ? undefined : options.services.get(frontendKey(e.original.dst, e.original.dport, e.protocol));
      if (svc) e.service = svc.service;
      const stale = findStaleEntry(e, options.services);
      if (stale) scan.findings.push(stale);
    }
    if (scan.entries.length < limit) scan.entries.push(e);
    else scan.isTruncated = true;
  }
  if (badLines > MAX_LINE_FINDINGS) {
    scan.findings.push({
      code: 'conntrack-line-not-understood',
      severity: 'warning',
      message: `${badLines - MAX_LINE_FINDINGS} more lines were not conntrack entries`,
    });
  }
  return scan;
}

function matches(e: ConntrackEntry, ips: string[] | undefined, ports: readonly number[] | undefined, protocol: string | undefined, state: string | undefined, isDnatOnly: boolean): boolean {
  if (protocol && e.protocol !== protocol) return false;
  if (state && e.state !== state && !e.flags.includes(state as never)) return false;
  if (isDnatOnly && !e.isDnat) return false;
  if (ips) {
    const o = e.original;
    const r = e.reply;
    const addrs = e.family === 'ipv6' ? [o.src, o.dst, r.src, r.dst].map(canonicalIP) : [o.src, o.dst, r.src, r.dst];
    if (!ips.some((ip) => addrs.includes(ip))) return false;
  }
  if (ports) {
    const o = e.original;
    const r = e.reply;
    if (!ports.some((p) => o.sport === p || o.dport === p || r.sport === p || r.dport === p)) return false;
  }
  return true;
}
