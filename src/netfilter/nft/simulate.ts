// Walks a packet through an nftables ruleset as the kernel does: for each hook the packet passes
// (prerouting → routing decision → input or forward → postrouting; output → postrouting for the
// node's own traffic), every base chain of that hook in priority order, in every table of the
// packet's family (`ip`/`ip6` and `inet`). `accept` ends one base chain, not the hook; `drop` and
// `reject` end the packet; nat statements (dnat, masquerade, snat) are terminal and accept.
// `numgen random mod N vmap { … }` forks the walk: each branch is an outcome of probability 1/N.
import { canonicalIP, cidrContains, ipFamily, parseIP } from '../../model/ip.js';
import type { Outcome, Packet, PathStep, SimulateOptions, TraceResult } from '../types.js';
import { overallVerdict } from '../types.js';
import type { NftChain, NftElement, NftHook, NftRule, NftRuleset, NftSelector, NftSet, NftStatement, NftTable, NftVerdict } from './model.js';
import { LazyNftChain, tableId } from './model.js';
import { parseNumber } from './rule.js';
import { inputInterfaceOf, outputInterfaceOf } from '../routes/index.js';

const MASQ_BIT = 0x4000;
const PROTO_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp', '1': 'icmp', '58': 'ipv6-icmp' };
const SERVICE_NAMES: Record<string, number> = { http: 80, https: 443, domain: 53, ssh: 22 };

type Kind = 'addr' | 'num' | 'proto' | 'name' | 'ifname';

function kindOf(selector: string): Kind {
  if (selector.endsWith('addr')) return 'addr';
  if (selector === 'meta l4proto') return 'proto';
  // `iif`/`oif` compare interface indexes, which nft prints (and takes) as the interface's name.
  if (selector.endsWith('ifname') || selector === 'meta iif' || selector === 'meta oif') return 'ifname';
  if (selector.endsWith('port') || selector === 'meta mark') return 'num';
  return 'name';
}

interface Frame {
  table: NftTable;
  chain: NftChain;
  idx: number;
}

interface Walk {
  probability: number;
  dst: string;
  /** The output interface: given, or from the node's route to the destination after DNAT. */
  oif: string | undefined;
  dport: number | undefined;
  mark: number;
  masquerade: boolean;
  dnat: string | null;
  path: PathStep[];
  hook: NftHook;
  baseIdx: number;
  basePolicy: 'accept' | 'drop';
  stack: Frame[];
  steps: number;
}

interface Base {
  table: NftTable;
  chain: NftChain;
}

class Simulator {
  private readonly local: string[];
  private readonly bases = new Map<NftHook, Base[]>();
  private readonly maxSteps: number;
  private readonly setIndex = new WeakMap<NftSet, SetIndex>();
  readonly assumptions: string[] = [];
  private isInterfaceAssumed = false;
  /** `--affinity` endpoints, as canonical `IP:PORT` (`[IP]:PORT` for IPv6). */
  private readonly affinity: string[];
  /** The input interface: given, or from the node's route back to the source. */
  private readonly iif: string | undefined;

  constructor(
    ruleset: NftRuleset,
    private readonly packet: Packet,
    private readonly options: SimulateOptions,
  ) {
    this.local = options.localIPs.map(canonicalIP);
    this.affinity = (options.affinity ?? []).map(canonicalEndpoint);
    let iif = packet.inInterface;
    if (iif === undefined && options.routing && packet.hook === 'prerouting') {
      const choice = inputInterfaceOf(options.routing, packet.src);
      if (choice) {
        iif = choice.name;
        this.assume(`input interface ${choice.name}: ${choice.reason}`);
      }
    }
    this.iif = iif;
    this.maxSteps = options.maxSteps ?? 10_000;
    const family = ipFamily(packet.dst) ?? 4;
    const isNew = (packet.ctState ?? 'NEW') === 'NEW';
    const all: Base[] = [];
    for (const table of ruleset.tables) {
      if (!(table.family === 'inet' || (family === 4 ? table.family === 'ip' : table.family === 'ip6'))) continue;
      for (const chain of table.chains.values()) {
        // nat chains see only the first packet of a connection (the kernel consults them on NEW).
        if (chain.base && (chain.base.type !== 'nat' || isNew)) all.push({ table, chain });
      }
    }
    for (const b of all) {
      const hook = b.chain.base!.hook;
      const list = this.bases.get(hook) ?? [];
      list.push(b);
      this.bases.set(hook, list);
    }
    // Stable sort: equal priorities keep the order the tables and chains were listed in.
    for (const list of this.bases.values()) list.sort((a, b) => a.chain.base!.priority - b.chain.base!.priority);
    this.assumptions.push(
      `connection state ${packet.ctState ?? 'NEW'}${isNew ? ' (first packet: nat chains are consulted)' : ''}`,
      `local addresses (fib type local): ${['127.0.0.0/8', ...this.local].join(', ')}`,
      'a destination that is not local is forwarded (routing is not simulated)',
    );
  }

