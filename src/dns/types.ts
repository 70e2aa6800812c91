import type { Finding } from '../model/finding.js';

/** The record types knet asks for and judges. */
export type RecordType = 'A' | 'AAAA' | 'SRV' | 'PTR' | 'CNAME' | 'TXT';

export const recordTypes: readonly RecordType[] = ['A', 'AAAA', 'SRV', 'PTR', 'CNAME', 'TXT'];

/**
 * One record the API implies. `data` is compared as text:
 * A/AAAA the canonical address; CNAME and PTR the target name (lower case, no trailing dot);
 * SRV `PORT TARGET` (priority and weight are the server's business); TXT the text.
 */
export interface DnsRecord {
  name: string;
  type: RecordType;
  data: string;
  /** Which API object implies it, e.g. `service default/web` or `endpointslice default/web-abcde (pod default/web-1)`. */
  from: string;
}

/** One record a server returned, in the same text form as `DnsRecord.data`. */
export interface DnsAnswer {
  name: string;
  /** The record type as the server sent it (it may be one knet does not judge, e.g. SOA, NS). */
  type: string;
  ttl: number;
  data: string;
}

/** NOERROR, NXDOMAIN, SERVFAIL, REFUSED… as the server said; TIMEOUT and MALFORMED when it said nothing usable. */
export type Rcode = string;

/** One query sent to one server (or, with no server, what the API says that query would get). */
export interface TriedQuery {
  fqdn: string;
  /** `HOST:PORT`, or null when no server was asked and the API's records answered. */
  server: string | null;
  rcode: Rcode;
  answers: DnsAnswer[];
  /** Latency of the exchange (retries and a TCP retry after truncation included); null when no server was asked. */
  ms: number | null;
  /** Whether the answer came over TCP (asked with --tcp, or retried after a truncated UDP answer). */
  isTcp?: boolean;
  /** What went wrong, for TIMEOUT, MALFORMED and transport errors. */
  error?: string;
  /** How an answer was arrived at without a server, when that took an assumption. */
  note?: string;
}

/**
 * How the name came out, the answer `knet check` reads: it `resolves`, is `nxdomain` (no name in the
 * search sequence exists), `nodata` (a name exists with no record of that type), `failure` (every server
 * failed), or `unknown` (outside the cluster domain with no server asked: only a server can say).
 */
export type DnsOutcome = 'resolves' | 'nxdomain' | 'nodata' | 'failure' | 'unknown';

export interface DnsReport {
  name: string;
  type: RecordType;
  /** `NS/NAME` of the pod whose resolver knet followed, or null for a pod that would be there (no pod given or found). */
  from: string | null;
  dnsPolicy: string;
  ndots: number;
  nameservers: string[];
  searchList: string[];
  /** Every query in the order the resolver sends them, per server; it stops at the first name that answers. */
  tried: TriedQuery[];
  /** The records the API implies for the name the resolver settles on (the first in the sequence that exists). */
  expected: DnsRecord[];
  /** The servers asked; empty when judged from the API's records alone. */
  servers: string[];
  /** `servers` when at least one server was asked, `api` when no server was asked (a snapshot without --server). */
  judgedFrom: 'servers' | 'api';
  outcome: DnsOutcome;
  /** The FQDN that answered, or null. */
  resolvedAs: string | null;
  findings: Finding[];
  /** What knet could not see or had to assume about the resolver (the node's own search domains…). */
  notes: string[];
}

export interface DnsAllReport {
  names: DnsReport[];
  summary: { names: number; servers: number; queries: number; errors: number; warnings: number; resolves: number; failing: number };
}
