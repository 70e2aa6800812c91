// The conntrack reader on real captures (`conntrack -L`, /proc/net/nf_conntrack), filters, stale-entry
// findings against a snapshot's endpoints, and hostile input. Speed is measured in bench/cases/conntrack.mjs.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCluster } from '../../../src/model/cluster.js';
import type { EndpointSlice, Service } from '../../../src/model/k8s.js';
import { buildServiceEndpointIndex, detachEntry, parseConntrackLine, parseConntrackText, parseConntrackWords, scanConntrack, USUAL_CONNTRACK_LINE, type ConntrackEntry } from '../../../src/netfilter/conntrack/index.js';
import { NetnsLab } from '../../support/netns.js';
import { NETNS_COMMANDS, describeNeeding } from '../../support/needs.js';

const here = new URL('./fixtures/', import.meta.url);
const lines = (name: string): string[] => readFileSync(new URL(name, here), 'utf8').split('\n');

const tuple = (e: ConntrackEntry): unknown => [e.protocol, e.state ?? null, e.original.src, e.original.dst, e.original.sport, e.original.dport, e.reply.src, e.reply.dst, e.flags, e.isDnat];

describe('parseConntrackLine', () => {
  it.each([
    [
      'conntrack -L, UDP, DNATed',
      'udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=47636 dport=53 src=10.244.0.2 dst=10.244.1.5 sport=53 dport=47636 mark=0 use=1',
      { family: 'ipv4', protocol: 'udp', protocolNumber: 17, timeout: 29, original: { src: '10.244.1.5', dst: '10.96.0.10', sport: 47636, dport: 53 }, reply: { src: '10.244.0.2', dst: '10.244.1.5', sport: 53, dport: 47636 }, flags: [], mark: 0, use: 1, isDnat: true, isSnat: false },
    ],
    [
      '/proc/net/nf_conntrack, TCP with state and zone',
      'ipv4     2 tcp      6 119 TIME_WAIT src=10.244.1.5 dst=10.96.0.10 sport=54816 dport=53 src=10.244.0.2 dst=10.244.1.5 sport=53 dport=54816 [ASSURED] mark=0 zone=0 use=2',
      { family: 'ipv4', protocol: 'tcp', protocolNumber: 6, timeout: 119, state: 'TIME_WAIT', original: { src: '10.244.1.5', dst: '10.96.0.10', sport: 54816, dport: 53 }, reply: { src: '10.244.0.2', dst: '10.244.1.5', sport: 53, dport: 54816 }, flags: ['ASSURED'], mark: 0, zone: 0, use: 2, isDnat: true, isSnat: false },
    ],
    [
      'UNREPLIED between the tuples, not DNATed',
      'udp      17 29 src=10.244.1.5 dst=10.244.0.9 sport=36884 dport=53 [UNREPLIED] src=10.244.0.9 dst=10.244.1.5 sport=53 dport=36884 mark=0 use=2',
      { family: 'ipv4', protocol: 'udp', protocolNumber: 17, timeout: 29, original: { src: '10.244.1.5', dst: '10.244.0.9', sport: 36884, dport: 53 }, reply: { src: '10.244.0.9', dst: '10.244.1.5', sport: 53, dport: 36884 }, flags: ['UNREPLIED'], mark: 0, use: 2, isDnat: false, isSnat: false },
    ],
    [
      'ICMP with type, code and id; masqueraded (reply to another address)',
      'icmp     1 29 src=10.244.1.5 dst=8.8.8.8 type=8 code=0 id=7 src=8.8.8.8 dst=172.18.0.3 type=0 code=0 id=7 mark=0 use=1',
      { family: 'ipv4', protocol: 'icmp', protocolNumber: 1, timeout: 29, original: { src: '10.244.1.5', dst: '8.8.8.8', type: 8, code: 0, id: 7 }, reply: { src: '8.8.8.8', dst: '172.18.0.3', type: 0, code: 0, id: 7 }, flags: [], mark: 0, use: 1, isDnat: false, isSnat: true },
    ],
    [
      'IPv6 from /proc',
      'ipv6     10 udp      17 25 src=fd00:10:244:1::5 dst=fd00:10:96::a sport=5000 dport=53 src=fd00:10:244::2 dst=fd00:10:244:1::5 sport=53 dport=5000 mark=0 zone=0 use=2',
      { family: 'ipv6', protocol: 'udp', protocolNumber: 17, timeout: 25, original: { src: 'fd00:10:244:1::5', dst: 'fd00:10:96::a', sport: 5000, dport: 53 }, reply: { src: 'fd00:10:244::2', dst: 'fd00:10:244:1::5', sport: 53, dport: 5000 }, flags: [], mark: 0, zone: 0, use: 2, isDnat: true, isSnat: false },
    ],
  ])('%s', (_name, line, expected) => {
    expect(parseConntrackLine(line, 7)).toEqual({ entry: { line: 7, ...expected } });
  });

  it.each([
    ['the conntrack summary line', 'conntrack v1.4.7 (conntrack-tools): 5 flow entries have been shown.'],
    ['a blank line', '   '],
  ])('%s is not an entry', (_name, line) => {
    expect(parseConntrackLine(line, 1)).toBeNull();
  });

  it.each([
    ['truncated after the first tuple', 'udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=47636 dport=53'],
    ['truncated mid-tuple', 'tcp      6 119 TIME_WAIT src=10.244.1.5 dst=10.96.0.10 sport=54816 dport=53 src=10.244.0.2'],
    ['garbled header', 'udp xx yy src=1.1.1.1 dst=2.2.2.2 src=2.2.2.2 dst=1.1.1.1'],
    ['three tuples', 'udp 17 1 src=1.1.1.1 dst=2.2.2.2 src=2.2.2.2 dst=1.1.1.1 src=3.3.3.3 dst=4.4.4.4'],
    ['only a family', 'ipv4     2'],
    ['a million characters', `udp 17 1 src=${'1'.repeat(1_000_000)}`],
  ])('%s: an error, not a crash', (_name, line) => {
    expect(parseConntrackLine(line, 3)).toHaveProperty('error');
  });
});

