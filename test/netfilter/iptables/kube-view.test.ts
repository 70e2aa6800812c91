import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateKubeProxyIptables } from '../../../bench/generate-iptables.mjs';
import { buildKubeView, chooseBackend, servicePortChainName, servicePortEndpointChainName } from '../../../src/netfilter/iptables/kube-view.js';
import { parseIptablesSave } from '../../../src/netfilter/iptables/parse.js';
import { fixturesDir } from './fixtures.js';

function view(text: string, known?: { servicePortName: string; protocol: string }[]) {
  return buildKubeView(parseIptablesSave(text, { mode: 'strict' }), known ? { knownServicePorts: known } : {});
}

describe("kube-proxy's chain names", () => {
  it.each([
    ['KUBE-SVC-', 'ns1/svc1:p80', 'tcp', 'KUBE-SVC-XPGD46QRK7WJZT7O'],
    ['KUBE-EXT-', 'ns2/svc2:p80', 'tcp', 'KUBE-EXT-GNZBNJ2PO5MGZ6GT'],
    ['KUBE-FW-', 'ns5/svc5:p80', 'tcp', 'KUBE-FW-NUKIZ6OKUXPJNT4C'],
  ] as const)('%s%s%s → %s (as in kube-proxy\'s dumps)', (prefix, spn, proto, chain) => {
    expect(servicePortChainName(prefix, spn, proto)).toBe(chain);
  });

  it('hashes endpoints with the endpoint address', () => {
    expect(servicePortEndpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });
});

describe('buildKubeView', () => {
  it('reads each statistic probability, in kube-proxy\'s form and in others', () => {
    const svc = servicePortChainName('KUBE-SVC-', 'a/s:p', 'tcp');
    const seps = ['A', 'B', 'C', 'D', 'E'].map((x) => `KUBE-SEP-${x.repeat(16)}`);
    const ladder = [
      '-m comment --comment "a/s:p -> 10.0.0.1:80" -m statistic --mode random --probability 0.25',
      '-m comment --comment "--probability 0.9 -m statistic" -m statistic --mode random --probability 0.5',
      '-m statistic  --mode random --probability 2e-01',
      '-m statistic --mode random --probability 0.5\t',
      '',
    ];
    const text = [
      '*nat',
      ':KUBE-SERVICES - [0:0]',
      `:${svc} - [0:0]`,
      ...seps.map((c) => `:${c} - [0:0]`),
      `-A KUBE-SERVICES -m comment --comment "a/s:p cluster IP" -m tcp -p tcp -d 10.96.0.1/32 --dport 80 -j ${svc}`,
      ...ladder.map((m, i) => `-A ${svc} ${m}${m === '' ? '' : ' '}-j ${seps[i]}`),
      ...seps.map((c, i) => `-A ${c} -m tcp -p tcp -j DNAT --to-destination 10.0.0.${i + 1}:80`),
      'COMMIT',
      '',
    ].join('\n');
    for (const isLazy of [false, true]) {
      const v = buildKubeView(parseIptablesSave(text, { mode: 'strict', isLazy }));
      const shares = v.servicePorts[0]!.endpoints.map((e) => Number(e.probability.toFixed(6)));
      // 0.25; 0.75 × 0.5; 0.375 × 0.2; 0.3 × 0.5 (the tab ends the number as a space does); the rest.
      expect(shares).toEqual([0.25, 0.375, 0.075, 0.15, 0.15]);
    }
  });

  it('reads traffic policies, local endpoints and source ranges (TestOnlyLocalLoadBalancing)', () => {
    const v = view(readFileSync(`${fixturesDir}/iptables-1.26-TestOnlyLocalLoadBalancing/rules.txt`, 'utf8'));
    const sp = v.servicePorts.find((s) => s.servicePortName === 'ns1/svc1:p80')!;
    expect(sp.externalTrafficPolicy).toBe('Local');
    expect(sp.endpoints.length).toBeGreaterThan(sp.localEndpoints.length);
    expect(sp.localEndpoints.every((e) => e.isHashVerified)).toBe(true);
    expect(sp.endpoints.reduce((s, e) => s + e.probability, 0)).toBeCloseTo(1, 9);
  });

  it('reads ClientIP affinity, LB source ranges, iTP=Local drops and health-check NodePorts from a generated dump', () => {
    const text = generateKubeProxyIptables({
      services: [
        { namespace: 'a', name: 'sticky', clusterIP: '10.96.0.5', affinitySeconds: 600, ports: [{ name: 'http', port: 80 }], endpoints: [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }, { ip: '10.244.0.7' }] },
        { namespace: 'a', name: 'lb', clusterIP: '10.96.0.6', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, loadBalancerIPs: ['1.2.3.4'], loadBalancerSourceRanges: ['203.0.113.0/25'], ports: [{ port: 443, nodePort: 31443 }], endpoints: [{ ip: '10.244.0.8', isLocal: true }] },
        { namespace: 'a', name: 'local', clusterIP: '10.96.0.7', internalTrafficPolicy: 'Local', ports: [{ name: 'dns', port: 53, protocol: 'udp' }], endpoints: [{ ip: '10.244.0.9' }] },
      ],
    });
    const v = view(text);
    expect(v.findings).toEqual([]);
    const [lb, local, sticky] = v.servicePorts;
    expect(sticky).toMatchObject({ servicePortName: 'a/sticky:http', affinitySeconds: 600 });
    expect(sticky!.endpoints.map((e) => Number(e.probability.toFixed(6)))).toEqual([0.333333, 0.333333, 0.333333]);
    expect(lb).toMatchObject({
      servicePortName: 'a/lb',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
      loadBalancerIPs: ['1.2.3.4:443'],
      loadBalancerSourceRanges: ['203.0.113.0/25'],
      nodePorts: [31443],
    });
    expect(lb!.localEndpoints.map((e) => e.address)).toEqual(['10.244.0.8:443']);
    expect(local).toMatchObject({ servicePortName: 'a/local:dns', protocol: 'udp', internalTrafficPolicy: 'Local', clusterIPs: ['10.96.0.7:53'] });
    expect(local!.noEndpoints).toEqual([{ verdict: 'drop', destination: '10.96.0.7:53', reason: 'has no local endpoints', chain: 'KUBE-SERVICES', line: expect.any(Number) as number }]);
  });

  it('names chains without comments from the hash of known Service ports', () => {
    const text = generateKubeProxyIptables({ services: [{ namespace: 'x', name: 'y', clusterIP: '10.96.1.1', ports: [{ name: 'p', port: 80 }], endpoints: [{ ip: '10.244.1.1' }] }] })
      .replace(/-m comment --comment ("[^"]*"|\S+) /g, '');
    expect(view(text).servicePorts.map((s) => [s.servicePortName, s.nameSource])).toEqual([[expect.stringMatching(/^\?\//), 'unknown']]);
    const named = view(text, [{ servicePortName: 'x/y:p', protocol: 'TCP' }]);
    expect(named.servicePorts.map((s) => [s.servicePortName, s.nameSource, s.endpoints[0]!.isHashVerified])).toEqual([['x/y:p', 'hash', true]]);
  });
});

describe('chooseBackend', () => {
  const hinted = '*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n';
  const kube = '*nat\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n-A KUBE-SERVICES -j RETURN\nCOMMIT\n';
  it.each([
    ['the hint chain in nft', kube, hinted, 'nft'],
    ['the hint chain in legacy only', hinted + kube, kube, 'legacy'],
    ['no hints, more legacy rules', kube, '*nat\nCOMMIT\n', 'legacy'],
    ['no hints, more nft rules', '*nat\nCOMMIT\n', kube, 'nft'],
    ['no hints, a tie: legacy', kube, kube, 'legacy'],
    ['only an nft dump', null, kube, 'nft'],
  ] as const)('%s → %s', (_name, legacy, nft, backend) => {
    expect(chooseBackend(legacy, nft).backend).toBe(backend);
  });

  it('flags split-brain when both backends hold kube-proxy chains', () => {
    expect(chooseBackend(kube, kube + hinted)).toMatchObject({ backend: 'nft', isSplitBrain: true, legacyRules: 2, nftRules: 2 });
  });
});
