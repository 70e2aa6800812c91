// Streams conntrack lines through a filter, keeping only what matches. A million-line table is read
// without holding it. Given raw bytes (the fast path), the filter runs on bytes before anything is
// decoded: the needles (`=IP`, `port=N`) are searched in the chunk as a whole, and only the lines
// around a hit are decoded and parsed, as `grep -F` would; given lines, a cheap substring test comes
// before the split. Matched entries are kept up to a limit (the count goes on), and findings fold
// past a bound (FindingAggregator), so that memory stays flat in the number of entries.
import { Buffer } from 'node:buffer';
import { FindingAggregator, type Finding } from '../../model/finding.js';
import { canonicalIP, ipTextForms } from '../../model/ip.js';
import { detachEntry, parseConntrackText, type ConntrackEntry } from './parse.js';
import { findStaleEntry, FrontendLookup, isStale, type ServiceEndpointIndex } from './stale.js';

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

/**
 * Lines of text, or the raw bytes of the file in chunks of any size (the fast path); a chunk is only
 * read until the next one is asked for, so that a source may reuse its buffer.
 */
export type ConntrackInput = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

const MAX_LINE_FINDINGS = 20;
/** No conntrack line is this long; a longer one is reported, and not held while it lasts. */
const MAX_LINE_BYTES = 4096;
/** How much of a chunk is decoded into one string at a time: small enough to stay in the young generation. */
const DECODE_BYTES = 64 * 1024;

class Scanner {
  readonly scan: ConntrackScan = { lines: 0, matched: 0, dnatMatched: 0, entries: [], isTruncated: false, findings: [] };
  private readonly stale = new FindingAggregator();
  private badLines = 0;
  readonly ips: string[] | undefined;
  /** Needles for the string path: `=IP ` cannot match 10.0.0.10 when looking for 10.0.0.1. */
  readonly textNeedles: string[] | undefined;
  /** The same needles as bytes, without the trailing space (checked by hand: the line may end there). */
  readonly byteNeedles: Buffer[] | undefined;
  private readonly protocol: string | undefined;
  private readonly state: string | undefined;
  private readonly frontends: FrontendLookup | undefined;

  constructor(private readonly options: ConntrackScanOptions) {
    const filter = options.filter ?? {};
    this.ips = filter.ips?.map(canonicalIP);
    // The kernel prints IPv6 in full form in /proc/net/nf_conntrack (fd00:0010:…:0005), conntrack -L in
    // the short one: search for every form an address may take, compare parsed addresses afterwards.
    const needles = filter.ips ? [...new Set(filter.ips.flatMap(ipTextForms))].map((ip) => `=${ip}`) : filter.ports?.map((p) => `port=${p}`);
    this.textNeedles = needles?.map((n) => `${n} `);
    this.byteNeedles = needles?.map((n) => Buffer.from(n, 'latin1'));
    this.protocol = filter.protocol?.toLowerCase();
    this.state = filter.state?.toUpperCase();
    this.frontends = options.services ? new FrontendLookup(options.services) : undefined;
  }

  /** One line, `text[from, to)` without its newline, already known to pass the substring test when there is one. */
  line(text: string, from: number, to: number, lineNo: number): void {
    const parsed = parseConntrackText(text, from, to, lineNo);
    if (parsed === null) return;
    if ('error' in parsed) {
      this.notUnderstood(lineNo, parsed.error, Buffer.from(text.slice(from, Math.min(to, from + 121))).toString());
      return;
    }
    const e = parsed.entry;
    if (!this.matches(e)) return;
    const scan = this.scan;
    scan.matched++;
    if (e.isDnat) scan.dnatMatched++;
    const frontends = this.frontends;
    if (frontends) {
      const svc = e.original.dport === undefined ? undefined : frontends.get(e.original.dst, e.original.dport, e.protocol);
      if (svc) {
        e.service = svc.service;
        // Grouped by frontend (the object itself, no key string made per entry).
        if (isStale(e, svc)) this.stale.addLazy(svc, () => findStaleEntry(detachEntry(e), this.options.services!)!);
      }
    }
    // Kept entries are detached from the chunk of text they were read from (see detachEntry).
    if (scan.entries.length < (this.options.limit ?? 10_000)) scan.entries.push(detachEntry(e));
    else scan.isTruncated = true;
  }

