// Parses `ipvsadm -Ln` (the listing) and `ipvsadm -Sn` (the save/restore form) into virtual
// servers and their real servers. Both keep the raw line of every record.
import type { Finding } from '../../model/finding.js';

export type IpvsProtocol = 'TCP' | 'UDP' | 'SCTP' | 'FWM';
export type IpvsForward = 'Masq' | 'Route' | 'Tunnel' | 'Local';

export interface RealServer {
  address: string;
  port: number;
  forward: IpvsForward;
  weight: number;
  activeConn?: number;
  inActConn?: number;
  raw: string;
  line: number;
}

export interface VirtualServer {
  protocol: IpvsProtocol;
  /** Empty for firewall-mark services. */
  address: string;
  port: number;
  fwmark?: number;
  scheduler: string;
  /** Seconds of persistence (kube-proxy: ClientIP session affinity timeout). */
  persistent?: number;
  flags: string[];
  realServers: RealServer[];
  raw: string;
  line: number;
}

export interface IpvsTable {
  virtualServers: VirtualServer[];
  findings: Finding[];
}

export class IpvsParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'IpvsParseError';
  }
}

const FORWARD_WORDS: Record<string, IpvsForward> = { Masq: 'Masq', Route: 'Route', Tunnel: 'Tunnel', Local: 'Local', '-m': 'Masq', '-g': 'Route', '-i': 'Tunnel' };
const PROTO_FLAGS: Record<string, IpvsProtocol> = {
  '-t': 'TCP',
  '--tcp-service': 'TCP',
  '-u': 'UDP',
  '--udp-service': 'UDP',
  '--sctp-service': 'SCTP',
  '-f': 'FWM',
  '--fwmark-service': 'FWM',
};
const MAX_LINE = 10_000;

/** `10.96.0.10:53`, `[fd00::a]:53` → address and port; null when malformed. */
export function splitAddressPort(text: string): { address: string; port: number } | null {
  let address: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    if (close < 0) return null;
    address = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return null;
    address = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  const port = Number(portText);
  if (!address || !Number.isInteger(port) || port < 0 || port > 65535) return null;
  return { address, port };
}

export function parseIpvsadm(text: string, options: { mode: 'strict' | 'lenient' } = { mode: 'lenient' }): IpvsTable {
  const findings: Finding[] = [];
  const virtualServers: VirtualServer[] = [];
  const byKey = new Map<string, VirtualServer>();
  const problem = (line: number, message: string): void => {
    if (options.mode === 'strict') throw new IpvsParseError(message, line);
    findings.push({ code: 'ipvs-line-not-understood', severity: 'warning', message: `line ${line}: ${message}`, line });
  };
  let current: VirtualServer | null = null;
  text.split('\n').forEach((rawLine, i) => {
    const lineNo = i + 1;
    if (rawLine.length > MAX_LINE) return problem(lineNo, `line is ${rawLine.length} characters long`);
    const line = rawLine.trim();
    if (!line) return;
    const w = line.split(/\s+/);
    const first = w[0]!;
    // Listing headers.
    if (first === 'IP' || first === 'Prot' || (first === '->' && w[1] === 'RemoteAddress:Port')) return;
    if (first === '->') {
      if (!current) return problem(lineNo, `real server before any virtual server: ${line}`);
      const ap = splitAddressPort(w[1] ?? '');
      const forward = FORWARD_WORDS[w[2] ?? ''];
      const weight = Number(w[3]);
      if (!ap || !forward || !Number.isInteger(weight)) return problem(lineNo, `expected "-> ADDRESS:PORT FORWARD WEIGHT ACTIVE INACTIVE": ${line}`);
      const rs: RealServer = { ...ap, forward, weight, raw: line, line: lineNo };
      if (w[4] !== undefined) rs.activeConn = Number(w[4]);
      if (w[5] !== undefined) rs.inActConn = Number(w[5]);
      current.realServers.push(rs);
      return;
    }
    if (first === 'TCP' || first === 'UDP' || first === 'SCTP' || first === 'FWM') {
      const vs = virtualFromListing(w, line, lineNo);
      if (!vs) return problem(lineNo, `expected "PROTOCOL ADDRESS:PORT SCHEDULER [FLAGS]": ${line}`);
      current = vs;
      virtualServers.push(vs);
      byKey.set(keyOf(vs), vs);
      return;
    }
    if (first === '-A' || first === '--add-service' || first === '-a' || first === '--add-server') {
      const opts = saveOptions(w.slice(1));
      const proto = opts.protocol;
      const target = opts.service;
      if (!proto || target === undefined) return problem(lineNo, `expected -t/-u/--sctp-service/-f and a service: ${line}`);
      const ap = proto === 'FWM' ? { address: '', port: 0 } : splitAddressPort(target);
      if (!ap) return problem(lineNo, `"${target}" is not ADDRESS:PORT`);
      const key = `${proto}|${proto === 'FWM' ? target : `${ap.address}|${ap.port}`}`;
      if (first === '-A' || first === '--add-service') {
        const vs: VirtualServer = { protocol: proto, ...ap, scheduler: opts.scheduler ?? 'wlc', flags: [], realServers: [], raw: line, line: lineNo };
        if (proto === 'FWM') vs.fwmark = Number(target);
        if (opts.persistent !== undefined) vs.persistent = opts.persistent;
        virtualServers.push(vs);
        byKey.set(key, vs);
        return;
      }
      const vs = byKey.get(key);
      if (!vs) return problem(lineNo, `real server for ${proto} ${target}, which was not added before`);
      const rsAp = splitAddressPort(opts.real ?? '');
      if (!rsAp) return problem(lineNo, `expected -r ADDRESS:PORT: ${line}`);
      vs.realServers.push({ ...rsAp, forward: opts.forward ?? 'Route', weight: opts.weight ?? 1, raw: line, line: lineNo });
      return;
    }
    problem(lineNo, `not ipvsadm output: ${line.slice(0, 120)}`);
  });
  return { virtualServers, findings };
}

