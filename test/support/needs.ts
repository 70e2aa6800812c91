// Tests that need root (network namespaces, netfilter) or programs from Debian packages. Such a block is
// declared with describeNeeding(): where something is missing, its tests do not run and the block
// reports one skipped test whose note says what is missing and how to get it, a line that vitest's
// default reporter prints, e.g.
//   ↓ the kernel agrees with the iptables simulator > skipped [needs root (network namespaces); run as root, as CI does]
// CI runs as root with every package installed (.ci/run), so there nothing is skipped.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, it } from 'vitest';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The Debian package that provides each program the tests run. */
const PACKAGES: Record<string, string> = {
  ip: 'iproute2',
  sysctl: 'procps',
  iptables: 'iptables',
  'iptables-save': 'iptables',
  'iptables-restore': 'iptables',
  'iptables-nft-save': 'iptables',
  'iptables-legacy-save': 'iptables',
  'ip6tables-save': 'iptables',
  'ip6tables-restore': 'iptables',
  nft: 'nftables',
  ipset: 'ipset',
  conntrack: 'conntrack',
  ipvsadm: 'ipvsadm',
  dig: 'bind9-dnsutils',
  named: 'bind9',
  script: 'bsdutils',
  xmllint: 'libxml2-utils',
};

export interface Needs {
  /** Root, for network namespaces and netfilter. */
  root?: boolean;
  /** Programs that must be on PATH (or in /usr/sbin, /sbin, where Debian puts the netfilter tools). */
  commands?: readonly string[];
  /** Any other check (a server that must start, a version): what is missing, or null. */
  check?: () => string | null;
}

/** Programs every network-namespace lab runs (test/support/netns.ts). */
export const NETNS_COMMANDS = ['ip', 'sysctl'] as const;

function hasCommand(name: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What is missing for `needs`, as one sentence, or null when everything is there. */
export function missingFor(needs: Needs): string | null {
  const reasons: string[] = [];
  if (needs.root && !isRoot) reasons.push('needs root (network namespaces); run as root, as CI does');
  const absent = (needs.commands ?? []).filter((c) => !hasCommand(c));
  if (absent.length) {
    const packages = [...new Set(absent.map((c) => PACKAGES[c] ?? c))];
    reasons.push(`needs ${absent.join(', ')}: apt-get install ${packages.join(' ')}`);
  }
  const other = reasons.length === 0 ? (needs.check?.() ?? null) : null;
  if (other !== null) reasons.push(other);
  return reasons.length ? reasons.join('; ') : null;
}

/** describe(), unless something in `needs` is missing: then one skipped test that says what. */
export function describeNeeding(needs: Needs, title: string, body: () => void): void {
  const missing = missingFor(needs);
  if (missing === null) {
    describe(title, body);
    return;
  }
  describe(title, () => {
    it('skipped', (ctx) => ctx.skip(missing));
  });
}
