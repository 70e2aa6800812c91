// kube-proxy's own packet-flow cases (test/fixtures/kube-proxy, copied from upstream; see its README), and how an outcome list reads in
// their `output`/`masq` encoding: DNAT targets in the order reached, then ACCEPT/DROP/REJECT decided
// by kube-proxy's filter chains; masq when KUBE-MARK-MASQ was crossed.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TraceResult } from '../../../src/netfilter/types.js';
import { fixturesDir as testFixtures } from '../../support/cli.js';

export const fixturesDir = join(testFixtures, 'kube-proxy');

export interface FlowCase {
  name: string;
  sourceIP: string;
  destIP: string;
  destPort: number;
  protocol?: string;
  output: string;
  masq: boolean;
}

export interface FixtureCase extends FlowCase {
  dir: string;
  rulesPath: string;
  localIPs: string[];
}

interface Meta {
  nodeIPs?: string[];
  localAddrtypeAlsoIncludes?: string[];
}

/** Every iptables case: `*\/cases.json` and `_derived/*\/cases.derived.json` (nft dumps excluded). */
export function loadIptablesCases(): FixtureCase[] {
  const out: FixtureCase[] = [];
  const dirs = [
    ...readdirSync(fixturesDir).map((d) => ({ dir: d, cases: 'cases.json' })),
    ...readdirSync(join(fixturesDir, '_derived')).map((d) => ({ dir: join('_derived', d), cases: 'cases.derived.json' })),
  ];
  for (const { dir, cases } of dirs) {
    const rulesPath = join(fixturesDir, dir, 'rules.txt');
    const casesPath = join(fixturesDir, dir, cases);
    if (!existsSync(rulesPath) || !existsSync(casesPath)) continue;
    const meta = JSON.parse(readFileSync(join(fixturesDir, dir, 'meta.json'), 'utf8')) as Meta;
    const localIPs = [...(meta.nodeIPs ?? ['192.168.0.2']), ...(meta.localAddrtypeAlsoIncludes ?? ['127.0.0.1'])];
    for (const c of JSON.parse(readFileSync(casesPath, 'utf8')) as FlowCase[]) out.push({ ...c, dir, rulesPath, localIPs });
  }
  return out;
}

const KUBE_FILTER_CHAINS = new Set(['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']);

/** A trace result in the fixtures' encoding. */
export function toFixtureOutput(result: TraceResult): { output: string; masq: boolean } {
  const terms: string[] = [];
  for (const o of result.outcomes) if (o.dnat !== null && !terms.includes(o.dnat)) terms.push(o.dnat);
  for (const o of result.outcomes) {
    for (const s of o.path) {
      if (s.table !== 'filter' || !KUBE_FILTER_CHAINS.has(s.chain)) continue;
      const word = /^(ACCEPT|DROP|REJECT)/.exec(s.effect ?? '')?.[1];
      if (word !== undefined && !terms.includes(word)) terms.push(word);
    }
  }
  return { output: terms.join(', '), masq: result.outcomes.some((o) => o.masquerade) };
}
