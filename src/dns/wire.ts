// DNS messages on the wire (dns-packet), over a transport the caller gives: the engine builds and
// judges the messages, the transport (src/sources/dns-transport.ts) only moves bytes and keeps time.
import dnsPacket from 'dns-packet';
import { canonicalIP } from '../model/ip.js';
import { normalizeName } from './records.js';
import type { DnsAnswer, RecordType, TriedQuery } from './types.js';

/** One message to send to one server. `message` is the bare DNS message (no TCP length prefix). */
export interface DnsExchange {
  server: string;
  id: number;
  message: Uint8Array;
  isTcp: boolean;
}

export type TransportReply =
  | { kind: 'reply'; message: Uint8Array; ms: number }
  /** No reply within the transport's timeout, after its retries. `detail` says what it saw meanwhile (e.g. replies with other IDs). */
  | { kind: 'timeout'; ms: number; detail?: string }
  /** The server could not be reached or the connection broke. */
  | { kind: 'error'; ms: number; detail: string };

/**
 * What the DNS engine needs from the outside world: send one query to one server and wait for its reply.
 * Over UDP a transport drops datagrams whose first two bytes are not `id` (as resolvers do) and retries
 * on timeout; over TCP it frames with the 2-byte length prefix. It never throws for a server's fault.
 */
export interface DnsTransport {
  exchange(query: DnsExchange): Promise<TransportReply>;
}

/** dns-packet decodes names as it finds them; give every answer the text form records are compared in. */
function answerData(a: dnsPacket.Answer): string {
  switch (a.type) {
    case 'A':
    case 'AAAA':
      return canonicalIP(a.data);
    case 'CNAME':
    case 'PTR':
    case 'NS':
    case 'DNAME':
      return normalizeName(a.data);
    case 'SRV':
      return `${a.data.port} ${normalizeName(a.data.target)}`;
    case 'TXT': {
      const parts = Array.isArray(a.data) ? a.data : [a.data];
      return parts.map((p) => (typeof p === 'string' ? p : p.toString('utf8'))).join('');
    }
    case 'SOA':
      return `${normalizeName(a.data.mname)} ${normalizeName(a.data.rname)} ${a.data.serial}`;
    default:
      return '';
  }
}

export function encodeQuery(fqdn: string, type: RecordType, id: number): Uint8Array {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name: normalizeName(fqdn), class: 'IN' }],
  });
}

const rcodeNames = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

export type DecodedReply =
  | { kind: 'ok'; rcode: string; isTruncated: boolean; answers: DnsAnswer[] }
  | { kind: 'malformed'; detail: string };

/** Decode a reply and check that it answers the question asked (ID, QR bit, question). */
export function decodeReply(message: Uint8Array, expect: { id: number; fqdn: string; type: RecordType; isTcp: boolean }): DecodedReply {
  if (message.length < 12) return { kind: 'malformed', detail: `a ${message.length}-byte reply is shorter than a DNS header` };
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
  } catch (err) {
    return { kind: 'malformed', detail: `the reply does not decode (${err instanceof Error ? err.message : String(err)})` };
  }
  const used = dnsPacket.decode.bytes;
  if (used < message.length) return { kind: 'malformed', detail: `${message.length - used} bytes follow the end of the DNS message` };
  // knet's queries carry no EDNS option: over UDP a server may send at most 512 bytes and must truncate beyond.
  if (!expect.isTcp && message.length > 512) return { kind: 'malformed', detail: `a ${message.length}-byte UDP reply, over the 512 bytes a query without EDNS allows` };
  if (packet.id !== expect.id) return { kind: 'malformed', detail: `the reply has ID ${packet.id}, the query had ${expect.id}` };
  if (packet.type !== 'response') return { kind: 'malformed', detail: 'the reply is not marked as a response (QR bit clear)' };
  const isTruncated = ((packet.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0;
  const q = packet.questions?.[0];
  // A truncated reply may legitimately carry nothing; any other reply echoes the question.
  if (!isTruncated && (!q || normalizeName(q.name) !== normalizeName(expect.fqdn) || q.type !== expect.type)) {
    return { kind: 'malformed', detail: q ? `the reply answers ${q.name} ${q.type}, not the question asked` : 'the reply carries no question' };
  }
  const rcode = rcodeNames[(packet.flags ?? 0) & 0xf] ?? `RCODE${(packet.flags ?? 0) & 0xf}`;
  const answers = (packet.answers ?? [])
    .filter((a) => a.type !== 'OPT')
    .map((a) => ({ name: normalizeName(a.name), type: a.type, ttl: 'ttl' in a ? (a.ttl ?? 0) : 0, data: answerData(a) }));
  return { kind: 'ok', rcode, isTruncated, answers };
}

export interface QueryOptions {
  server: string;
  fqdn: string;
  type: RecordType;
  id: number;
  /** Ask over TCP from the start (`--tcp`, or a port-forward, which carries only TCP). */
  isTcp: boolean;
}

/** Ask one server one question, over UDP and again over TCP when the UDP reply is truncated. */
export async function queryServer(transport: DnsTransport, o: QueryOptions): Promise<TriedQuery> {
  const message = encodeQuery(o.fqdn, o.type, o.id);
  let isTcp = o.isTcp;
  let total = 0;
  for (;;) {
    const reply = await transport.exchange({ server: o.server, id: o.id, message, isTcp });
    total += reply.ms;
    const base = { fqdn: normalizeName(o.fqdn), server: o.server, ms: Math.round(total * 10) / 10, isTcp };
    if (reply.kind === 'timeout') return { ...base, rcode: 'TIMEOUT', answers: [], error: reply.detail ?? 'no reply' };
    if (reply.kind === 'error') return { ...base, rcode: 'ERROR', answers: [], error: reply.detail };
    const decoded = decodeReply(reply.message, { ...o, isTcp });
    if (decoded.kind === 'malformed') return { ...base, rcode: 'MALFORMED', answers: [], error: decoded.detail };
    if (decoded.isTruncated) {
      if (!isTcp) {
        isTcp = true;
        continue;
      }
      return { ...base, rcode: 'MALFORMED', answers: [], error: 'the reply over TCP is marked truncated' };
    }
    return { ...base, rcode: decoded.rcode, answers: decoded.answers };
  }
}
