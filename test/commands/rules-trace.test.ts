import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKnet, runKnetJson } from '../support/cli.js';
import { fixturesDir, loadIptablesCases, toFixtureOutput } from '../netfilter/iptables/fixtures.js';
import type { TraceResult } from '../../src/netfilter/types.js';

const demoDump = 'examples/demo/nodes/kind-worker/iptables-save.txt';

// A few of kube-proxy's own flow cases through the built CLI (all of them run through the engine in
// test/netfilter/iptables/simulate-fixtures.test.ts).
const cases = loadIptablesCases().filter((c) => c.dir === 'iptables-TestTracePacket' || c.dir === 'iptables-1.26-TestLoadBalancer');

describe('knet rules trace', () => {
  it('reads the 20 cases of those two fixtures', () => {
    expect(cases).toHaveLength(20);
  });

  it.each(cases.map((c) => [`${c.dir}: ${c.name}`, c] as const))('%s', async (_name, c) => {
    const args = ['rules', 'trace', '--file', c.rulesPath, '--src', c.sourceIP, '--dst', c.destIP, '--dport', String(c.destPort), '--proto', c.protocol ?? 'tcp', ...c.localIPs.flatMap((ip) => ['--local-ip', ip])];
    const { json, code } = await runKnetJson<TraceResult>(args);
    expect(toFixtureOutput(json)).toEqual({ output: c.output, masq: c.masq });
    expect(code).toBe(json.verdict === 'accept' ? 0 : 1);
    for (const o of json.outcomes) {
      expect(Object.keys(o)).toEqual(expect.arrayContaining(['probability', 'verdict', 'dnat', 'masquerade', 'path']));
      for (const s of o.path) expect(Object.keys(s)).toEqual(expect.arrayContaining(['table', 'chain', 'rule', 'line']));
    }
  });

  it('explains a NodePort of the demo snapshot in Service terms', async () => {
    const r = await runKnet(['rules', 'trace', '--file', demoDump, '--src', '203.0.113.9', '--dst', '172.18.0.3', '--dport', '31401', '--local-ip', '172.18.0.3', '--no-color']);
    expect(r.code).toBe(0);
    const first = r.stdout.split('\n')[0];
    expect(first).toBe('NodePort 172.18.0.3:31401 (default/xecho) → 2 endpoints: 10.244.1.5:8080 50%, 10.244.2.6:8080 50%');
    expect(r.stdout).toContain('masqueraded because nat KUBE-EXT-2CAEAQQOZJHYNPO5 line 71 matched ("masquerade traffic for default/xecho external destinations")');
  });

  it('writes IPv6 addresses with their port in brackets, and warns that an IPv4 dump never sees an IPv6 packet', async () => {
    const r = await runKnet(['rules', 'trace', '--file', demoDump, '--src', 'fd00::1', '--sport', '5555', '--dst', 'fd00::2', '--dport', '80', '--no-color']);
    const [first, second] = r.stdout.split('\n');
    expect(first).toMatch(/^\[fd00::2\]:80 → /);
    expect(second).toMatch(/^ {2}TCP from \[fd00::1\]:5555;/);
    expect(r.stdout).toContain("iptables-family-mismatch: the packet is IPv6 but the dump's addresses are IPv4: use the ip6tables-save dump");
  });

  it('exits 1 and names the REJECT rule for a Service without endpoints', async () => {
    const r = await runKnet(['rules', 'trace', '--file', demoDump, '--src', '10.244.1.5', '--dst', '10.96.45.20', '--dport', '80', '--no-color']);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/^ClusterIP 10\.96\.45\.20:80 \(default\/web:http\) → rejected by filter KUBE-SERVICES line \d+ \("default\/web:http has no endpoints"\)$/);
  });

  it.each([
    ['a bad IP', ['--src', 'nope', '--dst', '10.96.0.10', '--dport', '53'], 'bad-ip', /--src "nope" is not an IP address/],
    ['a missing file', ['--file', '/nonexistent/dump.txt', '--src', '10.0.0.1', '--dst', '10.96.0.10', '--dport', '53'], 'file-unreadable', /cannot read --file \/nonexistent\/dump.txt: it does not exist/],
    // It used to say "accepted", exit 0: no Service rule matches a packet without a port.
    ['no --dport (it said "accepted")', ['--src', '10.244.1.5', '--dst', '10.96.0.10'], 'dport-required', /--dport is required for tcp/],
    ['a network for an address', ['--src', '10.244.1.5/24', '--dst', '10.96.0.10', '--dport', '53'], 'bad-ip', /--src "10.244.1.5\/24" is a network, not one address/],
  ])('exits 2 on %s', async (_name, args, code, message) => {
    const full = args.includes('--file') ? args : ['--file', demoDump, ...args];
    const r = await runKnet(['rules', 'trace', ...full, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code, exitCode: 2 } });
  });

  it('takes --protocol UDP as trace and explain-policy spell it, the same as --proto udp', async () => {
    const args = ['rules', 'trace', '--file', demoDump, '--src', '10.244.1.5', '--dst', '10.96.0.10', '--dport', '53', '--json'];
    const proto = await runKnet([...args, '--proto', 'udp']);
    const protocol = await runKnet([...args, '--protocol', 'UDP']);
    expect(proto.code).toBe(0);
    expect(protocol.stdout).toBe(proto.stdout);
    expect(JSON.parse(proto.stdout)).toMatchObject({ packet: { protocol: 'udp' } });
  });

  it('simulates IPVS mode with --ipvs and --ipset: ipset-driven masquerade, one outcome per real server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'knet-ipvs-'));
    writeFileSync(join(dir, 'ipvsadm.txt'), ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn', 'TCP  10.96.0.10:53 rr', '  -> 10.244.0.2:53                Masq    1      0          0', '  -> 10.244.0.3:53                Masq    3      0          0', ''].join('\n'));
    writeFileSync(join(dir, 'ipset.txt'), ['Name: KUBE-CLUSTER-IP', 'Type: hash:ip,port', 'Revision: 6', 'Header: family inet hashsize 1024 maxelem 65536', 'Size in memory: 344', 'References: 2', 'Number of entries: 1', 'Members:', '10.96.0.10,tcp:53', ''].join('\n'));
    writeFileSync(join(dir, 'iptables.txt'), ['*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-MARK-MASQ - [0:0]', ':KUBE-SERVICES - [0:0]', '-A PREROUTING -j KUBE-SERVICES', '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000', '-A KUBE-SERVICES ! -s 10.244.0.0/16 -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ', '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT', 'COMMIT', ''].join('\n'));
    const args = ['rules', 'trace', '--file', join(dir, 'iptables.txt'), '--ipvs', join(dir, 'ipvsadm.txt'), '--ipset', join(dir, 'ipset.txt'), '--dport', '53'];
    const fromNode = await runKnetJson<TraceResult>([...args, '--src', '172.18.0.5', '--dst', '10.96.0.10']);
    expect(fromNode.code).toBe(0);
    expect(fromNode.json.outcomes.map((o) => [o.probability, o.dnat, o.masquerade])).toEqual([
      [0.25, '10.244.0.2:53', true],
      [0.75, '10.244.0.3:53', true],
    ]);
    const fromPod = await runKnetJson<TraceResult>([...args, '--src', '10.244.1.7', '--dst', '10.96.0.10']);
    expect(fromPod.json.outcomes.map((o) => o.masquerade)).toEqual([false, false]);
  });

  it('detects and simulates an nftables dump (kube-proxy nftables mode)', async () => {
    const file = `${fixturesDir}/_derived/nftables-TestOverallNFTablesRules/rules.nft`;
    const { json, code } = await runKnetJson<TraceResult>(['rules', 'trace', '--file', file, '--src', '10.0.0.2', '--dst', '172.30.0.41', '--dport', '80', '--local-ip', '192.168.0.2']);
    expect(code).toBe(0);
    expect(json.format).toBe('nftables');
    expect(json.outcomes.map((o) => o.dnat)).toEqual(['10.180.0.1:80']);
  });

  it('exits 2 with the line on a malformed dump, and reads past it with --lenient', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'knet-rules-'));
    const file = join(dir, 'bad.txt');
    writeFileSync(file, '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp --dport\n-A FORWARD -d 10.96.0.10/32 -j REJECT\nCOMMIT\n');
    const strict = await runKnet(['rules', 'trace', '--file', file, '--src', '10.0.0.1', '--dst', '10.96.0.10', '--dport', '80']);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain('line 4: --dport needs an argument: -A FORWARD -p tcp --dport');
    const lenient = await runKnetJson<TraceResult>(['rules', 'trace', '--file', file, '--src', '10.0.0.1', '--dst', '10.96.0.10', '--dport', '80', '--lenient']);
    expect(lenient.code).toBe(1);
    expect(lenient.json.verdict).toBe('reject');
    expect(lenient.json.findings).toEqual([expect.objectContaining({ code: 'iptables-bad-rule', severity: 'error', line: 4 })]);
  });
  it("takes the interfaces from the routes beside a snapshot's dump, or from --in-interface/--out-interface", async () => {
    const base = ['rules', 'trace', '--file', demoDump, '--src', '10.244.1.5', '--dst', '10.96.200.7', '--dport', '8080'];
    const derived = await runKnetJson<TraceResult>(base);
    expect(derived.json.assumptions).toEqual(
      expect.arrayContaining([
        "input interface veth2f1e8c3a: the node's route back to the source 10.244.1.5: 10.244.1.5 dev veth2f1e8c3a scope host",
        "output interface eth0: the node's route to 10.96.200.7: default via 172.18.0.1 dev eth0",
        "the node's routes and addresses: examples/demo/nodes/kind-worker/ip-route.txt, examples/demo/nodes/kind-worker/ip-addr.txt",
      ]),
    );
    const given = await runKnetJson<TraceResult>([...base, '--in-interface', 'cni0', '--out-interface', 'eth1']);
    expect(given.json.packet).toMatchObject({ inInterface: 'cni0', outInterface: 'eth1' });
    expect(given.json.assumptions.some((a) => a.startsWith('input interface') || a.startsWith('output interface'))).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'knet-rules-'));
    const file = join(dir, 'iptables-save.txt');
    writeFileSync(file, '*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n');
    const args = ['rules', 'trace', '--file', file, '--src', '10.244.1.5', '--dst', '8.8.8.8', '--dport', '53'];
    const unknown = await runKnetJson<TraceResult>(args);
    expect(unknown.json.outcomes.map((o) => o.masquerade)).toEqual([false]);
    expect(unknown.json.assumptions).toContain("the node's routes are not known (no --routes, no ip-route.txt beside the dump): interfaces not given were left unknown");
    const routed = await runKnetJson<TraceResult>([...args, '--routes', 'examples/demo/nodes/kind-worker/ip-route.txt']);
    expect(routed.json.outcomes.map((o) => o.masquerade)).toEqual([true]);
    const out = await runKnetJson<TraceResult>([...args, '--out-interface', 'eth0']);
    expect(out.json.outcomes.map((o) => o.masquerade)).toEqual([true]);
  });
});
