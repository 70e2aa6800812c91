// Walks one packet through an iptables dump the way the kernel's netfilter hooks do, following every
// probabilistic branch (`-m statistic`) as an outcome of its own with its exact probability.
//
// Hook order (net/ipv4/netfilter, priorities): PREROUTING raw → mangle → nat (DNAT) → routing decision
// (a local destination goes to INPUT: mangle → filter → security → nat; otherwise FORWARD: mangle → filter →
// security, then POSTROUTING mangle → nat). A packet made by the node takes OUTPUT raw → mangle → nat →
// filter → security, then POSTROUTING, then INPUT when it is addressed to the node itself.
// nat chains only see the first packet of a connection, so they are skipped for any state but NEW.
import type { Finding } from '../../model/finding.js';
import { cidrContainsIP, formatIP, parseCIDR, parseIP, type ParsedCIDR, type ParsedIP } from '../../model/ip.js';
import { overallVerdict, type ConnState, type Outcome, type Packet, type PathStep, type SimulateOptions, type TraceResult } from '../types.js';
import { inputInterfaceOf, outputInterfaceOf } from '../routes/index.js';
import { BUILTIN_TARGETS, chainIndexOf, type IptablesChain, type IptablesDump, type IptablesRule, type RuleMatch, type RuleOption } from './parse.js';

export const DEFAULT_MAX_STEPS = 1_000_000;
/** More outcomes than this means a hostile or pathological dump; the rest is reported as unknown. */
export const MAX_OUTCOMES = 4096;

/** kube-proxy's masquerade bit (KUBE-MARK-MASQ: `--or-mark 0x4000`). */
export const MASQ_MARK = 0x4000;

interface SimPacket {
  src: ParsedIP;
  dst: ParsedIP;
  protocol: Packet['protocol'];
  sport: number | undefined;
  dport: number | undefined;
  mark: number;
  ctmark: number;
  ctState: ConnState;
  isDnat: boolean;
  isSnat: boolean;
  inInterface: string | undefined;
  outInterface: string | undefined;
}

interface Frame {
  chain: IptablesChain;
  table: string;
  index: number;
  isBase: boolean;
  /** Entered by `-g`: when it returns, its caller returns too. */
  isGoto: boolean;
}

interface Thread {
  probability: number;
  pkt: SimPacket;
  path: PathStep[];
  dnat: string | null;
  masquerade: boolean;
  stages: string[];
  stageIndex: number;
  stack: Frame[];
  steps: number;
}

type MatchResult = boolean | { probability: number } | { unknown: string };
type Matcher = (p: SimPacket, ctx: Context) => MatchResult;

interface Context {
  dump: IptablesDump;
  localIPs: ParsedIP[];
  options: SimulateOptions;
  assumptions: Set<string>;
}

const LOOPBACK4 = parseCIDR('127.0.0.0/8')!;
const LOOPBACK6 = parseCIDR('::1/128')!;

function isLocal(ip: ParsedIP, ctx: Context): boolean {
  if (cidrContainsIP(LOOPBACK4, ip) || cidrContainsIP(LOOPBACK6, ip)) return true;
  return ctx.localIPs.some((l) => l.family === ip.family && l.value === ip.value);
}

function formatEndpoint(ip: ParsedIP, port: number | undefined): string {
  const text = formatIP(ip);
  if (port === undefined) return text;
  return ip.family === 6 ? `[${text}]:${port}` : `${text}:${port}`;
}

const PROTOCOL_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp', '1': 'icmp', '58': 'icmp', ipv6_icmp: 'icmp', 'ipv6-icmp': 'icmp', icmpv6: 'icmp' };

function protocolName(text: string): string {
  const t = text.toLowerCase();
  return PROTOCOL_NUMBERS[t] ?? t;
}

/** "10.0.0.0/8", "1.2.3.4", "10.0.0.0/255.0.0.0", and comma lists (iptables-restore expands them into rules). */
function parseAddressList(text: string): ParsedCIDR[] | null {
  const out: ParsedCIDR[] = [];
  for (const part of text.split(',')) {
    const slash = part.indexOf('/');
    let cidr: ParsedCIDR | null;
    if (slash >= 0 && part.slice(slash + 1).includes('.')) {
      const mask = parseIP(part.slice(slash + 1));
      if (mask === null || mask.family !== 4) return null;
      const bitsSet = mask.value.toString(2).replace(/0+$/, '');
      if (bitsSet.includes('0')) return null;
      cidr = parseCIDR(`${part.slice(0, slash)}/${mask.value === 0n ? 0 : bitsSet.length}`);
    } else {
      cidr = parseCIDR(part);
    }
    if (cidr === null) return null;
    out.push(cidr);
  }
  return out;
}

interface PortRange {
  from: number;
  to: number;
}

function parsePortRange(text: string): PortRange | null {
  const sep = text.includes(':') ? ':' : text.includes('-') ? '-' : null;
  if (sep === null) {
    const n = Number(text);
    return /^\d+$/.test(text) && n <= 65535 ? { from: n, to: n } : null;
  }
  const [a = '', b = ''] = text.split(sep);
  const from = a === '' ? 0 : Number(a);
  const to = b === '' ? 65535 : Number(b);
  if ((a !== '' && !/^\d+$/.test(a)) || (b !== '' && !/^\d+$/.test(b)) || from > to || to > 65535) return null;
  return { from, to };
}

