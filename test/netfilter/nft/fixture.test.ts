// kube-proxy's TestOverallNFTablesRules ruleset, in three forms (the knftables transaction kube-proxy
// writes, and what the kernel printed back with `nft list ruleset` and `nft -j list ruleset`), must
// give the same answer for every packet-flow case derived from the upstream tracer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNftRuleset, simulateNft } from '../../../src/netfilter/nft/index.js';
import type { TraceResult } from '../../../src/netfilter/types.js';
import { fixturesDir } from '../../support/cli.js';
import type { FlowCase } from '../iptables/fixtures.js';

const dir = join(fixturesDir, 'kube-proxy/_derived/nftables-TestOverallNFTablesRules');
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { nodeIPs: string[] };
const cases = JSON.parse(readFileSync(join(dir, 'cases.derived.json'), 'utf8')) as FlowCase[];
const here = new URL('./fixtures/', import.meta.url);
const forms = {
  'knftables transaction (rules.nft)': readFileSync(join(dir, 'rules.nft'), 'utf8'),
  'nft list ruleset': readFileSync(new URL('overall-list-ruleset.txt', here), 'utf8'),
  'nft -j list ruleset': readFileSync(new URL('overall-list-ruleset.json', here), 'utf8'),
};

/** The upstream tracer's `output`: DNAT targets joined, or the filter verdict, or "" for no effect. */
export function upstreamOutput(r: TraceResult): string {
  const verdicts = new Set(r.outcomes.map((o) => o.verdict));
  if (verdicts.has('drop')) return 'DROP';
  if (verdicts.has('reject')) return 'REJECT';
  return r.outcomes.flatMap((o) => (o.dnat ? [o.dnat] : [])).join(', ');
}

it('reads the 15 cases of the fixture', () => {
  expect(cases).toHaveLength(15);
});

describe.each(Object.entries(forms))('TestOverallNFTablesRules as %s', (_form, text) => {
  const ruleset = parseNftRuleset(text, { mode: 'strict' });

  it('parses without findings', () => {
    expect(ruleset.findings).toEqual([]);
    expect(ruleset.tables.map((t) => `${t.family} ${t.name}`)).toEqual(['ip kube-proxy']);
  });

  it.each(cases)('$name: $sourceIP → $destIP:$destPort gives "$output" (masq $masq)', (c) => {
    const r = simulateNft(
      ruleset,
      { src: c.sourceIP, dst: c.destIP, dport: c.destPort, protocol: (c.protocol ?? 'tcp') as 'tcp', hook: 'prerouting' },
      { localIPs: meta.nodeIPs },
    );
    expect(upstreamOutput(r)).toEqual(c.output);
    expect(r.outcomes.some((o) => o.masquerade)).toEqual(c.masq);
    expect(r.outcomes.every((o) => o.verdict !== 'unknown')).toBe(true);
    expect(r.outcomes.reduce((s, o) => s + o.probability, 0)).toBeCloseTo(1, 10);
  });
});

describe.each(Object.entries(forms))('TestOverallNFTablesRules as %s, read lazily', (_form, text) => {
  const eager = parseNftRuleset(text, { mode: 'strict' });
  const lazy = parseNftRuleset(text, { mode: 'strict', isLazy: true });

  it.each(cases)('$name: the same trace as the eager read, path and assumptions included', (c) => {
    const packet = { src: c.sourceIP, dst: c.destIP, dport: c.destPort, protocol: (c.protocol ?? 'tcp') as 'tcp', hook: 'prerouting' as const };
    expect(simulateNft(lazy, packet, { localIPs: meta.nodeIPs })).toEqual(simulateNft(eager, packet, { localIPs: meta.nodeIPs }));
  });

  it('has no findings and the same tables, chains, hooks and sets', () => {
    expect(lazy.findings).toEqual([]);
    expect(JSON.parse(JSON.stringify(lazy))).toEqual(JSON.parse(JSON.stringify(eager)));
  });
});

describe('reading lazily', () => {
  // A chain no packet of the test reaches jumps to a chain that does not exist.
  const dump = [
    'table ip kube-proxy {',
    '  chain pre {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    '    ip daddr 10.96.0.1 jump broken',
    '    ip daddr 10.96.0.2 jump fine',
    '  }',
    '  chain broken {',
    '    jump nowhere',
    '  }',
    '  chain fine {',
    '    meta l4proto tcp dnat to 10.244.0.2:80',
    '  }',
    '}',
  ].join('\n');
  const packet = (dst: string) => ({ src: '10.0.0.2', dst, dport: 80, protocol: 'tcp' as const, hook: 'prerouting' as const });

  it('reports a jump to a missing chain only when the packet reaches it (strict: thrown)', () => {
    expect(() => parseNftRuleset(dump, { mode: 'strict' })).toThrow(/chain broken jumps to "nowhere", which does not exist/);
    const ruleset = parseNftRuleset(dump, { mode: 'strict', isLazy: true });
    expect(simulateNft(ruleset, packet('10.96.0.2'), { localIPs: [] }).outcomes.map((o) => o.dnat)).toEqual(['10.244.0.2:80']);
    expect(() => simulateNft(ruleset, packet('10.96.0.1'), { localIPs: [] })).toThrow(/line 8: chain broken jumps to "nowhere", which does not exist/);
  });

  it('reports it as a finding of the trace in lenient mode, as the eager read does', () => {
    const eager = parseNftRuleset(dump, { mode: 'lenient' });
    const lazy = parseNftRuleset(dump, { mode: 'lenient', isLazy: true });
    expect(simulateNft(lazy, packet('10.96.0.2'), { localIPs: [] }).findings).toEqual([]);
    const r = simulateNft(lazy, packet('10.96.0.1'), { localIPs: [] });
    expect(r.findings).toEqual(eager.findings);
    expect(r).toEqual(simulateNft(eager, packet('10.96.0.1'), { localIPs: [] }));
  });
});

describe('paths and probabilities', () => {
  const ruleset = parseNftRuleset(forms['nft list ruleset'], { mode: 'strict' });
  it('splits numgen mod 2 into two outcomes of 1/2, each naming the endpoint chain and the DNAT rule', () => {
    const r = simulateNft(ruleset, { src: '10.0.0.2', dst: '172.30.0.44', dport: 80, protocol: 'tcp', hook: 'prerouting' }, { localIPs: meta.nodeIPs });
    expect(r.verdict).toEqual('accept');
    expect(r.outcomes.map((o) => [o.probability, o.dnat])).toEqual([
      [0.5, '10.180.0.4:80'],
      [0.5, '10.180.0.5:80'],
    ]);
    const dnatStep = r.outcomes[0]!.path.find((p) => p.effect?.startsWith('DNAT'));
    expect(dnatStep).toEqual({
      table: 'ip kube-proxy',
      chain: 'endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80',
      rule: 'meta l4proto tcp dnat to 10.180.0.4:80',
      line: 204,
      effect: 'DNAT to 10.180.0.4:80',
    });
  });

  it('answers the node-originated path (output hook) too', () => {
    const r = simulateNft(ruleset, { src: '192.168.0.2', dst: '172.30.0.41', dport: 80, protocol: 'tcp', hook: 'output' }, { localIPs: meta.nodeIPs });
    expect(r.outcomes.map((o) => [o.verdict, o.dnat, o.masquerade])).toEqual([['accept', '10.180.0.1:80', true]]);
  });
});