describe('real captures', () => {
  it('conntrack -L and /proc/net/nf_conntrack of the same moment give the same entries', async () => {
    const a = await scanConntrack(lines('conntrack-L.txt'));
    const b = await scanConntrack(lines('proc-nf_conntrack.txt'));
    expect(a.findings).toEqual([]);
    expect(b.findings).toEqual([]);
    expect(a.entries.map(tuple)).toEqual(b.entries.map(tuple));
    expect(a.entries.map(tuple)).toEqual([
      ['udp', null, '10.244.1.5', '10.96.0.10', 47636, 53, '10.244.0.2', '10.244.1.5', [], true],
      ['udp', null, '10.244.1.5', '10.96.0.10', 50225, 53, '10.244.0.2', '10.244.1.5', [], true],
      ['udp', null, '10.244.1.5', '10.96.0.10', 44099, 53, '10.244.0.2', '10.244.1.5', [], true],
      ['udp', null, '10.244.1.5', '10.244.0.9', 36884, 53, '10.244.0.9', '10.244.1.5', ['UNREPLIED'], false],
      ['tcp', 'TIME_WAIT', '10.244.1.5', '10.96.0.10', 54816, 53, '10.244.0.2', '10.244.1.5', ['ASSURED'], true],
    ]);
    expect([a.lines, a.matched, a.dnatMatched]).toEqual([7, 5, 4]);
  });

  it.each([
    ['by IP, either direction (reply source)', { ips: ['10.244.0.2'] }, [1, 2, 3, 5]],
    ['by IP does not match a longer address sharing the prefix', { ips: ['10.244.0.'] }, []],
    ['by port', { ports: [36884] }, [4]],
    ['by protocol', { protocol: 'tcp' }, [5]],
    ['by state', { state: 'time_wait' }, [5]],
    ['by flag', { state: 'UNREPLIED' }, [4]],
    ['DNATed only', { isDnatOnly: true }, [1, 2, 3, 5]],
    ['IP and protocol together', { ips: ['10.96.0.10'], protocol: 'udp' }, [1, 2, 3]],
  ])('filters %s', async (_name, filter, expectedLines) => {
    const scan = await scanConntrack(lines('conntrack-L.txt'), { filter });
    expect(scan.entries.map((e) => e.line)).toEqual(expectedLines);
    expect(scan.matched).toBe(expectedLines.length);
  });

  it('keeps at most `limit` entries but counts them all', async () => {
    const scan = await scanConntrack(lines('conntrack-L.txt'), { limit: 2 });
    expect([scan.entries.length, scan.matched, scan.isTruncated]).toEqual([2, 5, true]);
  });
});