function inRanges(port: number | undefined, ranges: PortRange[]): boolean {
  return port !== undefined && ranges.some((r) => port >= r.from && port <= r.to);
}

/** "0x4000/0x4000" or "0x4000" (mask all ones). */
function parseMarkMask(text: string): { value: number; mask: number } | null {
  const [v, m] = text.split('/');
  const value = Number(v);
  const mask = m === undefined ? 0xffffffff : Number(m);
  if (!Number.isFinite(value) || !Number.isFinite(mask) || v === '' || m === '') return null;
  return { value: value >>> 0, mask: mask >>> 0 };
}

function negate(result: MatchResult, isNegated: boolean): MatchResult {
  if (!isNegated) return result;
  if (typeof result === 'boolean') return !result;
  if ('probability' in result) return { probability: 1 - result.probability };
  return result;
}

function unknownMatcher(reason: string): Matcher {
  return () => ({ unknown: reason });
}

function interfaceMatcher(kind: 'in-interface' | 'out-interface', name: string, isNegated: boolean): Matcher {
  const isWildcard = name.endsWith('+');
  const stem = isWildcard ? name.slice(0, -1) : name;
  return (p, ctx) => {
    const iface = kind === 'in-interface' ? p.inInterface : p.outInterface;
    if (iface === undefined) {
      ctx.assumptions.add(`the packet's ${kind === 'in-interface' ? 'input' : 'output'} interface is unknown: rules testing ${kind === 'in-interface' ? '-i' : '-o'} were taken as not matching it`);
      return isNegated;
    }
    const hit = isWildcard ? iface.startsWith(stem) : iface === name;
    return hit !== isNegated;
  };
}

const CT_STATES = new Set(['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED', 'SNAT', 'DNAT']);

function ctStateMatcher(option: RuleOption, withNatStates: boolean): Matcher {
  const wanted = (option.values[0] ?? '').split(',').map((s) => s.toUpperCase());
  if (wanted.some((s) => !CT_STATES.has(s))) return unknownMatcher(`conntrack state "${option.values[0] ?? ''}"`);
  return (p) => {
    const hit = wanted.some((s) => s === p.ctState || (withNatStates && ((s === 'DNAT' && p.isDnat) || (s === 'SNAT' && p.isSnat))));
    return hit !== option.isNegated;
  };
}

const ADDR_TYPES = new Set(['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE']);
const MULTICAST4 = parseCIDR('224.0.0.0/4')!;
const MULTICAST6 = parseCIDR('ff00::/8')!;

function addressType(ip: ParsedIP, ctx: Context): string {
  if (isLocal(ip, ctx)) return 'LOCAL';
  if (cidrContainsIP(MULTICAST4, ip) || cidrContainsIP(MULTICAST6, ip)) return 'MULTICAST';
  if (ip.family === 4 && ip.value === 0xffffffffn) return 'BROADCAST';
  return 'UNICAST';
}

