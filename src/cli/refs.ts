import { inputError } from '../model/errors.js';
import { parseIP } from '../model/ip.js';

/** A SRC or DST argument, parsed at the edge (see docs/cli.md, "Object references"). */
export type Ref =
  | { kind: 'pod'; namespace?: string; name: string }
  | { kind: 'service'; namespace?: string; name: string }
  | { kind: 'node'; name: string }
  | { kind: 'ip'; ip: string; port?: number }
  | { kind: 'dns'; name: string };

export type NamedRef = Extract<Ref, { kind: 'pod' | 'service' }>;

const dns1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const podPrefixes = new Set(['pod', 'pods', 'po']);
const servicePrefixes = new Set(['svc', 'service', 'services']);
const nodePrefixes = new Set(['node', 'nodes', 'no']);

const forms =
  'pod/NAME, NS/NAME, NAME, svc/NAME, svc/NS/NAME, svc/NAME.NS, node/NAME, an IP, or IP:PORT';

function checkName(name: string, text: string, what: string): void {
  // Pod names are DNS subdomains (dots allowed); the stricter label form is checked for namespaces.
  if (!name || name.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
    throw inputError(`"${text}" is not a valid ${what}: "${name}" is not a Kubernetes name`, 'bad-reference', [
      'Names are lower-case letters, digits, "-" and ".", starting and ending with a letter or digit.',
    ]);
  }
}

function checkNamespace(ns: string, text: string): void {
  if (!dns1123.test(ns) || ns.length > 63) {
    throw inputError(`"${text}" names namespace "${ns}", which is not a valid namespace name`, 'bad-reference');
  }
}

function parsePort(p: string, text: string): number {
  const n = Number(p);
  if (!/^\d+$/.test(p) || n < 1 || n > 65535) {
    throw inputError(`"${text}" has port "${p}", which is not a port number (1-65535)`, 'bad-reference');
  }
  return n;
}

/** Why digits and dots are not an IPv4 address, in words. */
function ipv4Problem(host: string): string {
  const parts = host.split('.');
  if (parts.length !== 4) return `it has ${parts.length} part${parts.length === 1 ? '' : 's'}, not 4`;
  const empty = parts.findIndex((p) => p === '');
  if (empty >= 0) return `part ${empty + 1} is empty`;
  const big = parts.find((p) => Number(p) > 255);
  if (big !== undefined) return `${big} is over 255`;
  const zero = parts.find((p) => p.length > 1 && p.startsWith('0'));
  if (zero !== undefined) return `${zero} has a leading zero (octal in some tools, refused here)`;
  return 'it is not one';
}

/** `name`, `ns/name`, `name.ns` for services; a namespace given with -n is applied later, at resolution. */
function parseServiceTail(tail: string, text: string): NamedRef {
  const parts = tail.split('/');
  if (parts.length === 2) {
    checkNamespace(parts[0]!, text);
    checkName(parts[1]!, text, 'service reference');
    return { kind: 'service', namespace: parts[0]!, name: parts[1]! };
  }
  if (parts.length !== 1) throw inputError(`"${text}" is not a service reference`, 'bad-reference', [`Use svc/NAME, svc/NS/NAME or svc/NAME.NS.`]);
  const dot = tail.indexOf('.');
  if (dot > 0) {
    const name = tail.slice(0, dot);
    const ns = tail.slice(dot + 1).replace(/\.svc(\..*)?$/, '');
    checkName(name, text, 'service reference');
    checkNamespace(ns, text);
    return { kind: 'service', namespace: ns, name };
  }
  checkName(tail, text, 'service reference');
  return { kind: 'service', name: tail };
}

const DNS_NAME = /^[A-Za-z0-9_]([-A-Za-z0-9_.]*[A-Za-z0-9])?\.?$/;

/** What keeps `name` from being a name a resolver looks up, in words ("has an empty label …"); null when nothing does. */
export function dnsNameProblem(name: string): string | null {
  if (!DNS_NAME.test(name)) return 'holds characters a DNS name does not have';
  const bare = name.replace(/\.$/, '');
  const labels = bare.split('.');
  if (labels.includes('')) return 'has an empty label (two dots in a row)';
  const long = labels.find((l) => l.length > 63);
  if (long !== undefined) return `has a label of ${long.length} characters ("${long.slice(0, 12)}…"; at most 63)`;
  if (bare.length > 253) return `is ${bare.length} characters long (at most 253)`;
  return null;
}

/** A name as a message quotes it: a long one cut short. */
function shortened(name: string): string {
  return name.length > 80 ? `${name.slice(0, 77)}…` : name;
}

export interface ParseRefOptions {
  /** Whether a DNS name is acceptable (DST of trace and dns). */
  allowDns?: boolean;
  /** What the argument is called in messages: SRC, DST, SERVICE. */
  what?: string;
}