  isLocal(ip: string): boolean {
    const c = canonicalIP(ip);
    return this.local.includes(c) || c === '::1' || cidrContains('127.0.0.0/8', c);
  }

  run(): Outcome[] {
    const first: Walk = {
      probability: 1,
      dst: this.packet.dst,
      oif: this.packet.outInterface,
      dport: this.packet.dport,
      mark: this.packet.mark ?? 0,
      masquerade: false,
      dnat: null,
      path: [],
      hook: this.packet.hook === 'output' ? 'output' : 'prerouting',
      baseIdx: 0,
      basePolicy: 'accept',
      stack: [],
      steps: 0,
    };
    if (this.packet.hook === 'output') this.reroute(first);
    return this.walk(first);
  }

  /** The routing decision on the current destination (after DNAT), unless the output interface was given. */
  private reroute(w: Walk): void {
    const routing = this.options.routing;
    if (this.packet.outInterface !== undefined || !routing) return;
    if (w.hook === 'input' || (w.hook === 'prerouting' && this.isLocal(w.dst))) {
      w.oif = undefined; // delivered to the node: no output interface
      return;
    }
    const choice = outputInterfaceOf(routing, w.dst);
    w.oif = choice?.name;
    if (choice) this.assume(`output interface ${choice.name}: ${choice.reason}`);
  }

  private finish(w: Walk, verdict: Outcome['verdict'], notModelled?: Outcome['notModelled']): Outcome[] {
    const o: Outcome = { probability: w.probability, verdict, dnat: w.dnat, masquerade: w.masquerade, path: w.path };
    if (w.mark !== (this.packet.mark ?? 0)) o.mark = w.mark;
    if (notModelled) o.notModelled = notModelled;
    return [o];
  }

  private nextHook(w: Walk): NftHook | null {
    switch (w.hook) {
      case 'prerouting':
        // The routing decision, on the destination after DNAT.
        this.reroute(w);
        return this.isLocal(w.dst) ? 'input' : 'forward';
      case 'forward':
      case 'output':
        return 'postrouting';
      case 'postrouting':
        // The node's own traffic to itself comes back in through lo, to the input hook.
        return this.packet.hook === 'output' && this.isLocal(w.dst) && !w.path.some((p) => p.effect === 'input') ? 'input' : null;
      default:
        return null;
    }
  }

  private walk(w: Walk): Outcome[] {
    for (;;) {
      if (w.stack.length === 0) {
        const list = this.bases.get(w.hook) ?? [];
        const base = list[w.baseIdx];
        if (base) {
          w.baseIdx++;
          w.basePolicy = base.chain.base!.policy;
          w.stack.push({ table: base.table, chain: base.chain, idx: 0 });
          continue;
        }
        const next = this.nextHook(w);
        if (!next) return this.finish(w, 'accept');
        w.hook = next;
        w.baseIdx = 0;
        continue;
      }
      const frame = w.stack[w.stack.length - 1]!;
      const rule = frame.chain.rules[frame.idx];
      if (!rule) {
        const done = this.popFrame(w, frame);
        if (done) return done;
        continue;
      }
      frame.idx++;
      if (++w.steps > this.maxSteps) {
        return this.finish(w, 'unknown', {
          ...this.where(frame, rule),
          reason: `more than ${this.maxSteps} rules evaluated: a jump loop, or a ruleset larger than --max-steps`,
        });
      }
      const result = this.evalRule(w, frame, rule);
      if (result) return result;
    }
  }

  /** End of a chain (or `return`): back to the caller; the end of a base chain applies its policy. */
  private popFrame(w: Walk, frame: Frame): Outcome[] | null {
    w.stack.pop();
    if (w.stack.length === 0 && w.basePolicy === 'drop') {
      w.path.push({ table: tableId(frame.table), chain: frame.chain.name, rule: 'policy drop', line: frame.chain.line, effect: 'base chain policy drop' });
      return this.finish(w, 'drop');
    }
    return null;
  }