describe('stale entries', () => {
  const svc: Service = {
    kind: 'Service',
    metadata: { name: 'kube-dns', namespace: 'kube-system' },
    spec: { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] },
  };
  const slice = (ips: string[]): EndpointSlice => ({
    kind: 'EndpointSlice',
    metadata: { name: 'kube-dns-abc', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  });
  const index = (ips: string[]): ReturnType<typeof buildServiceEndpointIndex> => buildServiceEndpointIndex({ ...emptyCluster(), services: [svc], endpointSlices: [slice(ips)] });

  it('no finding while the backend is still an endpoint; entries to the Service are named', async () => {
    const scan = await scanConntrack(lines('conntrack-L.txt'), { services: index(['10.244.0.2', '10.244.0.3']) });
    expect(scan.findings).toEqual([]);
    expect(scan.entries.map((e) => e.service ?? null)).toEqual(['kube-system/kube-dns', 'kube-system/kube-dns', 'kube-system/kube-dns', null, 'kube-system/kube-dns']);
  });

  it('UDP entries to a backend that left the EndpointSlice are errors (black-holed), TCP ones warnings', async () => {
    const scan = await scanConntrack(lines('conntrack-L.txt'), { services: index(['10.244.0.3']) });
    expect(scan.findings.map((f) => [f.code, f.severity, f.line, f.backend, f.service])).toEqual([
      ['conntrack-stale-udp', 'error', 1, '10.244.0.2', 'kube-system/kube-dns'],
      ['conntrack-stale-udp', 'error', 2, '10.244.0.2', 'kube-system/kube-dns'],
      ['conntrack-stale-udp', 'error', 3, '10.244.0.2', 'kube-system/kube-dns'],
      ['conntrack-stale-endpoint', 'warning', 5, '10.244.0.2', 'kube-system/kube-dns'],
    ]);
    expect(scan.findings[0]!.hint).toBe('delete the entry on the node: conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src 10.244.0.2');
  });
});

describe('stale NodePort entries', () => {
  it('a NodePort flow on the node address whose backend left the Service is found when the node IPs are given', async () => {
    const svc: Service = { kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'NodePort', clusterIP: '10.96.5.5', ports: [{ port: 80, nodePort: 31401, protocol: 'TCP' }] } };
    const line = 'tcp      6 86391 ESTABLISHED src=172.18.0.1 dst=172.18.0.3 sport=60444 dport=31401 src=10.244.1.9 dst=10.244.1.1 sport=8080 dport=60444 [ASSURED] mark=0 use=1';
    const cluster = { ...emptyCluster(), services: [svc] };
    expect((await scanConntrack([line], { services: buildServiceEndpointIndex(cluster) })).findings).toEqual([]);
    const scan = await scanConntrack([line], { services: buildServiceEndpointIndex(cluster, ['172.18.0.3']) });
    expect(scan.findings.map((f) => [f.code, f.service, f.backend])).toEqual([['conntrack-stale-endpoint', 'default/web', '10.244.1.9']]);
    expect(scan.findings[0]!.message).toContain('172.18.0.3:31401/tcp (NodePort)');
  });
});

describe('hostile input', () => {
  it('a stream of garbage and huge lines ends with findings, capped, and no entries', async () => {
    const junk = [...Array.from({ length: 30 }, (_, i) => `garbage ${i} === [[[`), 'x'.repeat(2_000_000)];
    const scan = await scanConntrack(junk);
    expect(scan.entries).toEqual([]);
    expect(scan.findings).toHaveLength(21);
    expect(scan.findings.at(-1)!.message).toBe('11 more lines were not conntrack entries');
  });

  it('an IP filter skips non-matching lines without parsing them (garbage without the IP is not even reported)', async () => {
    const scan = await scanConntrack(['garbage', ...lines('conntrack-L.txt')], { filter: { ips: ['10.244.0.9'] } });
    expect(scan.findings).toEqual([]);
    expect(scan.entries.map((e) => e.line)).toEqual([5]);
  });
});

