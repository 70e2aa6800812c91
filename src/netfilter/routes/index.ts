// Parsers for `ip route` / `ip -6 route` (also `ip route show table all`) and `ip addr` / `ip -o addr`.
// The node's addresses are what `-m addrtype LOCAL` and `fib daddr type local` mean; its routes say
// where a packet goes after DNAT.
import type { Finding } from '../../model/finding.js';
import { cidrContains, cidrContainsIP, parseCIDR, parseIP } from '../../model/ip.js';

export interface Route {
  /** unicast, local, broadcast, blackhole, unreachable, prohibit, throw, anycast, multicast */
  type: string;
  /** CIDR; `default` becomes 0.0.0.0/0 or ::/0. */
  destination: string;
  via?: string;
  dev?: string;
  proto?: string;
  scope?: string;
  src?: string;
  metric?: number;
  table?: string;
  raw: string;
  line: number;
}

export interface InterfaceAddress {
  family: 'inet' | 'inet6';
  address: string;
  prefix: number;
  scope?: string;
  line: number;
}

export interface NetInterface {
  index: number;
  name: string;
  flags: string[];
  state?: string;
  mtu?: number;
  addresses: InterfaceAddress[];
  line: number;
}

const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'anycast', 'multicast', 'nat']);
const MAX_LINE = 10_000;

function lineProblem(findings: Finding[], code: string, line: number, message: string): void {
  findings.push({ code, severity: 'warning', message: `line ${line}: ${message}`, line });
}

export function parseIpRoute(text: string): { routes: Route[]; findings: Finding[] } {
  const routes: Route[] = [];
  const findings: Finding[] = [];
  text.split('\n').forEach((rawLine, i) => {
    const lineNo = i + 1;
    if (rawLine.length > MAX_LINE) return lineProblem(findings, 'route-line-not-understood', lineNo, `line is ${rawLine.length} characters long`);
    const line = rawLine.trim();
    if (!line) return;
    // Multipath next hops (`nexthop via … dev … weight 1`) continue the route above.
    if (line.startsWith('nexthop ')) return;
    const w = line.split(/\s+/);
    let at = 0;
    let type = 'unicast';
    if (ROUTE_TYPES.has(w[0]!)) {
      type = w[0]!;
      at = 1;
    }
    const dest = w[at];
    if (dest === undefined) return lineProblem(findings, 'route-line-not-understood', lineNo, `no destination: ${line}`);
    let destination = dest;
    if (dest === 'default') destination = line.includes(':') && !line.includes('.') ? '::/0' : '0.0.0.0/0';
    else if (!dest.includes('/')) {
      const ip = parseIP(dest);
      if (!ip) return lineProblem(findings, 'route-line-not-understood', lineNo, `"${dest}" is not a destination: ${line.slice(0, 120)}`);
      destination = `${dest}/${ip.family === 4 ? 32 : 128}`;
    } else if (!parseCIDR(dest)) return lineProblem(findings, 'route-line-not-understood', lineNo, `"${dest}" is not a destination: ${line.slice(0, 120)}`);
    const route: Route = { type, destination, raw: line, line: lineNo };
    for (let k = at + 1; k < w.length; k++) {
      const key = w[k]!;
      const value = w[k + 1];
      if (value === undefined) break;
      if (key === 'via') route.via = value.startsWith('inet6') || value === 'inet' ? (w[++k + 1] ?? value) : value;
      else if (key === 'dev') route.dev = value;
      else if (key === 'proto') route.proto = value;
      else if (key === 'scope') route.scope = value;
      else if (key === 'src') route.src = value;
      else if (key === 'metric') route.metric = Number(value);
      else if (key === 'table') route.table = value;
      else continue;
      k++;
    }
    routes.push(route);
  });
  return { routes, findings };
}