function keyOf(vs: VirtualServer): string {
  return vs.protocol === 'FWM' ? `FWM|${vs.fwmark ?? 0}` : `${vs.protocol}|${vs.address}|${vs.port}`;
}

function virtualFromListing(w: string[], raw: string, line: number): VirtualServer | null {
  const protocol = w[0] as IpvsProtocol;
  let address = '';
  let port = 0;
  let fwmark: number | undefined;
  if (protocol === 'FWM') {
    fwmark = Number(w[1]);
    if (!Number.isInteger(fwmark)) return null;
  } else {
    const ap = splitAddressPort(w[1] ?? '');
    if (!ap) return null;
    ({ address, port } = ap);
  }
  const scheduler = w[2];
  if (!scheduler) return null;
  const vs: VirtualServer = { protocol, address, port, scheduler, flags: w.slice(3), realServers: [], raw, line };
  if (fwmark !== undefined) vs.fwmark = fwmark;
  const p = w.indexOf('persistent');
  if (p >= 0) vs.persistent = Number(w[p + 1] ?? 300);
  return vs;
}

interface SaveOptions {
  protocol?: IpvsProtocol;
  service?: string;
  scheduler?: string;
  persistent?: number;
  real?: string;
  forward?: IpvsForward;
  weight?: number;
}

function saveOptions(w: string[]): SaveOptions {
  const o: SaveOptions = {};
  for (let i = 0; i < w.length; i++) {
    const a = w[i]!;
    if (PROTO_FLAGS[a]) {
      o.protocol = PROTO_FLAGS[a];
      o.service = w[++i];
    } else if (a === '-s' || a === '--scheduler') o.scheduler = w[++i];
    else if (a === '-p' || a === '--persistent') {
      const n = Number(w[i + 1]);
      if (Number.isInteger(n)) {
        o.persistent = n;
        i++;
      } else o.persistent = 300;
    } else if (a === '-r' || a === '--real-server') o.real = w[++i];
    else if (a === '-w' || a === '--weight') o.weight = Number(w[++i]);
    else if (FORWARD_WORDS[a]) o.forward = FORWARD_WORDS[a];
  }
  return o;
}
