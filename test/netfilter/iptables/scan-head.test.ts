// The in-place reader of a rule's target (scanRuleHead) against the tokenizing reader it stands in for
// (parseRuleSpec over tokenizeRule): on every rule of kube-proxy's own dumps, on the rules of the
// generated benchmark dump's shape and on hand-made awkward lines, it either agrees exactly or declines
// (null), and it declines every line the tokenizing reader refuses.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRuleSpec, scanRuleHead, tokenizeRule, type ParsedSpec } from '../../../src/netfilter/iptables/parse.js';

const fixtures = join(import.meta.dirname, '../../fixtures/kube-proxy');

function reference(raw: string): ParsedSpec | null {
  const tokens = tokenizeRule(raw);
  if (tokens === null) return null;
  try {
    return parseRuleSpec(tokens, 2, false);
  } catch {
    return null;
  }
}

function ruleLines(): string[] {
  const lines: string[] = [];
  for (const dir of readdirSync(fixtures)) {
    const file = join(fixtures, dir, 'rules.txt');
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) if (line.startsWith('-A ')) lines.push(line.trimEnd());
  }
  return lines;
}

const AWKWARD = [
  '-A X -j DNAT --to-destination 10.0.0.1:80',
  '-A X -m comment --comment "ns/svc:p cluster IP" -m tcp -p tcp -d 172.30.0.1/32 --dport 80 -j KUBE-SVC-ABC',
  '-A X -m comment --comment "a \\"quoted\\" -j DROP word" -j ACCEPT',
  '-A X -m comment --comment "unterminated -j ACCEPT',
  '-A X -s ! 10.0.0.0/8 -j ACCEPT',
  '-A X ! -s 10.0.0.0/8 -j ACCEPT',
  '-A X ! ! -s 10.0.0.0/8 -j ACCEPT',
  '-A X -p tcp --dport 80 -j ACCEPT',
  '-A X -p tcp ! --dport 80 -j ACCEPT',
  '-A X --dport 80 -j ACCEPT',
  '-A X -p gre --dport 80 -j ACCEPT',
  '-A X -j',
  '-A X -s',
  '-A X -j ACCEPT -j DROP',
  '-A X ! -j ACCEPT',
  '-A X ! -m tcp -j ACCEPT',
  '-A X -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-X --mask 255.255.255.255 --rsource -j KUBE-SEP-X',
  '-A X -m statistic --mode random --probability 0.20000000019 -j KUBE-SEP-Y',
  '-A X -j MARK --or-mark 0x4000',
  '-A X -j MARK --or-mark',
  '-A X -j MASQUERADE --random-fully',
  '-A X -j "QUOTED"',
  '-A X -j DNAT --to-destination "10.0.0.1:80"',
  '-A X -d "10.0.0.1" -j ACCEPT',
  '-A X   -s  10.0.0.1   -j   ACCEPT  ',
  '-A X -s\t10.0.0.1 -j ACCEPT',
  '-A X -x 1 -j ACCEPT',
  '-A X word -j ACCEPT',
  '-A X -j ACCEPT !',
  '-A X -f -j DROP',
  '-A X -m addrtype --dst-type LOCAL ! --src-type LOCAL -j ACCEPT',
  '-A X -m mark ! --mark 0x4000/0x4000 -j RETURN',
  '-A X -j REJECT --reject-with icmp-port-unreachable',
  '-A X -m comment --comment "" -j ACCEPT',
  '-A X -m comment --comment "x"y -j ACCEPT',
  '-A X -m comment --comment a"b c"d -j ACCEPT',
  '-A X -s -d -j ACCEPT',
  '-A',
  '-A X',
];

describe('scanRuleHead', () => {
  it('agrees with the tokenizing reader on every rule of kube-proxy’s dumps', () => {
    const lines = ruleLines();
    expect(lines.length).toBeGreaterThan(500);
    let scanned = 0;
    for (const line of lines) {
      const scan = scanRuleHead(line, 2);
      if (scan !== null) scanned++;
      const ref = reference(line);
      expect(ref, line).not.toBeNull();
      if (scan !== null) expect(scan, line).toEqual(ref);
    }
    // The point is speed on real dumps: it must read (nearly) all of them itself.
    expect(scanned / lines.length).toBeGreaterThan(0.99);
  });

  it('agrees or declines on awkward lines, and declines every line the tokenizing reader refuses', () => {
    let declined = 0;
    for (const line of AWKWARD) {
      const scan = scanRuleHead(line, 2);
      const ref = reference(line);
      if (ref === null) expect(scan, line).toBeNull();
      if (scan !== null) expect(scan, line).toEqual(ref);
      else declined++;
    }
    // Quoted values and malformed lines are declined; plain ones are read.
    expect(declined).toBeGreaterThan(10);
    expect(declined).toBeLessThan(AWKWARD.length - 10);
  });
});