describeNeeding({ root: true, commands: [...NETNS_COMMANDS, 'conntrack', 'nft'] }, 'live capture after real DNATed traffic', () => {
  const lab = new NetnsLab('ct');
  let node = '';
  let client = '';
  beforeAll(async () => {
    client = await lab.addNamespace('client');
    node = await lab.addNamespace('node');
    const server = await lab.addNamespace('server');
    await lab.addVeth({ ns: client, ifname: 'eth0', address: '10.244.1.5/24' }, { ns: node, ifname: 'c0', address: '10.244.1.1/24' });
    await lab.addVeth({ ns: server, ifname: 'eth0', address: '10.244.0.2/24' }, { ns: node, ifname: 's0', address: '10.244.0.1/24' });
    await lab.addRoute(client, 'default', { gateway: '10.244.1.1' });
    await lab.addRoute(server, 'default', { gateway: '10.244.0.1' });
    await lab.makeRouter(node);
    await lab.must(node, ['nft', '-f', '-'], 'table ip knet {\n chain pre {\n  type nat hook prerouting priority dstnat;\n  ip daddr 10.96.0.10 udp dport 53 dnat to 10.244.0.2:5353\n  ip daddr 10.96.0.10 tcp dport 53 dnat to 10.244.0.2:5353\n }\n}\n');
    await lab.startServer(server, 'dns', [5353], ['10.244.0.2']);
  }, 30_000);
  afterAll(() => lab.cleanup());

  it('conntrack -L and /proc/net/nf_conntrack both parse, with the DNAT visible in the reply tuple', async () => {
    await lab.probe(client, [
      { ip: '10.96.0.10', port: 53, protocol: 'udp', count: 3 },
      { ip: '10.96.0.10', port: 53, protocol: 'tcp', count: 2 },
    ]);
    const listed = await lab.exec(node, ['conntrack', '-L']);
    const proc = await lab.must(node, ['cat', '/proc/net/nf_conntrack']);
    for (const text of [listed.stdout + listed.stderr, proc]) {
      const scan = await scanConntrack(text.split('\n'), { filter: { ips: ['10.96.0.10'] } });
      expect(scan.findings).toEqual([]);
      expect(scan.matched).toBe(5);
      expect(scan.entries.every((e) => e.isDnat && e.reply.src === '10.244.0.2' && e.reply.sport === 5353)).toBe(true);
      expect(scan.entries.filter((e) => e.protocol === 'tcp').every((e) => e.state !== undefined)).toBe(true);
    }
  });
});