/** Compiles one module match (`-m NAME --opts`) into a matcher. */
function compileModule(module: string, options: RuleOption[]): Matcher[] {
  const out: Matcher[] = [];
  const unknownOption = (o: RuleOption): Matcher => unknownMatcher(`-m ${module} --${o.name}`);
  switch (module) {
    case 'comment':
    case 'limit':
    case 'nfacct':
    case 'hashlimit':
      // comment: no effect; limit/hashlimit: the first packet is within any limit; nfacct only counts.
      return out;
    case 'tcp':
    case 'udp':
    case 'sctp':
    case 'udplite': {
      out.push((p) => p.protocol === module);
      for (const o of options) {
        if (o.name === 'dport' || o.name === 'destination-port' || o.name === 'sport' || o.name === 'source-port') {
          const range = parsePortRange(o.values[0] ?? '');
          if (range === null) {
            out.push(unknownMatcher(`port "${o.values[0] ?? ''}"`));
            continue;
          }
          const isDst = o.name === 'dport' || o.name === 'destination-port';
          out.push((p) => inRanges(isDst ? p.dport : p.sport, [range]) !== o.isNegated);
        } else if (o.name === 'syn' && module === 'tcp') {
          // A NEW TCP connection's first packet is a SYN.
          out.push((p) => (p.ctState === 'NEW') !== o.isNegated);
        } else if (o.name === 'tcp-flags' && module === 'tcp') {
          const mask = (o.values[0] ?? '').split(',');
          const set = (o.values[1] ?? '').split(',');
          out.push((p) => {
            const flags = p.ctState === 'NEW' ? ['SYN'] : ['ACK'];
            const expand = (list: string[]): string[] => (list.includes('ALL') ? ['SYN', 'ACK', 'FIN', 'RST', 'URG', 'PSH'] : list.includes('NONE') ? [] : list);
            const hit = expand(mask).every((f) => expand(set).includes(f) === flags.includes(f));
            return hit !== o.isNegated;
          });
        } else out.push(unknownOption(o));
      }
      return out;
    }
    case 'multiport':
      for (const o of options) {
        const ranges = (o.values[0] ?? '').split(',').map(parsePortRange);
        if (ranges.some((r) => r === null)) {
          out.push(unknownMatcher(`multiport ports "${o.values[0] ?? ''}"`));
          continue;
        }
        const rs = ranges as PortRange[];
        if (o.name === 'dports' || o.name === 'destination-ports') out.push((p) => inRanges(p.dport, rs) !== o.isNegated);
        else if (o.name === 'sports' || o.name === 'source-ports') out.push((p) => inRanges(p.sport, rs) !== o.isNegated);
        else if (o.name === 'ports' || o.name === 'port') out.push((p) => (inRanges(p.dport, rs) || inRanges(p.sport, rs)) !== o.isNegated);
        else out.push(unknownOption(o));
      }
      return out;
    case 'addrtype':
      for (const o of options) {
        if (o.name === 'limit-iface-in' || o.name === 'limit-iface-out') continue;
        if (o.name !== 'src-type' && o.name !== 'dst-type') {
          out.push(unknownOption(o));
          continue;
        }
        const types = (o.values[0] ?? '').split(',').map((t) => t.toUpperCase());
        if (types.some((t) => !ADDR_TYPES.has(t))) {
          out.push(unknownMatcher(`address type "${o.values[0] ?? ''}"`));
          continue;
        }
        const isSrc = o.name === 'src-type';
        out.push((p, ctx) => types.includes(addressType(isSrc ? p.src : p.dst, ctx)) !== o.isNegated);
      }
      return out;
    case 'statistic': {
      const mode = options.find((o) => o.name === 'mode')?.values[0];
      if (mode === 'random') {
        const o = options.find((x) => x.name === 'probability');
        const probability = Number(o?.values[0]);
        if (o === undefined || !Number.isFinite(probability) || probability < 0 || probability > 1) return [unknownMatcher('statistic without a valid --probability')];
        out.push(() => negate({ probability }, o.isNegated));
        return out;
      }
      if (mode === 'nth') {
        const every = Number(options.find((x) => x.name === 'every')?.values[0]);
        const packet = Number(options.find((x) => x.name === 'packet')?.values[0] ?? 0);
        if (!Number.isInteger(every) || every < 1 || !Number.isInteger(packet) || packet >= every) return [unknownMatcher('statistic --mode nth without a valid --every/--packet')];
        // The nth counter is shared by all connections; a connection meets packet P of every N with probability 1/N.
        const isNegated = options.some((x) => x.isNegated);
        out.push(() => negate({ probability: 1 / every }, isNegated));
        return out;
      }
      return [unknownMatcher(`statistic mode "${mode ?? ''}"`)];
    }
    case 'recent': {
      const isCheck = options.find((o) => o.name === 'rcheck' || o.name === 'update' || o.name === 'remove');
      if (isCheck) {
        // Session affinity (kube-proxy's ClientIP): whether this client was seen before is not in the dump.
        // kube-proxy names each recent list after the endpoint chain, whose DNAT says which endpoint it is.
        const list = options.find((o) => o.name === 'name')?.values[0] ?? 'DEFAULT';
        out.push((_p, ctx) => {
          const affinity = ctx.options.affinity ?? [];
          if (affinity.length === 0) {
            ctx.assumptions.add('no existing session affinity: `-m recent --rcheck` rules were taken as not matching (a new client)');
            return isCheck.isNegated;
          }
          const endpoint = dnatOfChain(ctx.dump, list);
          ctx.assumptions.add(`the client already has session affinity to ${affinity.join(', ')}`);
          return (endpoint !== null && affinity.includes(endpoint)) !== isCheck.isNegated;
        });
        return out;
      }
      // `--set` records the source and always matches.
      return out;
    }
    case 'mark':
    case 'connmark':
      for (const o of options) {
        const mm = o.name === 'mark' ? parseMarkMask(o.values[0] ?? '') : null;
        if (mm === null) {
          out.push(unknownOption(o));
          continue;
        }
        const isConn = module === 'connmark';
        out.push((p) => (((isConn ? p.ctmark : p.mark) & mm.mask) >>> 0 === mm.value) !== o.isNegated);
      }
      return out;
    case 'conntrack':
      for (const o of options) {
        if (o.name === 'ctstate') out.push(ctStateMatcher(o, true));
        else out.push(unknownOption(o));
      }
      return out;
    case 'state':
      for (const o of options) {
        if (o.name === 'state') out.push(ctStateMatcher(o, false));
        else out.push(unknownOption(o));
      }
      return out;
    case 'physdev':
      for (const o of options) {
        if (o.name.startsWith('physdev')) {
          // Only bridged packets have a physical device; knet models a routed packet.
          out.push((_p, ctx) => {
            ctx.assumptions.add('the packet did not cross a bridge: `-m physdev` rules were taken as not matching it');
            return o.isNegated;
          });
        } else out.push(unknownOption(o));
      }
      return out;
    case 'set':
      for (const o of options) {
        if (o.name === 'match-set') {
          const name = o.values[0] ?? '';
          const flags = (o.values[1] ?? '').split(',');
          out.push((p, ctx) => {
            const lookup = ctx.options.ipsets;
            if (lookup === undefined) return { unknown: `-m set --match-set ${name}: no ipset data given` };
            const hit = lookup(name, toPacket(p), flags);
            if (hit === undefined) return { unknown: `-m set --match-set ${name}: no such ipset in the data given` };
            return hit !== o.isNegated;
          });
        } else if (o.name === 'return-nomatch' || o.name.endsWith('counters')) continue;
        else out.push(unknownOption(o));
      }
      return out;
    default:
      return [unknownMatcher(`-m ${module}`)];
  }
}