  notUnderstood(lineNo: number, problem: string, text: string): void {
    this.badLines++;
    if (this.badLines > MAX_LINE_FINDINGS) return;
    this.scan.findings.push({
      code: 'conntrack-line-not-understood',
      severity: 'warning',
      message: `line ${lineNo}: ${problem}: ${text.length > 120 ? `${text.slice(0, 120)}…` : text}`,
      line: lineNo,
    });
  }

  finish(): ConntrackScan {
    if (this.badLines > MAX_LINE_FINDINGS) {
      this.scan.findings.push({
        code: 'conntrack-line-not-understood',
        severity: 'warning',
        message: `${this.badLines - MAX_LINE_FINDINGS} more lines were not conntrack entries`,
      });
    }
    this.scan.findings.unshift(...this.stale.result());
    return this.scan;
  }

  private matches(e: ConntrackEntry): boolean {
    const filter = this.options.filter ?? {};
    if (this.protocol && e.protocol !== this.protocol) return false;
    if (this.state && e.state !== this.state && !e.flags.includes(this.state as never)) return false;
    if (filter.isDnatOnly && !e.isDnat) return false;
    if (this.ips) {
      const o = e.original;
      const r = e.reply;
      const addrs = e.family === 'ipv6' ? [o.src, o.dst, r.src, r.dst].map(canonicalIP) : [o.src, o.dst, r.src, r.dst];
      if (!this.ips.some((ip) => addrs.includes(ip))) return false;
    }
    const ports = filter.ports;
    if (ports) {
      const o = e.original;
      const r = e.reply;
      if (!ports.some((p) => o.sport === p || o.dport === p || r.sport === p || r.dport === p)) return false;
    }
    return true;
  }
}

/** Whether the byte after a needle ends the word (a space, the end of the line, or of the data). */
function endsWord(buf: Buffer, at: number, end: number): boolean {
  if (at >= end) return true;
  const c = buf[at];
  return c === 32 || c === 10 || c === 13;
}

/**
 * The byte path: complete lines of `buf[0, end)` (end is just past a newline, or the end of input).
 * Returns how many newlines it passed, for line numbers.
 */
function scanRegion(s: Scanner, buf: Buffer, end: number, firstLineNo: number): number {
  const needles = s.byteNeedles;
  let lineNo = firstLineNo;
  let pos = 0;
  const emit = (start: number, stop: number): void => {
    let e = stop;
    if (e > start && buf[e - 1] === 13) e--;
    if (e - start > MAX_LINE_BYTES) s.notUnderstood(lineNo, `line is ${e - start} bytes long`, buf.toString('utf8', start, start + 120));
    else {
      const line = buf.toString('utf8', start, e);
      s.line(line, 0, line.length, lineNo);
    }
  };
  if (!needles) {
    // Every line is read: a piece of DECODE_BYTES or so, cut after a newline (so no character is cut),
    // is decoded at once, and its lines are parsed where they lie in that text.
    for (let from = 0; from < end; ) {
      let to = from + DECODE_BYTES >= end ? end : buf.lastIndexOf(10, from + DECODE_BYTES) + 1;
      if (to <= from) to = Math.min(end, buf.indexOf(10, from + DECODE_BYTES) + 1 || end);
      const text = buf.toString('utf8', from, to);
      const n = text.length;
      pos = 0;
      while (pos < n) {
        let nl = text.indexOf('\n', pos);
        if (nl < 0) nl = n;
        let e = nl;
        if (e > pos && text.charCodeAt(e - 1) === 13) e--;
        if (e - pos > MAX_LINE_BYTES && Buffer.byteLength(text.slice(pos, e)) > MAX_LINE_BYTES) {
          s.notUnderstood(lineNo, `line is ${Buffer.byteLength(text.slice(pos, e))} bytes long`, text.slice(pos, pos + 120));
        } else s.line(text, pos, e, lineNo);
        lineNo++;
        pos = nl + 1;
      }
      from = to;
    }
    return lineNo - firstLineNo;
  }
  // Next hit of each needle at or after `pos`; a line is decoded once even when several needles hit it.
  const next = needles.map((n) => buf.indexOf(n, 0));
  for (;;) {
    let hit = -1;
    for (let i = 0; i < needles.length; i++) {
      let h = next[i]!;
      while (h >= 0 && h < end && (h < pos || !endsWord(buf, h + needles[i]!.length, end))) h = buf.indexOf(needles[i]!, Math.max(pos, h + 1));
      next[i] = h;
      if (h >= 0 && h < end && (hit < 0 || h < hit)) hit = h;
    }
    if (hit < 0) break;
    const start = hit === 0 ? 0 : buf.lastIndexOf(10, hit - 1) + 1;
    for (let nl = buf.indexOf(10, pos); nl >= 0 && nl < start; nl = buf.indexOf(10, nl + 1)) lineNo++;
    let stop = buf.indexOf(10, hit);
    if (stop < 0 || stop > end) stop = end;
    emit(start, stop);
    lineNo++;
    pos = stop + 1;
    if (pos >= end) break;
  }
  for (let nl = buf.indexOf(10, pos); nl >= 0 && nl < end; nl = buf.indexOf(10, nl + 1)) lineNo++;
  // The last line of the input, without a newline, counts as a line too.
  if (end > 0 && buf[end - 1] !== 10 && pos < end) lineNo++;
  return lineNo - firstLineNo;
}