export function parseRef(text: string, options: ParseRefOptions = {}): Ref {
  const what = options.what ?? 'reference';
  const t = text.trim();
  if (!t) throw inputError(`${what} is empty`, 'bad-reference', [`Give one of: ${forms}.`]);

  // An IP, IP:PORT, or [IPv6]:PORT.
  if (parseIP(t)) return { kind: 'ip', ip: t };
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  if (bracket && parseIP(bracket[1]!)) return { kind: 'ip', ip: bracket[1]!, port: parsePort(bracket[2]!, t) };
  const v4port = /^([\d.]+):(\w+)$/.exec(t);
  if (v4port && parseIP(v4port[1]!)) return { kind: 'ip', ip: v4port[1]!, port: parsePort(v4port[2]!, t) };
  // Digits and dots, with a port or not: meant as an address, and said so.
  const dotted = /^([\d.]+)(?::\w*)?$/.exec(t);
  if (dotted) throw inputError(`${what} "${t}" is not a valid IP address: ${ipv4Problem(dotted[1]!)}`, 'bad-reference', [`Give one of: ${forms}.`]);
  // NAME:PORT, svc/NAME:PORT: a port written the way only an address takes it.
  const namePort = /^([^:]*[A-Za-z][^:]*):(\w+)$/.exec(t);
  if (namePort) {
    throw inputError(`${what} "${t}" gives a port after a name; NAME:PORT is only for IP addresses`, 'bad-reference', [
      /^\d+$/.test(namePort[2]!) ? `Give the port with --port: ${namePort[1]} --port ${namePort[2]}.` : `Give the port's number with --port: ${namePort[1]} --port NUMBER.`,
    ]);
  }
  // No name or reference has a colon outside a port: what is left with one is a mistyped address.
  if (t.includes(':') && !t.includes('/')) {
    throw inputError(`${what} "${t}" is not a valid IP address or IP:PORT`, 'bad-reference', ['An IPv6 address with a port is written [ADDRESS]:PORT.', `Give one of: ${forms}.`]);
  }

  const slash = t.indexOf('/');
  if (slash > 0) {
    const prefix = t.slice(0, slash).toLowerCase();
    const tail = t.slice(slash + 1);
    if (servicePrefixes.has(prefix)) return parseServiceTail(tail, t);
    if (podPrefixes.has(prefix)) {
      const parts = tail.split('/');
      if (parts.length === 2) {
        checkNamespace(parts[0]!, t);
        checkName(parts[1]!, t, 'pod reference');
        return { kind: 'pod', namespace: parts[0]!, name: parts[1]! };
      }
      checkName(tail, t, 'pod reference');
      return { kind: 'pod', name: tail };
    }
    if (nodePrefixes.has(prefix)) {
      checkName(tail, t, 'node reference');
      return { kind: 'node', name: tail };
    }
    const parts = t.split('/');
    if (parts.length === 2 && dns1123.test(parts[0]!)) {
      checkName(parts[1]!, t, 'pod reference');
      return { kind: 'pod', namespace: parts[0]!, name: parts[1]! };
    }
    throw inputError(`${what} "${t}" is not a reference knet understands`, 'bad-reference', [`Give one of: ${forms}.`]);
  }
  if (options.allowDns && t.includes('.')) {
    const problem = dnsNameProblem(t);
    if (problem !== null) throw inputError(`${what} "${shortened(t)}" is not a valid DNS name: it ${problem}`, 'bad-reference', [`Give one of: ${forms}.`]);
    return { kind: 'dns', name: t };
  }
  checkName(t, t, `${what} (a pod name)`);
  return { kind: 'pod', name: t };
}

/**
 * The port a connection to DST is made on: DST's own (IP:PORT) or --port. Both, and different, is an
 * input error (trace and explain-policy alike).
 */
export function connectionPort(dst: string, ref: Ref, flagPort: number | undefined): number | undefined {
  const own = ref.kind === 'ip' ? ref.port : undefined;
  if (own !== undefined && flagPort !== undefined && own !== flagPort) {
    throw inputError(`DST ${dst} names port ${own} and --port says ${flagPort}`, 'conflicting-flags', ['Give the port once.']);
  }
  return flagPort ?? own;
}

/** DNS name NAME as `knet dns` takes it, else an input error that says what is wrong with it. */
export function checkDnsName(name: string): void {
  const problem = dnsNameProblem(name);
  if (problem !== null) throw inputError(`"${shortened(name)}" is not a DNS name: it ${problem}`, 'bad-name', ['Names are letters, digits, "-", "_" and dots, e.g. web.shop or web.shop.svc.cluster.local.']);
}

/** A SERVICE argument: `NAME`, `svc/NAME`, `svc/NS/NAME`, `NS/NAME`, `NAME.NS`. */
export function parseServiceRef(text: string): NamedRef {
  const t = text.trim();
  const slash = t.indexOf('/');
  if (slash > 0 && servicePrefixes.has(t.slice(0, slash).toLowerCase())) return parseServiceTail(t.slice(slash + 1), t);
  return parseServiceTail(t, t);
}