/** The "IP:PORT" a (kube-proxy endpoint) chain DNATs to, as written in the dump. */
function dnatOfChain(dump: IptablesDump, chain: string): string | null {
  for (const rule of chainIndexOf(dump).get('nat')?.get(chain)?.rules ?? []) {
    if (rule.target?.name === 'DNAT') return rule.target.options.find((o) => o.name === 'to-destination')?.values[0] ?? null;
  }
  return null;
}

function toPacket(p: SimPacket): Packet {
  const packet: Packet = { src: formatIP(p.src), dst: formatIP(p.dst), protocol: p.protocol, hook: 'prerouting', mark: p.mark, ctState: p.ctState };
  if (p.sport !== undefined) packet.sport = p.sport;
  if (p.dport !== undefined) packet.dport = p.dport;
  return packet;
}

function compileMatch(m: RuleMatch): Matcher[] {
  switch (m.kind) {
    case 'source':
    case 'destination': {
      const cidrs = parseAddressList(m.address);
      if (cidrs === null) return [unknownMatcher(`address "${m.address}"`)];
      const isSrc = m.kind === 'source';
      if (cidrs.length === 1) {
        const c = cidrs[0]!;
        return [(p) => cidrContainsIP(c, isSrc ? p.src : p.dst) !== m.isNegated];
      }
      return [(p) => cidrs.some((c) => cidrContainsIP(c, isSrc ? p.src : p.dst)) !== m.isNegated];
    }
    case 'protocol': {
      const proto = protocolName(m.protocol);
      if (proto === 'all' || proto === '0') return [() => !m.isNegated];
      return [(p) => (p.protocol === proto) !== m.isNegated];
    }
    case 'in-interface':
    case 'out-interface':
      return [interfaceMatcher(m.kind, m.name, m.isNegated)];
    case 'fragment':
      // knet models the first fragment (or an unfragmented packet): `-f` matches only later fragments.
      return [() => m.isNegated];
    case 'module':
      return compileModule(m.module, m.options);
  }
}

const compiled = new WeakMap<IptablesRule, Matcher[]>();

function matchersOf(rule: IptablesRule): Matcher[] {
  let ms = compiled.get(rule);
  if (ms === undefined) {
    ms = rule.matches.flatMap(compileMatch);
    compiled.set(rule, ms);
  }
  return ms;
}

const destinations = new WeakMap<IptablesRule, ParsedCIDR | null>();

/**
 * The destination a rule requires (`-d ADDR`, not negated, one address), read from its text without
 * parsing the rule: kube-proxy's KUBE-SERVICES holds one rule per Service port, each with its own `-d`,
 * so a packet skips all but its own Service's rules unread (the dump's index by destination). null
 * when the text does not say simply (no `-d`, several, negated, a list, inside a comment).
 */
function quickDestination(rule: IptablesRule): ParsedCIDR | null {
  let d = destinations.get(rule);
  if (d !== undefined) return d;
  d = null;
  const raw = rule.raw;
  const at = raw.indexOf(' -d ');
  if (at >= 0 && raw.indexOf(' -d ', at + 4) < 0 && !raw.includes('\\') && !raw.includes('--destination') && !raw.includes('--dst ')) {
    let quotes = 0;
    for (let q = raw.indexOf('"'); q >= 0 && q < at; q = raw.indexOf('"', q + 1)) quotes++;
    const isNegated = raw.charCodeAt(at - 1) === 33 /* ! */ && raw.charCodeAt(at - 2) === 32;
    if (quotes % 2 === 0 && !isNegated) {
      const end = raw.indexOf(' ', at + 4);
      const value = raw.slice(at + 4, end < 0 ? raw.length : end);
      if (value !== '!' && !value.includes(',')) {
        const list = parseAddressList(value);
        if (list !== null && list.length === 1) d = list[0]!;
      }
    }
  }
  destinations.set(rule, d);
  return d;
}

/** Evaluates all matches of a rule: they are ANDed, so probabilities multiply. */
function evaluateRule(rule: IptablesRule, p: SimPacket, ctx: Context): MatchResult {
  let probability = 1;
  for (const m of matchersOf(rule)) {
    const r = m(p, ctx);
    if (r === true) continue;
    if (r === false) return false;
    if ('unknown' in r) return r;
    probability *= r.probability;
    if (probability === 0) return false;
  }
  return probability === 1 ? true : { probability };
}