  private where(frame: Frame, rule: NftRule): { table: string; chain: string; rule: string; line: number } {
    return { table: tableId(frame.table), chain: frame.chain.name, rule: rule.raw, line: rule.line };
  }

  private step(w: Walk, frame: Frame, rule: NftRule, effect: string): void {
    w.path.push({ ...this.where(frame, rule), effect });
  }

  /** Evaluates one rule (from statement `startAt`); returns outcomes when the walk ended (or forked) here, null to go on. */
  private evalRule(w: Walk, frame: Frame, rule: NftRule, startAt = 0): Outcome[] | null {
    for (let i = startAt; i < rule.statements.length; i++) {
      const s = rule.statements[i]!;
      switch (s.kind) {
        case 'random': {
          // Both branches are outcomes: the rule goes on with probability p, the next rule runs otherwise.
          const out: Outcome[] = [];
          if (s.probability > 0) {
            const hit = clone(w);
            hit.probability = w.probability * s.probability;
            this.step(hit, frame, rule, `random match taken (probability ${+s.probability.toFixed(10)})`);
            out.push(...(this.evalRule(hit, frame, rule, i + 1) ?? this.walk(hit)));
          }
          if (s.probability < 1) {
            w.probability *= 1 - s.probability;
            out.push(...this.walk(w));
          }
          return out;
        }
        case 'match': {
          const r = this.evalMatch(w, frame.table, s);
          if (r === 'unsupported') return this.notModelled(w, frame, rule, `cannot evaluate \`${s.left.map((l) => l.name).join(' . ')}\``);
          if (!r) return null;
          break;
        }
        case 'vmap': {
          const key = s.left.map((l) => this.value(w, l));
          if (key.some((k) => k === undefined)) return null;
          let el: NftElement | undefined;
          if (s.map.kind === 'set-ref') {
            const set = frame.table.sets.get(s.map.name);
            if (!set) return this.notModelled(w, frame, rule, `map @${s.map.name} does not exist`);
            el = this.lookup(set, s.left, key as (string | number)[]);
          } else el = findElement(s.map.elements, s.left, key as (string | number)[]);
          if (!el?.verdict) return null;
          this.step(w, frame, rule, `${key.join(' . ')} found in ${s.map.kind === 'set-ref' ? `@${s.map.name}` : 'the verdict map'}: ${verdictText(el.verdict)}${el.comment ? ` (${el.comment})` : ''}`);
          return this.applyVerdict(w, frame, rule, el.verdict);
        }
        case 'numgen':
          return this.fork(w, frame, rule, s);
        case 'verdict':
          this.step(w, frame, rule, verdictText(s.verdict));
          return this.applyVerdict(w, frame, rule, s.verdict);
        case 'dnat': {
          const port = s.port ?? w.dport;
          w.dst = s.address;
          w.dport = port;
          w.dnat = port === undefined ? s.address : s.address.includes(':') ? `[${s.address}]:${port}` : `${s.address}:${port}`;
          this.step(w, frame, rule, `DNAT to ${w.dnat}`);
          // The node's own packet is routed again after its destination changed.
          if (w.hook === 'output') this.reroute(w);
          w.stack = [];
          return null;
        }
        case 'masquerade':
        case 'snat':
          w.masquerade = true;
          this.step(w, frame, rule, s.kind === 'masquerade' ? 'masquerade (source NAT to the outgoing interface address)' : s.text);
          w.stack = [];
          return null;
        case 'mark-set': {
          const before = w.mark;
          w.mark = s.op === 'set' ? s.value : s.op === 'or' ? (w.mark | s.value) >>> 0 : s.op === 'xor' ? (w.mark ^ s.value) >>> 0 : (w.mark & s.value) >>> 0;
          this.step(w, frame, rule, `mark 0x${before.toString(16)} → 0x${w.mark.toString(16)}${w.mark & MASQ_BIT && !(before & MASQ_BIT) ? ' (marked for masquerade)' : ''}`);
          break;
        }
        case 'set-update':
          this.step(w, frame, rule, `records the client in @${s.set} (session affinity)`);
          break;
        case 'noop':
          break;
        case 'unsupported':
          return this.notModelled(w, frame, rule, s.reason);
      }
    }
    return null;
  }

  private notModelled(w: Walk, frame: Frame, rule: NftRule, reason: string): Outcome[] {
    this.step(w, frame, rule, `not modelled: ${reason}`);
    return this.finish(w, 'unknown', { ...this.where(frame, rule), reason });
  }

