// IP and CIDR helpers for IPv4 and IPv6. Addresses become bigints so that both families share one path.

export type IPFamily = 4 | 6;

export interface ParsedIP {
  family: IPFamily;
  value: bigint;
}

export interface ParsedCIDR {
  family: IPFamily;
  /** The network address (host bits cleared). */
  network: bigint;
  prefix: number;
  text: string;
}

const ipv4Re = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIPv4(text: string): number | null {
  const m = ipv4Re.exec(text);
  if (!m) return null;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255 || (m[i]!.length > 1 && m[i]!.startsWith('0'))) return null;
    value = value * 256 + octet;
  }
  return value;
}

function parseIPv6(text: string): bigint | null {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return null;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  return value;
}

export function parseIP(text: string): ParsedIP | null {
  const v4 = parseIPv4(text);
  if (v4 !== null) return { family: 4, value: BigInt(v4) };
  const v6 = parseIPv6(text);
  return v6 === null ? null : { family: 6, value: v6 };
}

export function isIP(text: string): boolean {
  return parseIP(text) !== null;
}

export function ipFamily(text: string): IPFamily | null {
  return parseIP(text)?.family ?? null;
}

function bits(family: IPFamily): number {
  return family === 4 ? 32 : 128;
}

/** Parse "10.0.0.0/8", "fd00::/64", or a bare address (a /32 or /128). Host bits are cleared, as the kernel does. */
export function parseCIDR(text: string): ParsedCIDR | null {
  const slash = text.indexOf('/');
  const ip = parseIP(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return null;
  const width = bits(ip.family);
  let prefix = width;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > width) return null;
  }
  const mask = prefixMask(ip.family, prefix);
  return { family: ip.family, network: ip.value & mask, prefix, text };
}

function computePrefixMask(family: IPFamily, prefix: number): bigint {
  const width = BigInt(bits(family));
  const all = (1n << width) - 1n;
  return prefix === 0 ? 0n : (all >> (width - BigInt(prefix))) << (width - BigInt(prefix));
}

/** Every mask, made once: BigInt arithmetic per comparison dominated matching many addresses. */
const PREFIX_MASKS: Record<IPFamily, bigint[]> = {
  4: Array.from({ length: 33 }, (_, p) => computePrefixMask(4, p)),
  6: Array.from({ length: 129 }, (_, p) => computePrefixMask(6, p)),
};

function prefixMask(family: IPFamily, prefix: number): bigint {
  return PREFIX_MASKS[family][prefix] ?? computePrefixMask(family, prefix);
}

export function cidrContainsIP(cidr: ParsedCIDR, ip: ParsedIP): boolean {
  return cidr.family === ip.family && (ip.value & prefixMask(ip.family, cidr.prefix)) === cidr.network;
}

/** Whether `inner` lies entirely within `outer`. */
export function cidrContainsCIDR(outer: ParsedCIDR, inner: ParsedCIDR): boolean {
  return (
    outer.family === inner.family &&
    inner.prefix >= outer.prefix &&
    (inner.network & prefixMask(outer.family, outer.prefix)) === outer.network
  );
}

/** Convenience for text: false when either side does not parse. */
export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCIDR(cidr);
  const i = parseIP(ip);
  return c !== null && i !== null && cidrContainsIP(c, i);
}

/** A CIDR as kube-proxy writes it (Go's net.IPNet String()): host bits cleared, a bare address as /32 or /128; null when it does not parse. */
export function canonicalCIDR(text: string): string | null {
  const c = parseCIDR(text.trim());
  return c === null ? null : `${formatIP({ family: c.family, value: c.network })}/${c.prefix}`;
}

export function formatIP(ip: ParsedIP): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((ip.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 asks.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

/** Whether `text` is an IPv4 address as the kernel and the API print it: checked by hand, no match arrays. */
export function isCanonicalIPv4(text: string): boolean {
  let dots = 0;
  let octet = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return false;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return false; // a leading zero
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return false;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
}

/** Canonical text of an address, so that "2001:DB8:0:0::1" and "2001:db8::1" compare equal. */
export function canonicalIP(text: string): string {
  // A dotted quad without leading zeros, octets ≤ 255, is already canonical: skip the bigint round trip.
  if (isCanonicalIPv4(text)) return text;
  const ip = parseIP(text);
  return ip ? formatIP(ip) : text;
}

/**
 * The texts an address is commonly printed as: for IPv4 itself; for IPv6 the short form (RFC 5952,
 * as `conntrack -L` and `ip` print it), the full form with leading zeros (as the kernel prints it in
 * /proc/net/nf_conntrack: fd00:0010:0244:0001:0000:0000:0000:0005), the uncompressed form without
 * them, and each in upper case. For fast substring searches; compare parsed addresses afterwards.
 */
export function ipTextForms(text: string): string[] {
  const ip = parseIP(text);
  if (!ip) return [text];
  if (ip.family === 4) return [formatIP(ip)];
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((ip.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  const forms = [formatIP(ip), groups.map((g) => g.padStart(4, '0')).join(':'), groups.join(':')];
  return [...new Set([...forms, ...forms.map((f) => f.toUpperCase())])];
}

/** Whether two texts are the same address (in any textual form); texts that are not addresses compare as text. */
export function sameIP(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseIP(a);
  const y = parseIP(b);
  return x !== null && y !== null && x.family === y.family && x.value === y.value;
}

const LOOPBACK_V4 = parseCIDR('127.0.0.0/8')!;

/** Whether the address is a loopback one: 127.0.0.0/8, ::1, or ::ffff:127.x.y.z. */
export function isLoopbackIP(text: string): boolean {
  const ip = parseIP(text);
  if (ip === null) return false;
  if (ip.family === 4) return cidrContainsIP(LOOPBACK_V4, ip);
  return ip.value === 1n || ip.value >> 24n === 0xffff7fn;
}

/** "HOST:PORT", with an IPv6 host in brackets ("[fd00::1]:80"), as Go's net.JoinHostPort writes it. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
