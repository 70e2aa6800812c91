// Builds kube-proxy-shaped nftables scripts (the knftables transaction form kube-proxy feeds `nft -f`)
// for tests and benchmarks: the base chains and sets of kube-proxy's nftables mode, then per Service port its
// service-/endpoint-/external- chains and the map elements that lead to them, with kube-proxy's names
// (`service-HASH-ns/name/proto/port`, HASH = base32(sha256(…))[:8]).
import { createHash } from 'node:crypto';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function hash8(text) {
  const bytes = createHash('sha256').update(text).digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < 8) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/**
 * The fixed part: table, sets, maps, base chains, helper chains (as kube-proxy's baseRules).
 * @param {{ serviceCIDR: string, nodeIPs: string[] }} options
 * @returns {string[]}
 */
export function baseRules(options) {
  return [
    'add table ip kube-proxy { comment "rules for kube-proxy" ; }',
    'add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }',
    'add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }',
    'add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }',
    'add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; }',
    'add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; }',
    'add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }',
    'add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; }',
    'add chain ip kube-proxy cluster-ips-check',
    'add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }',
    'add chain ip kube-proxy filter-output-pre-dnat { type filter hook output priority -110 ; }',
    'add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }',
    'add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }',
    'add chain ip kube-proxy filter-output { type filter hook output priority 0 ; }',
    'add chain ip kube-proxy firewall-check',
    'add chain ip kube-proxy mark-for-masquerade',
    'add chain ip kube-proxy masquerading',
    'add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }',
    'add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }',
    'add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }',
    'add chain ip kube-proxy nodeport-endpoints-check',
    'add chain ip kube-proxy reject-chain',
    'add chain ip kube-proxy services',
    'add chain ip kube-proxy service-endpoints-check',
    'add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
    `add rule ip kube-proxy cluster-ips-check ip daddr { ${options.serviceCIDR} } drop comment "Drop traffic to unallocated ClusterIPs"`,
    'add rule ip kube-proxy filter-prerouting-pre-dnat ct state new jump firewall-check',
    'add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check',
    'add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check',
    'add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check',
    'add rule ip kube-proxy filter-input ct state new jump service-endpoints-check',
    'add rule ip kube-proxy filter-output ct state new jump service-endpoints-check',
    'add rule ip kube-proxy filter-output-pre-dnat ct state new jump firewall-check',
    'add rule ip kube-proxy filter-output ct state new jump cluster-ips-check',
    'add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips',
    'add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000',
    'add rule ip kube-proxy masquerading mark and 0x4000 == 0 return',
    'add rule ip kube-proxy masquerading mark set mark xor 0x4000',
    'add rule ip kube-proxy masquerading masquerade fully-random',
    'add rule ip kube-proxy nat-output jump services',
    'add rule ip kube-proxy nat-postrouting jump masquerading',
    'add rule ip kube-proxy nat-prerouting jump services',
    'add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports',
    'add rule ip kube-proxy reject-chain reject',
    'add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips',
    'add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports',
    'add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services',
    ...options.nodeIPs.map((ip) => `add element ip kube-proxy nodeport-ips { ${ip} }`),
  ];
}

/**
 * @param {import('./kube-proxy-nft.d.mts').GenerateNftOptions} options
 * @returns {string} an `nft -f` script
 */
export function generateKubeProxyNft(options) {
  const chains = [];
  const rules = [];
  const elements = [];
  for (const s of options.services) {
    const proto = s.protocol ?? 'tcp';
    const spn = `${s.namespace}/${s.name}/${proto}/${s.portName}`;
    const h = hash8(spn);
    const svcChain = `service-${h}-${spn}`;
    const extChain = `external-${h}-${spn}`;
    const comment = `"${s.namespace}/${s.name}:${s.portName}"`;
    elements.push(`add element ip kube-proxy cluster-ips { ${s.clusterIP} }`);
    if (s.endpoints.length === 0) {
      elements.push(`add element ip kube-proxy no-endpoint-services { ${s.clusterIP} . ${proto} . ${s.port} comment ${comment} : goto reject-chain }`);
      if (s.nodePort) elements.push(`add element ip kube-proxy no-endpoint-nodeports { ${proto} . ${s.nodePort} comment ${comment} : goto reject-chain }`);
      continue;
    }
    chains.push(`add chain ip kube-proxy ${svcChain}`);
    rules.push(`add rule ip kube-proxy ${svcChain} ip daddr ${s.clusterIP} ip saddr != ${options.podCIDR} jump mark-for-masquerade`);
    const epChains = s.endpoints.map((ep) => {
      const suffix = `${spn}__${ep.ip}/${s.targetPort}`;
      const eh = hash8(suffix);
      const name = `endpoint-${eh}-${suffix}`;
      const affinity = `affinity-${eh}-${suffix}`;
      chains.push(`add chain ip kube-proxy ${name}`);
      if (s.affinity) chains.push(`add set ip kube-proxy ${affinity} { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }`);
      rules.push(`add rule ip kube-proxy ${name} ip saddr ${ep.ip} jump mark-for-masquerade`);
      if (s.affinity) rules.push(`add rule ip kube-proxy ${name} update @${affinity} { ip saddr }`);
      rules.push(`add rule ip kube-proxy ${name} meta l4proto ${proto} dnat to ${ep.ip}:${s.targetPort}`);
      return { name, affinity };
    });
    if (s.affinity) for (const ep of epChains) rules.push(`add rule ip kube-proxy ${svcChain} ip saddr @${ep.affinity} goto ${ep.name}`);
    rules.push(`add rule ip kube-proxy ${svcChain} numgen random mod ${epChains.length} vmap { ${epChains.map((ep, i) => `${i} : goto ${ep.name}`).join(' , ')} }`);
    elements.push(`add element ip kube-proxy service-ips { ${s.clusterIP} . ${proto} . ${s.port} : goto ${svcChain} }`);
    if (s.nodePort) {
      chains.push(`add chain ip kube-proxy ${extChain}`);
      if (s.externalTrafficPolicy === 'Local') {
        rules.push(`add rule ip kube-proxy ${extChain} ip saddr ${options.podCIDR} goto ${svcChain} comment "short-circuit pod traffic"`);
        rules.push(`add rule ip kube-proxy ${extChain} fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"`);
        rules.push(`add rule ip kube-proxy ${extChain} fib saddr type local goto ${svcChain} comment "short-circuit local traffic"`);
        if (!s.endpoints.some((e) => e.isLocal)) elements.push(`add element ip kube-proxy no-endpoint-nodeports { ${proto} . ${s.nodePort} comment ${comment} : drop }`);
      } else {
        rules.push(`add rule ip kube-proxy ${extChain} jump mark-for-masquerade`);
        rules.push(`add rule ip kube-proxy ${extChain} goto ${svcChain}`);
      }
      elements.push(`add element ip kube-proxy service-nodeports { ${proto} . ${s.nodePort} : goto ${extChain} }`);
    }
  }
  return [...baseRules(options), ...chains, ...rules, ...elements].join('\n') + '\n';
}

/** knftables dumps list chains after the rules that jump to them; `nft -f` wants them first. */
export function orderForNft(script) {
  const lines = script.split('\n');
  const first = lines.filter((l) => /^add (table|set|map|chain) /.test(l));
  const rest = lines.filter((l) => /^add (rule|element) /.test(l));
  return [...first, ...rest].join('\n') + '\n';
}