  private applyVerdict(w: Walk, frame: Frame, rule: NftRule, v: NftVerdict): Outcome[] | null {
    switch (v.kind) {
      case 'accept':
        w.stack = [];
        return null;
      case 'drop':
      case 'reject':
        return this.finish(w, v.kind);
      case 'continue':
        return null;
      case 'return':
        return this.popFrame(w, frame);
      case 'jump':
      case 'goto': {
        const target = frame.table.chains.get(v.target);
        if (!target) return this.notModelled(w, frame, rule, `chain "${v.target}" does not exist`);
        // goto replaces the current chain: when the target falls through, control returns to our caller.
        if (v.kind === 'goto') w.stack.pop();
        w.stack.push({ table: frame.table, chain: target, idx: 0 });
        return null;
      }
    }
  }

  private fork(w: Walk, frame: Frame, rule: NftRule, s: Extract<NftStatement, { kind: 'numgen' }>): Outcome[] | null {
    // Group the N equally likely values by the element they select; values without one fall through.
    const groups = new Map<NftElement | null, number>();
    for (let v = s.offset; v < s.offset + s.mod; v++) {
      const el = findElement(s.elements, [{ name: 'numgen' }], [v]) ?? null;
      groups.set(el, (groups.get(el) ?? 0) + 1);
    }
    const out: Outcome[] = [];
    let fallThrough = 0;
    for (const [el, count] of groups) {
      if (!el?.verdict) {
        fallThrough = count;
        continue;
      }
      const branch = clone(w);
      branch.probability = w.probability * (count / s.mod);
      this.step(branch, frame, rule, `numgen branch ${el.key.join(' . ')} (probability ${count}/${s.mod}): ${verdictText(el.verdict)}`);
      const r = this.applyVerdict(branch, frame, rule, el.verdict);
      out.push(...(r ?? this.walk(branch)));
    }
    if (fallThrough > 0) {
      const rest = clone(w);
      rest.probability = w.probability * (fallThrough / s.mod);
      out.push(...this.walk(rest));
    }
    return out;
  }

  value(w: Walk, sel: NftSelector): string | number | undefined {
    const p = this.packet;
    const isV4 = ipFamily(p.src) === 4;
    let v: string | number | undefined;
    switch (sel.name) {
      case 'ip saddr':
        v = isV4 ? p.src : undefined;
        break;
      case 'ip daddr':
        v = isV4 ? w.dst : undefined;
        break;
      case 'ip6 saddr':
        v = isV4 ? undefined : p.src;
        break;
      case 'ip6 daddr':
        v = isV4 ? undefined : w.dst;
        break;
      case 'meta l4proto':
        v = p.protocol;
        break;
      case 'th dport':
        v = p.protocol === 'icmp' ? undefined : w.dport;
        break;
      case 'th sport':
        v = p.protocol === 'icmp' ? undefined : p.sport;
        break;
      case 'tcp dport':
      case 'udp dport':
      case 'sctp dport':
        v = p.protocol === sel.name.split(' ')[0] ? w.dport : undefined;
        break;
      case 'tcp sport':
      case 'udp sport':
      case 'sctp sport':
        v = p.protocol === sel.name.split(' ')[0] ? p.sport : undefined;
        break;
      case 'meta mark':
        v = w.mark;
        break;
      case 'ct state':
        v = (p.ctState ?? 'NEW').toLowerCase();
        break;
      case 'fib saddr type':
        v = this.isLocal(p.src) ? 'local' : 'unicast';
        break;
      case 'fib daddr type':
        v = this.isLocal(w.dst) ? 'local' : 'unicast';
        break;
      case 'meta iifname':
      case 'meta oifname':
      case 'meta iif':
      case 'meta oif': {
        const name = sel.name === 'meta iifname' || sel.name === 'meta iif' ? this.iif : w.oif;
        if (name === undefined && !this.isInterfaceAssumed) {
          this.isInterfaceAssumed = true;
          this.assumptions.push('interface names were not given: rules matching iifname/oifname see an empty name');
        }
        v = name ?? '';
        break;
      }
      case 'meta nfproto':
        v = isV4 ? 'ipv4' : 'ipv6';
        break;
      default:
        return undefined;
    }
    if (sel.mask !== undefined && typeof v === 'number') v = (v & sel.mask) >>> 0;
    return v;
  }