/** A file's bytes in chunks of `size`, as a read stream hands them over. */
function chunked(text: string, size: number): Uint8Array[] {
  const bytes = Buffer.from(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

describe('raw bytes, filtered before decoding', () => {
  const text = readFileSync(new URL('conntrack-L.txt', here), 'utf8');
  const filters = [{}, { ips: ['10.244.0.2'] }, { ips: ['10.244.0.9'] }, { ips: ['10.96.0.10', '10.244.0.9'] }, { ports: [36884] }, { protocol: 'tcp' }] as const;
  const sizes = [1, 7, 64, 100_000];
  it.each(filters.flatMap((filter) => sizes.map((size) => ({ filter, size }))))('the same entries and line numbers as line by line: $filter in chunks of $size', async ({ filter, size }) => {
    // Line by line as the snapshot's line reader gives them: no empty line after the final newline.
    const byLine = await scanConntrack(text.replace(/\n$/, '').split('\n'), { filter });
    const byBytes = await scanConntrack(chunked(text, size), { filter });
    expect(byBytes.entries).toEqual(byLine.entries);
    expect([byBytes.lines, byBytes.matched, byBytes.findings]).toEqual([byLine.lines, byLine.matched, byLine.findings]);
  });
  it('covers every filter and chunk size', () => {
    expect(filters.length * sizes.length).toBe(24);
  });

  it('a file without a final newline still counts and reads its last line', async () => {
    const last = 'udp      17 29 src=10.244.1.5 dst=10.244.0.9 sport=1 dport=53 src=10.244.0.9 dst=10.244.1.5 sport=53 dport=1 mark=0 use=1';
    const scan = await scanConntrack(chunked(`\n${last}`, 5), { filter: { ips: ['10.244.0.9'] } });
    expect([scan.lines, scan.entries.map((e) => e.line)]).toEqual([2, [2]]);
  });

  it('a 50 MB line is one finding, read in bounded memory, and the lines around it still count', async () => {
    const entry = 'udp      17 29 src=10.244.1.5 dst=10.244.0.9 sport=1 dport=53 src=10.244.0.9 dst=10.244.1.5 sport=53 dport=1 mark=0 use=1';
    function* stream(): Generator<Uint8Array> {
      yield Buffer.from(`${entry}\n`);
      const block = Buffer.alloc(1 << 20, 0x41);
      for (let i = 0; i < 50; i++) yield block;
      yield Buffer.from(`\n${entry}\n`);
    }
    const scan = await scanConntrack(stream());
    expect([scan.lines, scan.entries.map((e) => e.line)]).toEqual([3, [1, 3]]);
    expect(scan.findings.map((f) => [f.code, f.line])).toEqual([['conntrack-line-not-understood', 2]]);
    expect(scan.findings[0]!.message).toContain(`line is ${50 << 20} bytes long`);
  });
});

describe('IPv6 as the kernel prints it', () => {
  // /proc/net/nf_conntrack prints every IPv6 address in full (the kernel's %pI6), conntrack -L short.
  const full = 'ipv6     10 udp      17 25 src=fd00:0010:0244:0001:0000:0000:0000:0005 dst=fd00:0010:0096:0000:0000:0000:0000:000a sport=5000 dport=53 src=fd00:0010:0244:0000:0000:0000:0000:0002 dst=fd00:0010:0244:0001:0000:0000:0000:0005 sport=53 dport=5000 mark=0 zone=0 use=2';
  it.each(['fd00:10:244:1::5', 'FD00:10:244:1:0:0:0:5', 'fd00:0010:0244:0001:0000:0000:0000:0005'])('--ip %s matches the full form in /proc/net/nf_conntrack', async (ip) => {
    for (const input of [[full], chunked(`${full}\n`, 13)]) {
      const scan = await scanConntrack(input, { filter: { ips: [ip] } });
      expect(scan.entries.map((e) => e.line)).toEqual([1]);
    }
  });

  it('a stale entry written in full form is found against the short-form EndpointSlice', async () => {
    const svc: Service = { kind: 'Service', metadata: { name: 'dns', namespace: 'kube-system' }, spec: { clusterIP: 'fd00:10:96::a', ports: [{ port: 53, protocol: 'UDP' }] } };
    const cluster = { ...emptyCluster(), services: [svc] };
    const scan = await scanConntrack([full], { services: buildServiceEndpointIndex(cluster) });
    expect(scan.findings.map((f) => [f.code, f.service])).toEqual([['conntrack-stale-udp', 'kube-system/dns']]);
  });
});

describe('a million stale entries', () => {
  it('fold into one finding per Service and kind, with the count and the first examples', async () => {
    const svc: Service = { kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }] } };
    const services = buildServiceEndpointIndex({ ...emptyCluster(), services: [svc] });
    const n = 25;
    const stale = Array.from({ length: n }, (_, i) => `udp      17 29 src=10.244.1.${i} dst=10.96.0.10 sport=4000 dport=53 src=10.244.9.9 dst=10.244.1.${i} sport=53 dport=4000 mark=0 use=1`);
    const scan = await scanConntrack(stale, { services, limit: 3 });
    expect(scan.findings).toHaveLength(1);
    const f = scan.findings[0]!;
    expect([f.code, f.severity, f.service, f.count]).toEqual(['conntrack-stale-udp', 'error', 'kube-system/kube-dns', n]);
    expect((f.examples as { line: number }[]).map((e) => e.line)).toEqual([1, 2, 3, 4, 5]);
    expect(f.message).toMatch(/^25 findings like this one; the first: UDP flow 10\.244\.1\.0:4000/);
    expect([scan.entries.length, scan.matched, scan.isTruncated]).toEqual([3, n, true]);
  });
});

