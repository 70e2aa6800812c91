// The kernel as oracle: what the kernel did to real packets (test/support/netns.ts probes) must be one
// of the outcomes a simulator predicted. Shared by the iptables and nftables kernel tests.
import { expect } from 'vitest';
import type { TraceResult } from '../../src/netfilter/types.js';
import type { ProbeResult } from './netns.js';

/**
 * Each reply names the backend that answered: it must be an accepted DNAT outcome with probability > 0,
 * masqueraded exactly when the backend saw the node's own address (`nodeAddresses`). A refusal must be
 * a REJECT verdict and a timeout a DROP.
 */
export function expectKernelAgrees(result: TraceResult, seen: readonly ProbeResult[], nodeAddresses: readonly string[]): void {
  const dnats = new Map(
    result.outcomes
      .filter((o) => o.verdict === 'accept' && o.dnat !== null)
      .map((o) => [o.dnat!.slice(0, o.dnat!.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1'), o]),
  );
  for (const r of seen) {
    if (r.kind === 'reply') {
      const o = dnats.get(r.identity);
      expect(o, `kernel reached ${r.identity}; simulator outcomes: ${[...dnats.keys()].join(', ')}`).toBeDefined();
      expect(o!.probability).toBeGreaterThan(0);
      expect(nodeAddresses.includes(r.peer)).toBe(o!.masquerade);
    } else if (r.kind === 'refused') {
      expect(result.verdict).toBe('reject');
    } else if (r.kind === 'timeout') {
      expect(result.verdict).toBe('drop');
    } else {
      throw new Error(`probe error: ${r.message}`);
    }
  }
}