  private evalMatch(w: Walk, table: NftTable, s: Extract<NftStatement, { kind: 'match' }>): boolean | 'unsupported' {
    if (s.left.some((l) => !KNOWN_SELECTORS.has(l.name))) return 'unsupported';
    const key = s.left.map((l) => this.value(w, l));
    // A payload match carries an implicit protocol dependency: no value means no match, even for `!=`.
    if (key.some((k) => k === undefined)) return false;
    let found: boolean;
    if (s.right.kind === 'set-ref') {
      const set = table.sets.get(s.right.name);
      if (!set) return 'unsupported';
      found = this.lookup(set, s.left, key as (string | number)[]) !== undefined || this.hasAffinity(table, set.name);
    } else if (s.op === '==' || s.op === '!=') {
      found = s.right.atoms.some((atoms) => atoms.every((a, i) => atomMatches(kindOf(s.left[i]!.name), key[i]!, a)));
    } else {
      const v = Number(key[0]);
      const a = parseNumber(s.right.atoms[0]?.[0] ?? '') ?? NaN;
      return s.op === '<' ? v < a : s.op === '>' ? v > a : s.op === '<=' ? v <= a : v >= a;
    }
    return s.op === '!=' ? !found : found;
  }

  /**
   * Whether the client is taken to be in a session-affinity set: kube-proxy's `ip saddr @affinity-… goto
   * endpoint-…`, whose endpoint chain records the client (`update @affinity-… { ip saddr }`) and DNATs to
   * the endpoint. `--affinity IP:PORT` names the endpoints the client already sticks to, as
   * `-m recent --rcheck` does on the iptables path; without it the client is new.
   */
  private hasAffinity(table: NftTable, setName: string): boolean {
    const endpoint = affinityEndpointOf(table, setName);
    if (endpoint === undefined) return false;
    const affinity = this.affinity;
    if (affinity.length === 0) {
      this.assume("no existing session affinity: lookups in kube-proxy's affinity sets were taken as not matching (a new client)");
      return false;
    }
    this.assume(`the client already has session affinity to ${this.options.affinity!.join(', ')}`);
    return endpoint !== null && affinity.includes(endpoint);
  }

  private assume(text: string): void {
    if (!this.assumptions.includes(text)) this.assumptions.push(text);
  }

  private lookup(set: NftSet, left: NftSelector[], key: (string | number)[]): NftElement | undefined {
    let index = this.setIndex.get(set);
    if (!index) {
      index = buildIndex(set, left);
      this.setIndex.set(set, index);
    }
    const exact = index.exact.get(key.map((k, i) => normalize(kindOf(left[i]!.name), k)).join(' . '));
    return exact ?? findElement(index.intervals, left, key);
  }
}

const KNOWN_SELECTORS = new Set([
  'ip saddr', 'ip daddr', 'ip6 saddr', 'ip6 daddr', 'meta l4proto', 'th dport', 'th sport', 'tcp dport', 'tcp sport',
  'udp dport', 'udp sport', 'sctp dport', 'sctp sport', 'meta mark', 'ct state', 'fib saddr type', 'fib daddr type',
  'meta iifname', 'meta oifname', 'meta iif', 'meta oif', 'meta nfproto',
]);

interface SetIndex {
  exact: Map<string, NftElement>;
  intervals: NftElement[];
}

function isInterval(kind: Kind, atom: string): boolean {
  if (kind === 'addr') return (atom.includes('/') && !/\/(32|128)$/.test(atom)) || atom.includes('-');
  if (kind === 'num') return atom.includes('-');
  if (kind === 'ifname') return atom.endsWith('*');
  return false;
}

function buildIndex(set: NftSet, left: NftSelector[]): SetIndex {
  const exact = new Map<string, NftElement>();
  const intervals: NftElement[] = [];
  for (const el of set.elements) {
    const kinds = el.key.map((_, i) => kindOf(left[i]?.name ?? ''));
    if (el.key.some((a, i) => isInterval(kinds[i]!, a))) intervals.push(el);
    else {
      const k = el.key.map((a, i) => normalize(kinds[i]!, a.includes('/') ? a.replace(/\/(32|128)$/, '') : a)).join(' . ');
      if (!exact.has(k)) exact.set(k, el);
    }
  }
  return { exact, intervals };
}

function normalize(kind: Kind, v: string | number): string {
  const s = String(v);
  switch (kind) {
    case 'addr':
      return canonicalIP(s);
    case 'num': {
      const n = parseNumber(s) ?? SERVICE_NAMES[s];
      return n === undefined ? s : String(n);
    }
    case 'proto':
      return PROTO_NUMBERS[s] ?? s;
    default:
      return s;
  }
}

