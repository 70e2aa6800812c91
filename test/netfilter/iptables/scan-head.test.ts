// The in-place reader of a rule (scanRule: all of it, or its target alone) against the tokenizing reader
// it stands in for (parseRuleSpec over tokenizeRule): on every rule of kube-proxy's own dumps and on
// hand-made awkward lines, it either agrees exactly or declines (null), and it declines every line the
// tokenizing reader refuses.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRuleSpec, scanRule, tokenizeRule, type ParsedSpec } from '../../../src/netfilter/iptables/parse.js';

const fixtures = join(import.meta.dirname, '../../fixtures/kube-proxy');

function reference(raw: string, isCollecting: boolean): ParsedSpec | null {
  const tokens = tokenizeRule(raw);
  if (tokens === null) return null;
  try {
    return parseRuleSpec(tokens, 2, isCollecting);
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
  '-A X -m comment --comment "x \\\\ y" -j ACCEPT',
  '-A X -m comment --comment two words -j ACCEPT',
  '-A X -m comment --comment one -m comment --comment two -j ACCEPT',
  '-A X -p TCP -m tcp --dport 80 -j ACCEPT',
  '-A X -p tcp -m multiport --dports 80,443 -i eth0 ! -o lo -j ACCEPT',
  '-A',
  '-A X',
  // Words looked at ahead and put back (a "!" after an option, a value list ending at an option).
  '-A X -s ! "10.0.0.1" -j ACCEPT',
  '-A X -s !\t10.0.0.1 -j ACCEPT',
  '-A X -s !',
  '-A X -s ! -j ACCEPT',
  '-A X -m comment --comment ! -j ACCEPT',
  '-A X -m comment --comment "a" ! -j ACCEPT',
  '-A X -m tcp -p tcp --dport 80 "-j" ACCEPT',
  '-A X -m multiport --dports 80 443 ! --sports 1 -j ACCEPT',
  '-A X -m comment --comment "a\tb" -j ACCEPT',
];

describe.each([false, true])('scanRule (collecting: %s)', (isCollecting) => {
  it('agrees with the tokenizing reader on every rule of kube-proxy’s dumps', () => {
    const lines = ruleLines();
    expect(lines.length).toBeGreaterThan(500);
    let scanned = 0;
    for (const line of lines) {
      const scan = scanRule(line, 2, isCollecting);
      if (scan !== null) scanned++;
      const ref = reference(line, isCollecting);
      expect(ref, line).not.toBeNull();
      if (scan !== null) expect(scan, line).toEqual(ref);
    }
    // The point is speed on real dumps: it must read them all itself.
    expect(scanned).toBe(lines.length);
  });

  it('agrees or declines on awkward lines, and declines every line the tokenizing reader refuses', () => {
    let declined = 0;
    for (const line of AWKWARD) {
      const scan = scanRule(line, 2, isCollecting);
      const ref = reference(line, isCollecting);
      if (ref === null) expect(scan, line).toBeNull();
      if (scan !== null) expect(scan, line).toEqual(ref);
      else declined++;
    }
    // Malformed lines and escapes in quotes are declined; the rest, quoted words included, are read.
    expect(declined).toBeGreaterThan(10);
    expect(declined).toBeLessThan(AWKWARD.length - 15);
  });

  it('reads the same rule in a larger text as on its own', () => {
    const line = '-A KUBE-SVC-X -m comment --comment "ns/svc:p cluster IP" ! -s 10.0.0.0/8 -d 172.30.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ';
    const text = `junk before\n${line}\njunk after`;
    const from = text.indexOf(line);
    expect(scanRule(text, 2, isCollecting, from, from + line.length)).toEqual(reference(line, isCollecting));
  });
});