/** The route the kernel would pick for `ip` in one table: longest prefix, then lowest metric. */
export function lookupRoute(routes: readonly Route[], ip: string): Route | null {
  const addr = parseIP(ip);
  if (!addr) return null;
  let best: { route: Route; prefix: number } | null = null;
  for (const r of routes) {
    const c = parseCIDR(r.destination);
    if (!c || !cidrContainsIP(c, addr)) continue;
    if (!best || c.prefix > best.prefix || (c.prefix === best.prefix && (r.metric ?? 0) < (best.route.metric ?? 0))) best = { route: r, prefix: c.prefix };
  }
  return best?.route ?? null;
}

const HEAD = /^(\d+):\s+(\S+?)(?:@\S+)?:\s+(?:<([^>]*)>)?(.*)$/;
/** `ip -o addr`: "2: eth0    inet 172.18.0.3/16 brd … scope global eth0" (no colon after the name). */
const ONE_LINE = /^(\d+):\s+(\S+)\s+(inet6?\s.*)$/;

/** `ip addr` (multi-line blocks) or `ip -o addr` (one address per line, `\` for line breaks). */
export function parseIpAddr(text: string): { interfaces: NetInterface[]; findings: Finding[] } {
  const byName = new Map<string, NetInterface>();
  const findings: Finding[] = [];
  let current: NetInterface | null = null;
  text.split('\n').forEach((rawLine, i) => {
    const lineNo = i + 1;
    if (rawLine.length > MAX_LINE) return lineProblem(findings, 'addr-line-not-understood', lineNo, `line is ${rawLine.length} characters long`);
    const line = rawLine.replace(/\\\s.*$/, '').trimEnd();
    if (!line.trim()) return;
    const oneLine = /^\d+:/.test(line) ? ONE_LINE.exec(line) : null;
    if (oneLine) {
      const name = oneLine[2]!.replace(/@.*$/, '');
      let iface = byName.get(name);
      if (!iface) {
        iface = { index: Number(oneLine[1]), name, flags: [], addresses: [], line: lineNo };
        byName.set(name, iface);
      }
      current = iface;
      addAddress(iface, oneLine[3]!.trim().split(/\s+/), lineNo, findings);
      return;
    }
    const head = /^\d+:/.test(line) ? HEAD.exec(line) : null;
    if (head) {
      const name = head[2]!;
      const rest = head[4] ?? '';
      const existing = byName.get(name);
      current = existing ?? { index: Number(head[1]), name, flags: head[3] ? head[3].split(',') : [], addresses: [], line: lineNo };
      if (!existing) byName.set(name, current);
      const w = rest.trim().split(/\s+/);
      const mtuAt = w.indexOf('mtu');
      if (mtuAt >= 0) current.mtu = Number(w[mtuAt + 1]);
      const stateAt = w.indexOf('state');
      if (stateAt >= 0 && w[stateAt + 1]) current.state = w[stateAt + 1];
      return;
    }
    const w = line.trim().split(/\s+/);
    if (w[0] === 'inet' || w[0] === 'inet6') {
      if (!current) return lineProblem(findings, 'addr-line-not-understood', lineNo, `address before any interface: ${line.trim()}`);
      addAddress(current, w, lineNo, findings);
      return;
    }
    if (w[0]?.startsWith('link/') || w[0] === 'valid_lft' || w[0] === 'altname') return;
    lineProblem(findings, 'addr-line-not-understood', lineNo, `not \`ip addr\` output: ${line.trim().slice(0, 120)}`);
  });
  return { interfaces: [...byName.values()], findings };
}

function addAddress(iface: NetInterface, w: string[], line: number, findings: Finding[]): void {
  const cidr = w[1] ?? '';
  const slash = cidr.indexOf('/');
  const address = slash >= 0 ? cidr.slice(0, slash) : cidr;
  if (!parseIP(address)) return lineProblem(findings, 'addr-line-not-understood', line, `"${cidr}" is not an address`);
  const a: InterfaceAddress = { family: w[0] === 'inet6' ? 'inet6' : 'inet', address, prefix: slash >= 0 ? Number(cidr.slice(slash + 1)) : w[0] === 'inet6' ? 128 : 32, line };
  const scopeAt = w.indexOf('scope');
  if (scopeAt >= 0 && w[scopeAt + 1]) a.scope = w[scopeAt + 1];
  iface.addresses.push(a);
}