export async function scanConntrack(input: ConntrackInput, options: ConntrackScanOptions = {}): Promise<ConntrackScan> {
  const s = new Scanner(options);
  const scan = s.scan;
  let carry: Buffer | null = null;
  /** A line longer than MAX_LINE_BYTES is being skipped: its start, for the message. */
  let overlong: { lineNo: number; head: string; bytes: number } | null = null;
  for await (const item of input) {
    if (typeof item === 'string') {
      const lineNo = ++scan.lines;
      const line = item.endsWith('\r') ? item.slice(0, -1) : item;
      const needles = s.textNeedles;
      if (needles) {
        const padded = line + ' ';
        if (!needles.some((n) => padded.includes(n))) continue;
      }
      s.line(line, 0, line.length, lineNo);
      continue;
    }
    let buf: Buffer = Buffer.isBuffer(item) ? item : Buffer.from(item.buffer, item.byteOffset, item.byteLength);
    if (overlong) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        overlong.bytes += buf.length;
        continue;
      }
      overlong.bytes += nl;
      s.notUnderstood(overlong.lineNo, `line is ${overlong.bytes} bytes long`, overlong.head);
      scan.lines++;
      overlong = null;
      buf = buf.subarray(nl + 1);
    }
    if (carry) {
      // Only the line that spans the two chunks is copied; the rest is scanned where it lies.
      const nl = buf.indexOf(10);
      if (nl < 0) {
        const joined = Buffer.concat([carry, buf]);
        carry = null;
        if (joined.length > MAX_LINE_BYTES) overlong = { lineNo: scan.lines + 1, head: joined.toString('utf8', 0, 120), bytes: joined.length };
        else carry = joined;
        continue;
      }
      const spanning = Buffer.concat([carry, buf.subarray(0, nl + 1)]);
      carry = null;
      scan.lines += scanRegion(s, spanning, spanning.length, scan.lines + 1);
      buf = buf.subarray(nl + 1);
    }
    const lastNl = buf.lastIndexOf(10);
    if (lastNl < 0) {
      if (buf.length > MAX_LINE_BYTES) overlong = { lineNo: scan.lines + 1, head: buf.toString('utf8', 0, 120), bytes: buf.length };
      else carry = Buffer.from(buf);
      continue;
    }
    scan.lines += scanRegion(s, buf, lastNl + 1, scan.lines + 1);
    // Copied: the source may reuse its buffer for the next chunk.
    if (lastNl + 1 < buf.length) carry = Buffer.from(buf.subarray(lastNl + 1));
  }
  if (overlong) {
    s.notUnderstood(overlong.lineNo, `line is ${overlong.bytes} bytes long`, overlong.head);
    scan.lines++;
  }
  if (carry && carry.length) scan.lines += scanRegion(s, carry, carry.length, scan.lines + 1);
  return s.finish();
}
