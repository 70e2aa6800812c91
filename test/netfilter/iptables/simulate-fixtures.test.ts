import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../../src/netfilter/iptables/parse.js';
import { simulateIptables } from '../../../src/netfilter/iptables/simulate.js';
import type { L4Protocol } from '../../../src/netfilter/types.js';
import { loadIptablesCases, toFixtureOutput } from './fixtures.js';

const cases = loadIptablesCases();

describe("kube-proxy's packet-flow cases", () => {
  it('reads all 93 cases of the fixtures (an empty or shorter list would pass every case below)', () => {
    expect(cases).toHaveLength(93);
  });

  // Read in full and read lazily (as `rules trace` reads), the same trace.
  it.each(cases.flatMap((c) => [false, true].map((isLazy) => [`${c.dir}: ${c.name}${isLazy ? ' (lazy)' : ''}`, c, isLazy] as const)))('%s', (_label, c, isLazy) => {
    const dump = parseIptablesSave(readFileSync(c.rulesPath, 'utf8'), { mode: 'strict', isLazy });
    const result = simulateIptables(
      dump,
      { src: c.sourceIP, dst: c.destIP, dport: c.destPort, protocol: (c.protocol ?? 'tcp') as L4Protocol, hook: 'prerouting' },
      { localIPs: c.localIPs },
    );
    expect(toFixtureOutput(result)).toEqual({ output: c.output, masq: c.masq });
    const total = result.outcomes.reduce((sum, o) => sum + o.probability, 0);
    expect(total).toBeCloseTo(1, 12);
    expect(result.outcomes.every((o) => o.verdict !== 'unknown')).toBe(true);
  });
});