describe('the fast path for the usual line shape', () => {
  const real = [...lines('conntrack-L.txt'), ...lines('proc-nf_conntrack.txt')].filter((l) => l.startsWith('udp') || l.startsWith('tcp') || l.startsWith('ipv4'));
  const base = 'udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=47636 dport=53 src=10.244.0.2 dst=10.244.1.5 sport=53 dport=47636';
  const v6 = 'ipv6     10 udp      17 28 src=fd00:0010:0244:0001:0000:0000:0000:0005 dst=fd00:0010:0096:0000:0000:0000:0000:000a sport=5353 dport=53 src=fd00:0010:0244:0000:0000:0000:0000:0002 dst=fd00:0010:0244:0001:0000:0000:0000:0005 sport=53 dport=5353 mark=0 zone=0 use=2';
  const variants = [
    base,
    `${base} mark=0 use=1`,
    `${base} [ASSURED] mark=3 zone=7 use=2`,
    `${base} mark=0 mark=5 use=1`,
    `${base} use=1 mark=2`,
    `${base} mark=0 [OFFLOAD] use=1 secctx=system_u:object_r:unlabeled_t:s0`,
    `${base} [WEIRD] [SEEN_REPLY] mark=0 use=1`,
    `${base} src=1.2.3.4 dst=5.6.7.8`,
    `${base} dst=10.0.0.1`,
    `${base} mark=0 use=1\r`,
    `   ${base}`,
    `${base.replace('dport=53 src', 'dport=53 [UNREPLIED]  [ASSURED] src')}`,
    base.replace('sport=47636 dport=53', 'sport=1234567890123 dport=53'),
    base.replace('29', '0x1d'),
    base.replace('udp      17', 'conntrackx 17'),
    base.replace('udp      17 29', 'tcp      6 29 ESTABLISHED'),
    base.replace('udp      17 29', 'tcp      6 29 [UNREPLIED] SYN_SENT'),
    base.replace('udp      17 29', 'tcp      6 29 Weird_state'),
    base.replace('udp      17 29', 'ipv4     2 udp      17 29'),
    base.replace('udp      17 29', 'ipv4 x udp      17 29'),
    base.replace('udp      17 29', 'ipv4     2 17 29'),
    base.replace('src=10.244.0.2', 'src=a=b'),
    base.replace('dst=10.96.0.10', 'dst='),
    'icmp     1 29 src=10.244.1.5 dst=10.96.0.10 type=8 code=0 id=7 src=10.244.0.2 dst=10.244.1.5 type=0 code=0 id=7 mark=0 use=1',
    v6,
    'conntrack v1.4.7 (conntrack-tools): 5 flow entries have been shown.',
    '',
    'garbage',
  ];

  it('reads the real captures with the fast path', () => {
    expect(real.length).toBe(10);
    for (const line of real) {
      USUAL_CONNTRACK_LINE.lastIndex = 0;
      expect(USUAL_CONNTRACK_LINE.test(line), line).toBe(true);
    }
  });

  it.each([...real, ...variants].map((l) => [l]))('reads %j exactly as the word-by-word loop does', (line) => {
    const to = line.endsWith('\r') ? line.length - 1 : line.length;
    expect(parseConntrackText(line, 0, to, 7)).toEqual(parseConntrackWords(line, 0, to, 7));
  });

  it('reads a line in the middle of a chunk of text without reading past its end', () => {
    const text = `${base} mark=0 use=1\n${base.replace('29', '30')} mark=1 use=1\n`;
    const second = text.indexOf('\n') + 1;
    const parsed = parseConntrackText(text, second, text.length - 1, 2);
    expect(parsed && 'entry' in parsed ? [parsed.entry.timeout, parsed.entry.mark] : parsed).toEqual([30, 1]);
    // A range that ends inside the line is not read past `to`: the fast path does not match it.
    expect(parseConntrackText(text, 0, text.indexOf(' mark=0'), 1)).toEqual(parseConntrackWords(text, 0, text.indexOf(' mark=0'), 1));
  });

  it('kept entries hold their own copies of the chunk text, equal to it', () => {
    const text = `${v6}\n`.repeat(3);
    const parsed = parseConntrackText(text, 0, text.indexOf('\n'), 1);
    const e = parsed && 'entry' in parsed ? detachEntry(parsed.entry) : null;
    expect(e?.original.src).toBe('fd00:0010:0244:0001:0000:0000:0000:0005');
    expect(e?.reply.dst).toBe('fd00:0010:0244:0001:0000:0000:0000:0005');
  });
});
