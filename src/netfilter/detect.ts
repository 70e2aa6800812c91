// Which kind of rule dump a text is, from its first meaningful lines, so that `knet rules trace
// --file` takes any of them without a format flag.

export type RulesFormat = 'iptables' | 'nftables' | 'nft-json' | 'ipvsadm' | 'unknown';

/** Lines examined before deciding; dumps declare themselves in their first lines. */
const LOOKAHEAD_LINES = 200;

export function detectRulesFormat(text: string): RulesFormat {
  const head = text.slice(0, 64 * 1024);
  const trimmed = head.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    // `nft -j list ruleset` prints {"nftables": [...]}.
    return /"nftables"\s*:/.test(head) ? 'nft-json' : 'unknown';
  }
  let lines = 0;
  for (const raw of head.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (++lines > LOOKAHEAD_LINES) break;
    if (line.startsWith('IP Virtual Server version') || /^Prot\s+LocalAddress:Port/.test(line)) return 'ipvsadm';
    // `ipvsadm -S -n`: -A -t VIP:PORT -s rr / -a -t VIP:PORT -r RIP:PORT -m -w 1
    if (/^-[Aa]\s+(-t|-u|--tcp-service|--udp-service|--sctp-service|-f)\s/.test(line)) return 'ipvsadm';
    if (/^\*[a-z]+$/.test(line) || /^:[^\s]+\s+(ACCEPT|DROP|-)(\s|$)/.test(line)) return 'iptables';
    if (/^(\[\d+:\d+\]\s+)?-[AIN]\s+\S+/.test(line)) return 'iptables';
    if (/^(add\s+|create\s+|flush\s+|delete\s+)?table\s+(ip|ip6|inet|arp|bridge|netdev)\s/.test(line) || /^(add|create)\s+(chain|rule|set|map|element)\s/.test(line)) return 'nftables';
    if (/^table\s+\S+\s*\{?$/.test(line)) return 'nftables';
  }
  return 'unknown';
}