/** kube-proxy's own jumps from the built-in chains, for payload-only dumps (the `iptables-restore` input) that lack them. */
const KUBE_ENTRY_JUMPS: Record<string, Record<string, string[]>> = {
  nat: { PREROUTING: ['KUBE-SERVICES'], OUTPUT: ['KUBE-SERVICES'], POSTROUTING: ['KUBE-POSTROUTING'] },
  filter: {
    INPUT: ['KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL'],
    FORWARD: ['KUBE-PROXY-FIREWALL', 'KUBE-FORWARD', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES'],
    OUTPUT: ['KUBE-PROXY-FIREWALL', 'KUBE-SERVICES', 'KUBE-FIREWALL'],
  },
};

const synthesized = new WeakMap<IptablesDump, Map<string, IptablesChain | null>>();

/** The built-in chain, or kube-proxy's standard jumps into its chains when the dump holds only kube-proxy's payload. */
function entryChain(dump: IptablesDump, table: string, chain: string, ctx: Context): IptablesChain | undefined {
  const chains = chainIndexOf(dump).get(table);
  if (chains === undefined) return undefined;
  const found = chains.get(chain);
  if (found !== undefined) return found;
  let cache = synthesized.get(dump);
  if (cache === undefined) {
    cache = new Map();
    synthesized.set(dump, cache);
  }
  const key = `${table}/${chain}`;
  let made = cache.get(key);
  if (made === undefined) {
    const targets = (KUBE_ENTRY_JUMPS[table]?.[chain] ?? []).filter((t) => chains.has(t));
    made =
      targets.length === 0
        ? null
        : {
            name: chain,
            isBuiltin: true,
            policy: 'ACCEPT',
            line: 0,
            rules: targets.map((t) => ({
              table,
              chain,
              line: 0,
              raw: `-A ${chain} -j ${t}`,
              matches: [],
              target: { kind: 'jump' as const, name: t, options: [] },
              comment: "assumed: kube-proxy's standard jump (the dump has no built-in chain)",
            })),
          };
    cache.set(key, made);
  }
  if (made === null) return undefined;
  ctx.assumptions.add(`the dump has no ${table} ${chain} chain (kube-proxy's restore input): assumed kube-proxy's standard jumps from it`);
  return made;
}

const PREROUTING_STAGES = ['raw:PREROUTING', 'mangle:PREROUTING', 'nat:PREROUTING', '@route'];
const OUTPUT_STAGES = ['raw:OUTPUT', 'mangle:OUTPUT', 'nat:OUTPUT', 'filter:OUTPUT', 'security:OUTPUT', '@route-output'];
const INPUT_STAGES = ['mangle:INPUT', 'filter:INPUT', 'security:INPUT', 'nat:INPUT'];
const FORWARD_STAGES = ['mangle:FORWARD', 'filter:FORWARD', 'security:FORWARD', 'mangle:POSTROUTING', 'nat:POSTROUTING'];
const POSTROUTING_STAGES = ['mangle:POSTROUTING', 'nat:POSTROUTING'];

/** Thrown for a packet the simulator cannot start with (a bad address); commands turn it into an input error. */
export class SimulateInputError extends Error {}

function parseMark(text: string): { value: number; mask: number } | null {
  return parseMarkMask(text);
}

/**
 * Simulates `packet` through `dump`. Returns every outcome (with its probability and the rules it
 * crossed), the overall verdict, and what was assumed along the way.
 */
export function simulateIptables(dump: IptablesDump, packet: Packet, options: SimulateOptions): TraceResult {
  const src = parseIP(packet.src);
  const dst = parseIP(packet.dst);
  if (src === null) throw new SimulateInputError(`source "${packet.src}" is not an IP address`);
  if (dst === null) throw new SimulateInputError(`destination "${packet.dst}" is not an IP address`);
  if (src.family !== dst.family) throw new SimulateInputError(`source ${packet.src} and destination ${packet.dst} are of different IP families`);
  const localIPs = options.localIPs.map((ip) => parseIP(ip)).filter((ip): ip is ParsedIP => ip !== null);
  const ctx: Context = { dump, localIPs, options, assumptions: new Set() };
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const findings: Finding[] = [];
  const outcomes: Outcome[] = [];
  const ctState = packet.ctState ?? 'NEW';

  const assumptions: string[] = [];
  if (packet.ctState === undefined) assumptions.push('connection state NEW: the first packet of a new connection (conntrack has no entry for it yet)');
  else assumptions.push(`connection state ${ctState}`);
  assumptions.push(`local addresses (for -m addrtype LOCAL and the routing decision): ${[...options.localIPs, '127.0.0.0/8', '::1'].join(', ')}`);
  if (dump.family !== null && dump.family !== src.family) {
    findings.push({ code: 'iptables-family-mismatch', severity: 'warning', message: `the packet is IPv${src.family} but the dump's addresses are IPv${dump.family}: use the ${src.family === 6 ? 'ip6tables-save' : 'iptables-save'} dump` });
  }

  const routing = options.routing;
  let inInterface = packet.inInterface;
  if (inInterface === undefined && routing !== undefined && packet.hook === 'prerouting') {
    const choice = inputInterfaceOf(routing, packet.src);
    if (choice !== null) {
      inInterface = choice.name;
      assumptions.push(`input interface ${choice.name}: ${choice.reason}`);
    }
  }
  /** The routing decision on the packet's destination now (after DNAT), unless the output interface was given. */
  const reroute = (p: SimPacket, isToNode: boolean): void => {
    if (packet.outInterface !== undefined || routing === undefined) return;
    if (isToNode && packet.hook === 'prerouting') {
      p.outInterface = undefined; // delivered to the node: no output interface
      return;
    }
    const choice = outputInterfaceOf(routing, formatIP(p.dst));
    p.outInterface = choice?.name;
    if (choice !== null) ctx.assumptions.add(`output interface ${choice.name}: ${choice.reason}`);
  };

  const first: Thread = {
    probability: 1,
    pkt: {
      src,
      dst,
      protocol: packet.protocol,
      sport: packet.sport,
      dport: packet.dport,
      mark: (packet.mark ?? 0) >>> 0,
      ctmark: 0,
      ctState,
      isDnat: false,
      isSnat: false,
      inInterface,
      outInterface: packet.outInterface,
    },
    path: [],
    dnat: null,
    masquerade: false,
    stages: packet.hook === 'output' ? [...OUTPUT_STAGES] : [...PREROUTING_STAGES],
    stageIndex: 0,
    stack: [],
    steps: 0,
  };
  if (packet.hook === 'output') reroute(first.pkt, false);
  const work: Thread[] = [first];
  let threads = 1;
  let isTruncated = false;

  const finish = (t: Thread, verdict: Outcome['verdict'], extra: Partial<Outcome> = {}): void => {
    const o: Outcome = { probability: t.probability, verdict, dnat: t.dnat, masquerade: t.masquerade, path: t.path, ...extra };
    if (t.pkt.mark !== ((packet.mark ?? 0) >>> 0)) o.mark = t.pkt.mark;
    outcomes.push(o);
  };

  const step = (t: Thread, frame: Frame, rule: IptablesRule, effect?: string): void => {
    const s: PathStep = { table: frame.table, chain: frame.chain.name, rule: rule.raw, line: rule.line };
    if (effect !== undefined) s.effect = effect;
    t.path.push(s);
  };

  /** One finding per rule knet cannot follow, however many outcomes reach it. */
  const reported = new Set<IptablesRule>();
  const notModelled = (frame: Frame, rule: IptablesRule, reason: string): void => {
    if (reported.has(rule)) return;
    reported.add(rule);
    findings.push({ code: 'iptables-not-modelled', severity: 'warning', message: `${frame.table} ${frame.chain.name} line ${rule.line}: ${reason}; the outcome through this rule is unknown`, line: rule.line, rule: rule.raw });
  };

  /** Leaves the current frame (fall-off or RETURN); a goto'd chain returns from its caller too. Returns the policy when a base chain ended. */
  const leave = (t: Thread): string | null => {
    for (;;) {
      const f = t.stack.pop();
      if (f === undefined) return null;
      if (f.isBase) return f.chain.policy ?? 'ACCEPT';
      if (!f.isGoto) return null;
    }
  };

  const endStageWithPolicy = (t: Thread, policy: string, chain: IptablesChain, table: string): boolean => {
    t.stack = [];
    if (policy === 'DROP') {
      t.path.push({ table, chain: chain.name, rule: `:${chain.name} DROP`, line: chain.line, effect: 'chain policy DROP' });
      finish(t, 'drop');
      return false;
    }
    return true;
  };

  const run = (t: Thread): void => {
    for (;;) {
      if (t.stack.length === 0) {
        if (t.stageIndex >= t.stages.length) {
          finish(t, 'accept');
          return;
        }
        const stage = t.stages[t.stageIndex++]!;
        if (stage === '@route' || stage === '@route-output') {
          // The routing decision, made on the destination after DNAT.
          const isToNode = isLocal(t.pkt.dst, ctx);
          if (stage === '@route') reroute(t.pkt, isToNode);
          if (stage === '@route') t.stages.push(...(isToNode ? INPUT_STAGES : FORWARD_STAGES));
          else t.stages.push(...POSTROUTING_STAGES, ...(isToNode ? INPUT_STAGES : []));
          continue;
        }
        const colon = stage.indexOf(':');
        const table = stage.slice(0, colon);
        const chainName = stage.slice(colon + 1);
        if (table === 'nat' && t.pkt.ctState !== 'NEW') continue;
        const chain = entryChain(dump, table, chainName, ctx);
        if (chain === undefined) continue;
        t.stack.push({ chain, table, index: 0, isBase: true, isGoto: false });
        continue;
      }
      const frame = t.stack[t.stack.length - 1]!;
      if (frame.index >= frame.chain.rules.length) {
        const base = t.stack[0]!;
        const policy = leave(t);
        if (policy !== null && !endStageWithPolicy(t, policy, base.chain, base.table)) return;
        continue;
      }
      const rule = frame.chain.rules[frame.index++]!;
      if (++t.steps > maxSteps) {
        findings.push({ code: 'iptables-max-steps', severity: 'error', message: `stopped after ${maxSteps} rules in one outcome (at ${frame.table} ${frame.chain.name}, line ${rule.line}): the dump loops or is too large`, line: rule.line });
        finish(t, 'unknown', { notModelled: { table: frame.table, chain: frame.chain.name, rule: rule.raw, line: rule.line, reason: `more than ${maxSteps} rules evaluated` } });
        return;
      }
      const dst = quickDestination(rule);
      if (dst !== null && !cidrContainsIP(dst, t.pkt.dst)) continue;
      let result = evaluateRule(rule, t.pkt, ctx);
      if (result === false) continue;
      if (typeof result === 'object' && 'unknown' in result) {
        finish(t, 'unknown', { notModelled: { table: frame.table, chain: frame.chain.name, rule: rule.raw, line: rule.line, reason: `match not modelled: ${result.unknown}` } });
        notModelled(frame, rule, `match not modelled: ${result.unknown}`);
        return;
      }
      let effect: string | undefined;
      if (typeof result === 'object') {
        const p = result.probability;
        if (threads >= MAX_OUTCOMES) {
          isTruncated = true;
          finish(t, 'unknown', { notModelled: { table: frame.table, chain: frame.chain.name, rule: rule.raw, line: rule.line, reason: `more than ${MAX_OUTCOMES} outcomes` } });
          return;
        }
        // The branch where this rule does not match goes on after it, with the remaining probability.
        threads++;
        work.push({
          ...t,
          probability: t.probability * (1 - p),
          pkt: { ...t.pkt },
          path: t.path.slice(),
          stages: t.stages.slice(),
          stack: t.stack.map((f) => ({ ...f })),
        });
        t.probability *= p;
        effect = `probability ${formatProbability(p)} taken`;
        result = true;
      }
      const target = rule.target;
      if (target === null) continue; // a rule without a target only counts packets
      const name = target.name;
      const chains = chainIndexOf(dump).get(frame.table);
      const callee = chains?.get(name);
      if (callee !== undefined && !BUILTIN_TARGETS.has(name)) {
        if (t.stack.some((f) => f.chain === callee)) {
          findings.push({ code: 'iptables-jump-loop', severity: 'error', message: `${frame.table} ${frame.chain.name} line ${rule.line} jumps back to ${name}, which is already being walked: the kernel refuses such a loop`, line: rule.line });
          step(t, frame, rule, `${target.kind} ${name} (loop)`);
          finish(t, 'unknown', { notModelled: { table: frame.table, chain: frame.chain.name, rule: rule.raw, line: rule.line, reason: `jump loop back into ${name}` } });
          return;
        }
        if (name === 'KUBE-MARK-MASQ') t.masquerade = true;
        step(t, frame, rule, effect === undefined ? `${target.kind} ${name}` : `${effect}, ${target.kind} ${name}`);
        t.stack.push({ chain: callee, table: frame.table, index: 0, isBase: false, isGoto: target.kind === 'goto' });
        continue;
      }
      const decided = applyTarget(t, rule, frame, effect);
      if (decided === 'continue') continue;
      if (decided === 'stage-done') {
        t.stack = [];
        continue;
      }
      if (decided === 'return') {
        const base = t.stack[0]!;
        const policy = leave(t);
        if (policy !== null && !endStageWithPolicy(t, policy, base.chain, base.table)) return;
        continue;
      }
      if (decided.verdict === 'unknown') {
        finish(t, 'unknown', { notModelled: { table: frame.table, chain: frame.chain.name, rule: rule.raw, line: rule.line, reason: decided.reason ?? 'not modelled' } });
        notModelled(frame, rule, decided.reason ?? 'not modelled');
        return;
      }
      finish(t, decided.verdict);
      return;
    }
  };

  const applyTarget = (t: Thread, rule: IptablesRule, frame: Frame, effect: string | undefined): 'continue' | 'stage-done' | 'return' | { verdict: Outcome['verdict']; reason?: string } => {
    const target = rule.target!;
    const name = target.name;
    const opt = (n: string): RuleOption | undefined => target.options.find((o) => o.name === n);
    const say = (what: string): void => step(t, frame, rule, effect === undefined ? what : `${effect}, ${what}`);
    const p = t.pkt;
    switch (name) {
      case 'ACCEPT':
        say('ACCEPT');
        return 'stage-done';
      case 'DROP':
        say('DROP');
        return { verdict: 'drop' };
      case 'REJECT':
        say(`REJECT${opt('reject-with') ? ` with ${opt('reject-with')!.values[0]}` : ''}`);
        return { verdict: 'reject' };
      case 'RETURN':
        say('RETURN');
        return 'return';
      case 'DNAT': {
        const to = opt('to-destination')?.values[0];
        const parsed = to === undefined ? null : parseNatTarget(to);
        if (parsed === null) {
          say('DNAT');
          return { verdict: 'unknown', reason: `DNAT target "${to ?? ''}" not understood` };
        }
        if (parsed.isRange) ctx.assumptions.add('DNAT to an address or port range: the first of the range was taken');
        if (parsed.ip.family !== p.dst.family) return { verdict: 'unknown', reason: 'DNAT to another IP family' };
        p.dst = parsed.ip;
        if (parsed.port !== undefined) p.dport = parsed.port;
        p.isDnat = true;
        t.dnat = formatEndpoint(p.dst, p.dport);
        // The node's own packet is routed again once nat OUTPUT changed its destination.
        if (packet.hook === 'output') reroute(p, false);
        say(`DNAT to ${t.dnat}`);
        return 'stage-done';
      }
      case 'SNAT': {
        const to = opt('to-source')?.values[0];
        const parsed = to === undefined ? null : parseNatTarget(to);
        if (parsed !== null && parsed.ip.family === p.src.family) {
          p.src = parsed.ip;
          if (parsed.port !== undefined) p.sport = parsed.port;
        }
        p.isSnat = true;
        t.masquerade = true;
        say(`SNAT to ${to ?? '?'}`);
        return 'stage-done';
      }
      case 'MASQUERADE':
        p.isSnat = true;
        t.masquerade = true;
        say('MASQUERADE (source becomes the outgoing interface address)');
        return 'stage-done';
      case 'REDIRECT': {
        const ports = opt('to-ports')?.values[0];
        const range = ports === undefined ? null : parsePortRange(ports);
        if (range !== null) p.dport = range.from;
        p.dst = p.dst.family === 4 ? parseIP('127.0.0.1')! : parseIP('::1')!;
        p.isDnat = true;
        t.dnat = formatEndpoint(p.dst, p.dport);
        say(`REDIRECT to the node, port ${p.dport ?? '?'}`);
        return 'stage-done';
      }
      case 'MARK': {
        const before = p.mark;
        for (const o of target.options) {
          const mm = parseMark(o.values[0] ?? '');
          if (mm === null) return { verdict: 'unknown', reason: `MARK --${o.name} ${o.values[0] ?? ''} not understood` };
          switch (o.name) {
            case 'set-xmark':
              p.mark = ((p.mark & ~mm.mask) ^ mm.value) >>> 0;
              break;
            case 'set-mark':
              p.mark = o.values[0]!.includes('/') ? ((p.mark & ~mm.mask) | mm.value) >>> 0 : mm.value;
              break;
            case 'or-mark':
              p.mark = (p.mark | mm.value) >>> 0;
              break;
            case 'xor-mark':
              p.mark = (p.mark ^ mm.value) >>> 0;
              break;
            case 'and-mark':
              p.mark = (p.mark & mm.value) >>> 0;
              break;
            default:
              return { verdict: 'unknown', reason: `MARK --${o.name} not modelled` };
          }
        }
        say(`mark 0x${before.toString(16)} → 0x${p.mark.toString(16)}`);
        return 'continue';
      }
      case 'CONNMARK': {
        for (const o of target.options) {
          const mm = o.values[0] === undefined ? { value: 0, mask: 0xffffffff } : parseMark(o.values[0]);
          if (mm === null) return { verdict: 'unknown', reason: `CONNMARK --${o.name} not understood` };
          if (o.name === 'set-xmark') p.ctmark = ((p.ctmark & ~mm.mask) ^ mm.value) >>> 0;
          else if (o.name === 'set-mark') p.ctmark = ((p.ctmark & ~mm.mask) | mm.value) >>> 0;
          else if (o.name === 'save-mark') p.ctmark = p.mark;
          else if (o.name === 'restore-mark') p.mark = p.ctmark;
          else if (o.name === 'nfmask' || o.name === 'ctmask' || o.name === 'mask') continue;
          else return { verdict: 'unknown', reason: `CONNMARK --${o.name} not modelled` };
        }
        say('CONNMARK');
        return 'continue';
      }
      case 'NOTRACK':
        p.ctState = 'UNTRACKED';
        say('NOTRACK (no connection tracking, so no NAT)');
        return 'continue';
      case 'CT':
        if (opt('notrack')) p.ctState = 'UNTRACKED';
        say('CT');
        return 'continue';
      case 'LOG':
      case 'NFLOG':
      case 'ULOG':
      case 'TRACE':
      case 'AUDIT':
      case 'TCPMSS':
      case 'CHECKSUM':
      case 'TOS':
      case 'DSCP':
      case 'CLASSIFY':
      case 'TTL':
      case 'HL':
      case 'SET':
        // Non-terminating targets that do not change where the packet goes.
        say(name);
        return 'continue';
      default:
        say(name);
        if (chainIndexOf(dump).get(frame.table)?.has(name) !== true && !BUILTIN_TARGETS.has(name)) {
          return { verdict: 'unknown', reason: `jump to "${name}", which is not a chain of table ${frame.table}` };
        }
        return { verdict: 'unknown', reason: `target ${name} not modelled` };
    }
  };

  while (work.length > 0) run(work.pop()!);
  if (isTruncated) findings.push({ code: 'iptables-too-many-outcomes', severity: 'warning', message: `more than ${MAX_OUTCOMES} outcomes: the rest is reported as unknown` });

  return {
    verdict: overallVerdict(outcomes),
    outcomes,
    format: 'iptables',
    packet,
    assumptions: [...assumptions, ...ctx.assumptions],
    findings,
  };
}

/** kube-proxy writes probabilities with 10 decimals; show them short. */
export function formatProbability(p: number): string {
  return String(Math.round(p * 1e6) / 1e6);
}

/** `ip[:port]`, `[v6]:port`, `ip1-ip2:p1-p2`. */
function parseNatTarget(text: string): { ip: ParsedIP; port: number | undefined; isRange: boolean } | null {
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest.startsWith(':')) portText = rest.slice(1);
    else if (rest !== '') return null;
  } else {
    const colons = text.split(':').length - 1;
    if (colons === 1) {
      const i = text.indexOf(':');
      host = text.slice(0, i);
      portText = text.slice(i + 1);
    }
  }
  let isRange = false;
  if (host.includes('-')) {
    host = host.slice(0, host.indexOf('-'));
    isRange = true;
  }
  const ip = parseIP(host);
  if (ip === null) return null;
  let port: number | undefined;
  if (portText !== undefined) {
    const range = parsePortRange(portText.replace('-', ':'));
    if (range === null) return null;
    if (range.from !== range.to) isRange = true;
    port = range.from;
  }
  return { ip, port, isRange };
}
