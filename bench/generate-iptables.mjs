// Writes the iptables rules kube-proxy (iptables mode, v1.30 era) programs for a list of Services, in
// `iptables-save` form: kube-proxy's chain names (sha256/base32 hashes), comments, KUBE-MARK-MASQ,
// statistic ladders, ClientIP affinity, traffic policies, NodePorts, load-balancer source ranges, and
// REJECT/DROP rules for Service ports without (local) endpoints. Used by the kernel tests, the
// benchmark and the demo snapshot. The layout follows pkg/proxy/iptables/proxier.go.
import { createHash } from 'node:crypto';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function hash16(text) {
  const bytes = createHash('sha256').update(text).digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 16) break;
  }
  return out;
}

export function servicePortName(svc, port) {
  return port.name ? `${svc.namespace}/${svc.name}:${port.name}` : `${svc.namespace}/${svc.name}`;
}

function hostPort(ip, port) {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * @param {import('./generate-iptables.d.mts').GenerateOptions} options
 * @returns {string} iptables-save text
 */
export function generateKubeProxyIptables(options) {
  const { services, podCIDR = '10.0.0.0/8' } = options;
  const isV6 = podCIDR.includes(':');
  const q = (s) => `"${s}"`;
  const filterChains = new Map();
  const natChains = new Map();
  const chain = (map, name) => {
    if (!map.has(name)) map.set(name, []);
    return map.get(name);
  };
  for (const n of ['INPUT', 'FORWARD', 'OUTPUT', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL', 'KUBE-SERVICES']) chain(filterChains, n);
  for (const n of ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-SERVICES']) chain(natChains, n);
  const f = (name, rule) => chain(filterChains, name).push(`-A ${name} ${rule}`);
  const n = (name, rule) => chain(natChains, name).push(`-A ${name} ${rule}`);

  f('INPUT', '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL');
  f('INPUT', '-m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS');
  f('INPUT', '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES');
  f('INPUT', '-j KUBE-FIREWALL');
  f('FORWARD', '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL');
  f('FORWARD', '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD');
  f('FORWARD', '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  f('FORWARD', '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES');
  f('OUTPUT', '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL');
  f('OUTPUT', '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  f('OUTPUT', '-j KUBE-FIREWALL');
  if (!isV6) f('KUBE-FIREWALL', '-m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP');
  f('KUBE-FORWARD', '-m conntrack --ctstate INVALID -j DROP');
  f('KUBE-FORWARD', '-m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT');
  f('KUBE-FORWARD', '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');

  n('PREROUTING', '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  n('OUTPUT', '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  n('POSTROUTING', '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING');
  n('KUBE-MARK-MASQ', '-j MARK --or-mark 0x4000');
  n('KUBE-POSTROUTING', '-m mark ! --mark 0x4000/0x4000 -j RETURN');
  n('KUBE-POSTROUTING', '-j MARK --xor-mark 0x4000');
  n('KUBE-POSTROUTING', '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully');

  for (const svc of services) {
    for (const port of svc.ports) {
      const proto = (port.protocol ?? 'tcp').toLowerCase();
      const spn = servicePortName(svc, port);
      const h = hash16(spn + proto);
      const svcChain = `KUBE-SVC-${h}`;
      const svlChain = `KUBE-SVL-${h}`;
      const extChain = `KUBE-EXT-${h}`;
      const fwChain = `KUBE-FW-${h}`;
      const match = `-m ${proto} -p ${proto}`;
      const eps = svc.endpoints ?? [];
      const localEps = eps.filter((e) => e.isLocal);
      const iTPLocal = svc.internalTrafficPolicy === 'Local';
      const eTPLocal = svc.externalTrafficPolicy === 'Local';
      const externals = [...(svc.externalIPs ?? []).map((ip) => ({ ip, kind: 'external IP' })), ...(svc.loadBalancerIPs ?? []).map((ip) => ({ ip, kind: 'loadbalancer IP' }))];
      const hasExternal = externals.length > 0 || port.nodePort !== undefined;
      const ranges = svc.loadBalancerSourceRanges ?? [];
      if (eps.length === 0) {
        // No endpoints at all: REJECT everywhere, no nat rules.
        f('KUBE-SERVICES', `-m comment --comment ${q(`${spn} has no endpoints`)} ${match} -d ${svc.clusterIP} --dport ${port.port} -j REJECT`);
        for (const e of externals) f('KUBE-EXTERNAL-SERVICES', `-m comment --comment ${q(`${spn} has no endpoints`)} ${match} -d ${e.ip} --dport ${port.port} -j REJECT`);
        if (port.nodePort !== undefined) f('KUBE-EXTERNAL-SERVICES', `-m comment --comment ${q(`${spn} has no endpoints`)} -m addrtype --dst-type LOCAL ${match} --dport ${port.nodePort} -j REJECT`);
        continue;
      }
      const internalChain = iTPLocal ? svlChain : svcChain;
      if (iTPLocal && localEps.length === 0) {
        f('KUBE-SERVICES', `-m comment --comment ${q(`${spn} has no local endpoints`)} ${match} -d ${svc.clusterIP} --dport ${port.port} -j DROP`);
      } else {
        n('KUBE-SERVICES', `-m comment --comment ${q(`${spn} cluster IP`)} ${match} -d ${svc.clusterIP} --dport ${port.port} -j ${internalChain}`);
      }
      const extTarget = hasExternal ? extChain : null;
      for (const e of externals) {
        if (e.kind === 'loadbalancer IP' && ranges.length > 0) n('KUBE-SERVICES', `-m comment --comment ${q(`${spn} loadbalancer IP`)} ${match} -d ${e.ip} --dport ${port.port} -j ${fwChain}`);
        else n('KUBE-SERVICES', `-m comment --comment ${q(`${spn} ${e.kind}`)} ${match} -d ${e.ip} --dport ${port.port} -j ${extTarget}`);
      }
      if (port.nodePort !== undefined) n('KUBE-NODEPORTS', `-m comment --comment ${spn} ${match} --dport ${port.nodePort} -j ${extTarget}`);
      if (svc.healthCheckNodePort !== undefined) f('KUBE-NODEPORTS', `-m comment --comment ${q(`${spn} health check node port`)} -m tcp -p tcp --dport ${svc.healthCheckNodePort} -j ACCEPT`);
      if (eTPLocal && localEps.length === 0) {
        for (const e of externals) f('KUBE-EXTERNAL-SERVICES', `-m comment --comment ${q(`${spn} has no local endpoints`)} ${match} -d ${e.ip} --dport ${port.port} -j DROP`);
        if (port.nodePort !== undefined) f('KUBE-EXTERNAL-SERVICES', `-m comment --comment ${q(`${spn} has no local endpoints`)} -m addrtype --dst-type LOCAL ${match} --dport ${port.nodePort} -j DROP`);
      }
      const writeLadder = (chainName, list) => {
        chain(natChains, chainName);
        if (chainName === internalChain) n(chainName, `-m comment --comment ${q(`${spn} cluster IP`)} ${match} -d ${svc.clusterIP} --dport ${port.port} ! -s ${podCIDR} -j KUBE-MARK-MASQ`);
        const sepOf = (e) => `KUBE-SEP-${hash16(spn + proto + hostPort(e.ip, e.port ?? port.targetPort ?? port.port))}`;
        if (svc.affinitySeconds !== undefined) {
          for (const e of list) n(chainName, `-m comment --comment ${q(`${spn} -> ${hostPort(e.ip, e.port ?? port.targetPort ?? port.port)}`)} -m recent --name ${sepOf(e)} --rcheck --seconds ${svc.affinitySeconds} --reap -j ${sepOf(e)}`);
        }
        list.forEach((e, i) => {
          const addr = hostPort(e.ip, e.port ?? port.targetPort ?? port.port);
          const stat = i < list.length - 1 ? ` -m statistic --mode random --probability ${(1 / (list.length - i)).toFixed(10)}` : '';
          n(chainName, `-m comment --comment ${q(`${spn} -> ${addr}`)}${stat} -j ${sepOf(e)}`);
        });
      };
      if (!iTPLocal || eps.length > 0) writeLadder(svcChain, eps);
      if ((iTPLocal || eTPLocal) && localEps.length > 0) writeLadder(svlChain, localEps);
      for (const e of eps) {
        const addr = hostPort(e.ip, e.port ?? port.targetPort ?? port.port);
        const sep = `KUBE-SEP-${hash16(spn + proto + addr)}`;
        if (natChains.has(sep)) continue;
        n(sep, `-m comment --comment ${spn} -s ${e.ip} -j KUBE-MARK-MASQ`);
        const affinity = svc.affinitySeconds !== undefined ? ` -m recent --name ${sep} --set` : '';
        n(sep, `-m comment --comment ${spn} ${match}${affinity} -j DNAT --to-destination ${addr}`);
      }
      if (hasExternal) {
        chain(natChains, extChain);
        if (!eTPLocal) {
          n(extChain, `-m comment --comment ${q(`masquerade traffic for ${spn} external destinations`)} -j KUBE-MARK-MASQ`);
          n(extChain, `-j ${svcChain}`);
        } else {
          n(extChain, `-m comment --comment ${q(`pod traffic for ${spn} external destinations`)} -s ${podCIDR} -j ${svcChain}`);
          n(extChain, `-m comment --comment ${q(`masquerade LOCAL traffic for ${spn} external destinations`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`);
          n(extChain, `-m comment --comment ${q(`route LOCAL traffic for ${spn} external destinations`)} -m addrtype --src-type LOCAL -j ${svcChain}`);
          if (localEps.length > 0) n(extChain, `-j ${svlChain}`);
        }
      }
      if (ranges.length > 0 && (svc.loadBalancerIPs ?? []).length > 0) {
        for (const r of ranges) n(fwChain, `-m comment --comment ${q(`${spn} loadbalancer IP`)} -s ${r} -j ${extChain}`);
        n(fwChain, `-m comment --comment ${q(`other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL`)}`);
        for (const ip of svc.loadBalancerIPs) f('KUBE-PROXY-FIREWALL', `-m comment --comment ${q(`${spn} traffic not accepted by ${fwChain}`)} ${match} -d ${ip} --dport ${port.port} -j DROP`);
      }
    }
  }
  n('KUBE-SERVICES', `-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL${isV6 ? ' ! -d ::1/128' : ''} -j KUBE-NODEPORTS`);

  const builtins = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);
  const render = (table, map) => {
    const names = [...map.keys()];
    const ordered = [...names.filter((x) => builtins.has(x)), ...names.filter((x) => !builtins.has(x)).sort()];
    const lines = [`*${table}`];
    for (const name of ordered) lines.push(`:${name} ${builtins.has(name) ? 'ACCEPT' : '-'} [0:0]`);
    for (const name of ordered) lines.push(...map.get(name));
    lines.push('COMMIT');
    return lines;
  };
  const header = `# Generated by iptables-save v1.8.9 (nf_tables) on ${options.date ?? 'Sun Nov 22 00:00:00 2026'}`;
  return [header, ...render('filter', filterChains), header.replace('Generated by', 'Completed on').replace(/ v1\.8\.9 \(nf_tables\)/, ''), header, ...render('nat', natChains), header.replace('Generated by', 'Completed on').replace(/ v1\.8\.9 \(nf_tables\)/, '')].join('\n') + '\n';
}

/** Services for the benchmark: `count` Services of `endpoints` endpoints each, every tenth with a NodePort. */
export function benchServices(count, endpoints) {
  const services = [];
  for (let i = 0; i < count; i++) {
    const svc = {
      namespace: `ns${i % 100}`,
      name: `svc${i}`,
      clusterIP: `172.30.${(i >> 8) & 255}.${i & 255}`,
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'tcp', ...(i % 10 === 0 ? { nodePort: 30000 + i / 10 } : {}) }],
      endpoints: Array.from({ length: endpoints }, (_, j) => ({ ip: `10.${(i >> 8) & 255}.${i & 255}.${j + 1}`, isLocal: j === 0 })),
    };
    services.push(svc);
  }
  return services;
}
