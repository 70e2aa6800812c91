// Parses `ipset list` and `ipset save` output (the sets kube-proxy's IPVS mode keeps: hash:ip,
// hash:ip,port, hash:ip,port,ip, hash:ip,port,net, hash:net, bitmap:port) and answers
// `-m set --match-set NAME FLAGS` for the iptables simulator.
import type { Finding } from '../../model/finding.js';
import { canonicalIP, cidrContains, isIP } from '../../model/ip.js';
import type { IpsetLookup, Packet } from '../types.js';

export interface IpsetMember {
  /** The member as printed, without options: `10.96.0.10,udp:53`. */
  raw: string;
  line: number;
  /** `nomatch` members are exceptions inside a hash:net set. */
  isNomatch: boolean;
  comment?: string;
}

export interface Ipset {
  name: string;
  type: string;
  /** `inet` or `inet6`. */
  family: string;
  /** The rest of the header (hashsize, maxelem, range …) as printed. */
  header: string;
  line: number;
  members: IpsetMember[];
}

export interface IpsetParse {
  sets: Ipset[];
  findings: Finding[];
}

export class IpsetParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'IpsetParseError';
  }
}

const MAX_LINE = 100_000;

function member(text: string, line: number): IpsetMember {
  const words = text.trim().split(/\s+/);
  const m: IpsetMember = { raw: words[0] ?? '', line, isNomatch: words.includes('nomatch') };
  const c = text.indexOf('comment "');
  if (c >= 0) m.comment = text.slice(c + 9, text.indexOf('"', c + 9));
  return m;
}

function familyOf(header: string): string {
  const w = header.split(/\s+/);
  const at = w.indexOf('family');
  return at >= 0 ? (w[at + 1] ?? 'inet') : 'inet';
}

/** `ipset list` (Name:/Type:/Header:/Members: blocks) or `ipset save` (create/add lines); detected per line. */
export function parseIpset(text: string, options: { mode: 'strict' | 'lenient' } = { mode: 'lenient' }): IpsetParse {
  const sets = new Map<string, Ipset>();
  const findings: Finding[] = [];
  const problem = (line: number, message: string): void => {
    if (options.mode === 'strict') throw new IpsetParseError(message, line);
    findings.push({ code: 'ipset-line-not-understood', severity: 'warning', message: `line ${line}: ${message}`, line });
  };
  let current: Ipset | null = null;
  let inMembers = false;
  const lines = text.split('\n');
  lines.forEach((rawLine, i) => {
    const lineNo = i + 1;
    if (rawLine.length > MAX_LINE) return problem(lineNo, `line is ${rawLine.length} characters long`);
    const line = rawLine.trimEnd();
    if (!line.trim()) {
      inMembers = false;
      return;
    }
    if (line.startsWith('create ')) {
      const w = line.split(/\s+/);
      if (w.length < 3) return problem(lineNo, `create without a type: ${line}`);
      const header = w.slice(3).join(' ');
      current = { name: w[1]!, type: w[2]!, family: familyOf(header), header, line: lineNo, members: [] };
      sets.set(current.name, current);
      inMembers = false;
      return;
    }
    if (line.startsWith('add ')) {
      const w = line.split(/\s+/);
      const set = sets.get(w[1] ?? '');
      if (!set) return problem(lineNo, `add to set "${w[1] ?? ''}", which was not created before`);
      set.members.push(member(w.slice(2).join(' '), lineNo));
      return;
    }
    const colon = line.indexOf(':');
    const key = colon > 0 ? line.slice(0, colon) : '';
    const value = colon > 0 ? line.slice(colon + 1).trim() : '';
    if (key === 'Name') {
      current = { name: value, type: '', family: 'inet', header: '', line: lineNo, members: [] };
      sets.set(value, current);
      inMembers = false;
      return;
    }
    if (inMembers && current) {
      current.members.push(member(line, lineNo));
      return;
    }
    if (!current) return problem(lineNo, `expected "Name:" or "create" before: ${line.slice(0, 120)}`);
    switch (key) {
      case 'Type':
        current.type = value;
        return;
      case 'Header':
        current.header = value;
        current.family = familyOf(value);
        return;
      case 'Members':
        inMembers = true;
        return;
      case 'Revision':
      case 'Size in memory':
      case 'References':
      case 'Number of entries':
        return;
      default:
        return problem(lineNo, `not an ipset line: ${line.slice(0, 120)}`);
    }
  });
  for (const s of sets.values()) if (!s.type) problem(s.line, `set ${s.name} has no Type:`);
  return { sets: [...sets.values()], findings };
}

interface SetIndex {
  set: Ipset;
  exact: Set<string>;
  nets: IpsetMember[];
  nomatch: IpsetMember[];
}

/** One component of a member: `10.0.0.1`, `tcp:80` (or `80`, which ipset takes as tcp), `10.0.0.0/24`. */
function portPart(part: string): string {
  const c = part.indexOf(':');
  return c >= 0 ? `${part.slice(0, c).toLowerCase()}:${Number(part.slice(c + 1))}` : `tcp:${Number(part)}`;
}

function normalizeMember(type: string, raw: string): string {
  const dims = type.split(':')[1]?.split(',') ?? [];
  const parts = raw.split(',');
  return parts.map((p, i) => (dims[i] === 'port' ? (type.startsWith('bitmap') ? String(Number(p)) : portPart(p)) : isIP(p) ? canonicalIP(p) : p)).join(',');
}

export function ipsetLookup(sets: readonly Ipset[]): IpsetLookup {
  const index = new Map<string, SetIndex>();
  for (const set of sets) {
    const entry: SetIndex = { set, exact: new Set(), nets: [], nomatch: [] };
    for (const m of set.members) {
      if (m.isNomatch) entry.nomatch.push(m);
      else if (m.raw.includes('/') || (set.type.startsWith('bitmap:port') && m.raw.includes('-'))) entry.nets.push(m);
      else entry.exact.add(normalizeMember(set.type, m.raw));
    }
    index.set(set.name, entry);
  }
  return (name: string, packet: Packet, flags: readonly string[]): boolean | undefined => {
    const entry = index.get(name);
    if (!entry) return undefined;
    const dims = entry.set.type.split(':')[1]?.split(',') ?? [];
    const values: string[] = [];
    for (let i = 0; i < dims.length; i++) {
      const dir = flags[i] ?? flags[flags.length - 1] ?? 'dst';
      const dim = dims[i]!;
      if (dim === 'port') {
        const port = dir === 'src' ? packet.sport : packet.dport;
        if (port === undefined) return false;
        values.push(entry.set.type.startsWith('bitmap') ? String(port) : `${packet.protocol}:${port}`);
      } else values.push(canonicalIP(dir === 'src' ? packet.src : packet.dst));
    }
    const key = values.join(',');
    const covers = (m: IpsetMember): boolean =>
      m.raw.split(',').every((p, i) => {
        const v = values[i] ?? '';
        if (dims[i] === 'port') {
          const dash = p.indexOf('-');
          if (dash > 0 && entry.set.type.startsWith('bitmap')) return Number(v) >= Number(p.slice(0, dash)) && Number(v) <= Number(p.slice(dash + 1));
          return (entry.set.type.startsWith('bitmap') ? String(Number(p)) : portPart(p)) === v;
        }
        return p.includes('/') ? cidrContains(p, v) : canonicalIP(p) === v;
      });
    // hash:net: the most specific entry wins, so a `nomatch` inside a larger net excludes the address.
    if (entry.nomatch.some(covers)) return false;
    return entry.exact.has(key) || entry.nets.some(covers);
  };
}
