// nftables: parse `nft list ruleset` (text), `nft -j list ruleset` (JSON) or an `nft -f` script, and
// simulate a packet through it. The input format is detected: JSON starts with `{`.
import type { NftRuleset, ParseNftOptions } from './model.js';
import { parseNftJson } from './json.js';
import { parseNftText } from './parse.js';

export type { NftRuleset, NftTable, NftChain, NftRule, NftSet, NftElement, NftStatement, ParseNftOptions } from './model.js';
export { NftParseError } from './model.js';
export { simulateNft } from './simulate.js';

export function parseNftRuleset(text: string, options: ParseNftOptions = { mode: 'lenient' }): NftRuleset {
  return text.trimStart().startsWith('{') ? parseNftJson(text, options) : parseNftText(text, options);
}

/** Whether a dump looks like nftables (text or JSON) rather than `iptables-save` output. */
export function isNftRuleset(text: string): boolean {
  const head = text.trimStart().slice(0, 4096);
  return head.startsWith('{') || /^(table|add|flush|create|insert)\s+(ip|ip6|inet|table|chain|rule|set|map|element|ruleset)\b/m.test(head);
}
