// The in-place readers of a rule (scanRule: all of it, or its target alone; ScannedFacts: the facts the
// kube view asks for) against the tokenizing reader they stand in for (parseRuleSpec over tokenizeRule):
// on every rule of kube-proxy's own dumps and on hand-made awkward lines, each either agrees exactly or
// declines, and each declines every line the tokenizing reader refuses.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParsedFacts, ScannedFacts, type RuleFacts } from '../../../src/netfilter/iptables/facts.js';
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

/** Every fact a reader asks for, as plain values. */
function factsOf(f: RuleFacts): Record<string, unknown> {
  return {
    line: f.line,
    target: f.target(),
    isSep: f.isTarget('KUBE-SEP-', false),
    isMasq: f.isTarget('KUBE-MARK-MASQ', true),
    comment: f.comment(),
    protocol: f.protocol(),
    source: f.address('source'),
    destination: f.address('destination'),
    hasNegatedSource: f.hasNegatedSource(),
    hasSourceOrInInterface: f.hasSourceOrInInterface(),
    dport: f.dport(),
    probability: f.probability(),
    hasRecentCheck: f.hasRecentCheck(),
    recentSeconds: f.recentSeconds(),
    srcType: f.hasAddrtype('src-type'),
    dstType: f.hasAddrtype('dst-type'),
    toDestination: f.toDestination(),
  };
}

describe('ScannedFacts', () => {
  const MORE = [
    '-A X -p tcp -m tcp ! --dport 80 -m udp --dport 53 -j ACCEPT',
    '-A X -m tcp --destination-port 80 --dport x -p tcp -j ACCEPT',
    '-A X -p tcp -m multiport --dports 80 -m tcp --destination-port 8080 -j ACCEPT',
    '-A X -m statistic --mode random -m statistic --probability 0.5 -j KUBE-SEP-A',
    '-A X -m statistic --mode random --probability abc -j KUBE-SEP-A',
    '-A X -m recent --set --name a -m recent --rcheck --seconds 5 -j KUBE-SEP-A',
    '-A X -m recent --rcheck --seconds 5 --seconds 7 -j KUBE-SEP-A',
    '-A X -s 10.0.0.1/32 ! -s 10.0.0.2 -d 2001:db8::1/128 -d 10.0.0.9 -j KUBE-MARK-MASQ',
    '-A X -i eth0 -j KUBE-MARK-MASQ',
    '-A X -j KUBE-MARK-MASQ-NOT',
    '-A X -j DNAT --to-destination 10.0.0.1:80 --to-destination 10.0.0.2:80',
    '-A X -m comment --comment "ns/svc:p cluster IP" -p TCP --dport 80 -j KUBE-SVC-ABC',
    '-A X -p "tcp" --dport "80" -m addrtype --src-type LOCAL -j "KUBE-SEP-Q"',
    '-A X -m comment --comment "a b"  c -j ACCEPT',
    '-A X -m addrtype ! --dst-type LOCAL -j KUBE-NODEPORTS',
    '-A X -p tcp -m tcp --dport 80 --dport 81 -j ACCEPT',
    '-A X ! -d 10.0.0.1 -d 10.0.0.2 ! -p udp -p tcp -j ACCEPT',
  ];

  it('gives what the tokenizing reader gives, on every rule of kube-proxy’s dumps and on awkward lines', () => {
    const lines = [...ruleLines(), ...AWKWARD, ...MORE];
    const f = new ScannedFacts();
    let scanned = 0;
    for (const [i, line] of lines.entries()) {
      const ref = reference(line, true);
      const isRead = f.scan(line, 0, line.length, 2, i + 1);
      if (ref === null) expect(isRead, line).toBe(false);
      if (!isRead) continue;
      scanned++;
      expect(factsOf(f), line).toEqual(factsOf(new ParsedFacts(ref!, i + 1)));
    }
    expect(scanned).toBeGreaterThan(lines.length - AWKWARD.length);
  });

  it('reads kube-proxy’s rules itself, and the same rule in a larger text as on its own', () => {
    const f = new ScannedFacts();
    for (const line of ruleLines()) expect(f.scan(line, 0, line.length, 2, 1), line).toBe(true);
    const line = '-A KUBE-SVC-X -m comment --comment "ns/svc:p -> 10.0.0.1:80" -m statistic --mode random --probability 0.25 -j KUBE-SEP-Y';
    const text = `junk\n${line}\njunk`;
    const from = text.indexOf(line);
    expect(f.scan(text, from, from + line.length, 2, 7)).toBe(true);
    const inText = factsOf(f);
    f.scan(line, 0, line.length, 2, 7);
    expect(inText).toEqual(factsOf(f));
    expect(inText).toMatchObject({ target: 'KUBE-SEP-Y', isSep: true, probability: 0.25, comment: 'ns/svc:p -> 10.0.0.1:80' });
  });
});