function findElement(elements: readonly NftElement[], left: NftSelector[], key: (string | number)[]): NftElement | undefined {
  return elements.find((el) => el.key.length === key.length && el.key.every((a, i) => atomMatches(kindOf(left[i]?.name ?? 'numgen'), key[i]!, a)));
}

function atomMatches(kind: Kind, value: string | number, atom: string): boolean {
  switch (kind) {
    case 'addr': {
      if (atom.includes('/')) return cidrContains(atom, String(value));
      const dash = atom.indexOf('-');
      if (dash > 0) {
        const lo = parseIP(atom.slice(0, dash));
        const hi = parseIP(atom.slice(dash + 1));
        const v = parseIP(String(value));
        return !!lo && !!hi && !!v && v.family === lo.family && v.value >= lo.value && v.value <= hi.value;
      }
      return canonicalIP(atom) === canonicalIP(String(value));
    }
    case 'num':
    case 'name': {
      const v = typeof value === 'number' ? value : parseNumber(value);
      const dash = atom.indexOf('-');
      if (v !== null && dash > 0) {
        const lo = parseNumber(atom.slice(0, dash));
        const hi = parseNumber(atom.slice(dash + 1));
        if (lo !== null && hi !== null) return v >= lo && v <= hi;
      }
      if (v !== null) {
        const a = parseNumber(atom) ?? SERVICE_NAMES[atom];
        if (a !== undefined) return a === v;
      }
      return atom === String(value);
    }
    case 'proto':
      return normalize('proto', atom) === String(value);
    case 'ifname':
      return atom.endsWith('*') ? String(value).startsWith(atom.slice(0, -1)) : atom === String(value);
  }
}

/** "IP:PORT" or "[IP]:PORT" with the address canonical; the text unchanged when it is neither. */
function canonicalEndpoint(text: string): string {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) return text;
  const ip = canonicalIP(m[1]!);
  return ip.includes(':') ? `[${ip}]:${m[2]!}` : `${ip}:${m[2]!}`;
}

const affinityEndpoints = new WeakMap<NftTable, Map<string, string | null>>();

/**
 * For a set that a chain of the table updates with the client's address (a session-affinity set), the
 * endpoint that chain DNATs to (`IP:PORT`, null when it DNATs nowhere); undefined for any other set.
 */
function affinityEndpointOf(table: NftTable, setName: string): string | null | undefined {
  let index = affinityEndpoints.get(table);
  if (!index) {
    index = new Map();
    for (const chain of table.chains.values()) {
      // A lazily read chain is read only when its text may update a set.
      if (chain instanceof LazyNftChain && !chain.mayUpdateSet) continue;
      const updated = chain.rules.flatMap((r) => r.statements.flatMap((st) => (st.kind === 'set-update' ? [st.set] : [])));
      if (updated.length === 0) continue;
      const dnat = chain.rules.flatMap((r) => r.statements).find((st): st is Extract<NftStatement, { kind: 'dnat' }> => st.kind === 'dnat');
      const endpoint = dnat?.port === undefined ? null : canonicalEndpoint(dnat.address.includes(':') ? `[${dnat.address}]:${dnat.port}` : `${dnat.address}:${dnat.port}`);
      for (const name of updated) index.set(name.replace(/^@/, ''), endpoint);
    }
    affinityEndpoints.set(table, index);
  }
  return index.get(setName);
}

function clone(w: Walk): Walk {
  return { ...w, path: [...w.path], stack: w.stack.map((f) => ({ ...f })) };
}

function verdictText(v: NftVerdict): string {
  return 'target' in v ? `${v.kind} ${v.target}` : v.kind;
}

export function simulateNft(ruleset: NftRuleset, packet: Packet, options: SimulateOptions): TraceResult {
  const sim = new Simulator(ruleset, packet, options);
  const outcomes = sim.run();
  const findings = [...ruleset.findings];
  if (!ruleset.tables.some((t) => t.name === 'kube-proxy')) {
    findings.push({
      code: 'nft-no-kube-proxy-table',
      severity: 'info',
      message: 'the ruleset has no `kube-proxy` table: kube-proxy is not running in nftables mode on this node',
    });
  }
  return { verdict: overallVerdict(outcomes), outcomes, format: 'nftables', packet, assumptions: sim.assumptions, findings };
}