/** Every address of the node: what the kernel treats as LOCAL. */
export function localAddresses(interfaces: readonly NetInterface[]): string[] {
  return interfaces.flatMap((i) => i.addresses.map((a) => a.address));
}

export interface RouteLookup {
  ip: string;
  route: Route | null;
  isLocal: boolean;
}

export interface RoutesView {
  routes?: Route[];
  interfaces?: NetInterface[];
  /** With targets: the route the node would use for each address. */
  lookups?: RouteLookup[];
}

/**
 * What `knet node routes` shows from a node's `ip route` and `ip addr` (either may be missing): with a
 * filter, the routes covering the targets; and for each target, how the node would reach it.
 */
export function viewRoutes(
  route: { routes: Route[] } | null,
  addr: { interfaces: NetInterface[] } | null,
  targets: readonly string[],
  isFiltered: boolean,
): RoutesView {
  const view: RoutesView = {};
  const local = addr ? localAddresses(addr.interfaces) : [];
  // The main table decides forwarding; `local`/`broadcast` routes of the local table are about the node's own addresses.
  const main = (route?.routes ?? []).filter((rt) => rt.type !== 'local' && rt.type !== 'broadcast' && (rt.table === undefined || rt.table === 'main'));
  if (route) view.routes = isFiltered ? route.routes.filter((rt) => targets.some((ip) => cidrContains(rt.destination, ip))) : route.routes;
  if (addr) view.interfaces = addr.interfaces;
  if (targets.length) view.lookups = targets.map((ip) => ({ ip, route: lookupRoute(main, ip), isLocal: local.includes(ip) }));
  return view;
}

/** A node's routes and addresses, for the interfaces a packet crosses. */
export interface NodeRouting {
  routes: readonly Route[];
  interfaces: readonly NetInterface[];
}

export interface InterfaceChoice {
  name: string;
  /** How it was chosen, in words, for the trace's assumptions. */
  reason: string;
}

function mainRoutes(routing: NodeRouting): Route[] {
  return routing.routes.filter((rt) => rt.type !== 'local' && rt.type !== 'broadcast' && (rt.table === undefined || rt.table === 'main'));
}

function isNodeAddress(routing: NodeRouting, ip: string): boolean {
  const addr = parseIP(ip);
  if (!addr) return false;
  if (addr.family === 4 && (addr.value >> 24n) === 127n) return true;
  return routing.interfaces.some((i) => i.addresses.some((a) => parseIP(a.address)?.value === addr.value && parseIP(a.address)?.family === addr.family));
}

/**
 * The interface the node sends a packet to `ip` out of: `lo` for its own addresses, else the device of
 * the main table's route (longest prefix, lowest metric). null when no route covers it.
 */
export function outputInterfaceOf(routing: NodeRouting, ip: string): InterfaceChoice | null {
  if (isNodeAddress(routing, ip)) return { name: 'lo', reason: `${ip} is the node's own address` };
  const route = lookupRoute(mainRoutes(routing), ip);
  if (!route?.dev) return null;
  return { name: route.dev, reason: `the node's route to ${ip}: ${route.raw}` };
}

/**
 * The interface a packet from `ip` arrives on, as the kernel's reverse-path view has it: the device of
 * the node's route back to the source (`lo` for the node's own addresses).
 */
export function inputInterfaceOf(routing: NodeRouting, ip: string): InterfaceChoice | null {
  const out = outputInterfaceOf(routing, ip);
  return out && { name: out.name, reason: out.name === 'lo' ? `${ip} is the node's own address` : `the node's route back to the source ${ip}: ${out.reason.slice(out.reason.indexOf(': ') + 2)}` };
}
