// A hostile DNS server on 127.0.0.1 (UDP and TCP, written here): truncated packets, compression loops,
// wrong IDs, oversized and empty answers, no answer at all. Each must come back as a clear
// dns-server-failure naming the server, never a crash or a hang.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDnsIndex, planResolver, resolveName, type DnsReport } from '../../src/dns/index.js';
import { emptyCluster } from '../../src/model/cluster.js';
import { SocketDnsTransport } from '../../src/sources/dns-transport.js';
import { examplesDir, runKnet } from '../support/cli.js';

/** What the server does for each name (the first label), over UDP and over TCP. */
function reply(query: Buffer, isTcp: boolean): Buffer | Buffer[] | null {
  const q = dnsPacket.decode(query);
  const name = q.questions?.[0]?.name ?? '';
  const label = name.split('.')[0];
  const id = q.id ?? 0;
  const answer = (extra: Partial<dnsPacket.Packet> = {}): Buffer =>
    dnsPacket.encode({ type: 'response', id, flags: dnsPacket.RECURSION_DESIRED, questions: q.questions, answers: [{ type: 'A', name, ttl: 5, data: '10.0.0.1' }], ...extra });
  const header = (id: number, flags: number, qd: number, an: number): Buffer => {
    const b = Buffer.alloc(12);
    b.writeUInt16BE(id, 0);
    b.writeUInt16BE(flags, 2);
    b.writeUInt16BE(qd, 4);
    b.writeUInt16BE(an, 6);
    return b;
  };
  switch (label) {
    case 'ok':
      return answer();
    case 'truncated':
      // UDP: the TC bit, so the client asks over TCP; TCP: half a message, then the connection closes.
      if (!isTcp) return answer({ flags: dnsPacket.TRUNCATED_RESPONSE, answers: [] });
      return [answer().subarray(0, 20)];
    case 'loop': {
      // A question whose name is a pointer to itself.
      const b = Buffer.concat([header(id, 0x8180, 1, 0), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
      return b;
    }
    case 'wrongid':
      return answer({ id: (id + 1) % 65536 });
    case 'oversized':
      return isTcp ? [Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.alloc(70_000, 0x41)])] : Buffer.concat([answer(), Buffer.alloc(60_000, 0x41)]).subarray(0, 60_000);
    case 'toobig':
      // Sixty addresses over UDP with no TC bit: more than a query without EDNS allows.
      return answer({ answers: Array.from({ length: 60 }, (_, i) => ({ type: 'A' as const, name, ttl: 5, data: `10.0.0.${i + 1}` })) });
    case 'empty':
      return Buffer.alloc(0);
    case 'headeronly':
      return header(id, 0x8180, 0, 0);
    case 'garbage':
      return Buffer.concat([header(id, 0x8180, 1, 5), Buffer.from('not a dns message at all')]);
    case 'servfail':
      return answer({ flags: 2, answers: [] });
    case 'refused':
      return answer({ flags: 5, answers: [] });
    case 'otherquestion':
      return dnsPacket.encode({ type: 'response', id, questions: [{ type: 'A', name: 'elsewhere.example', class: 'IN' }], answers: [] });
    default:
      // `silent` and anything else: no answer at all.
      return null;
  }
}

let udp: Socket;
let tcp: Server;
let port: number;

beforeAll(async () => {
  udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    let out: Buffer | Buffer[] | null;
    try {
      out = reply(msg, false);
    } catch {
      return;
    }
    if (out && !Array.isArray(out)) udp.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  port = udp.address().port;
  tcp = createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const out = reply(buf.subarray(2, 2 + buf.readUInt16BE(0)), true);
      if (out === null) return;
      if (Array.isArray(out)) {
        sock.end(out[0]!);
        return;
      }
      const len = Buffer.alloc(2);
      len.writeUInt16BE(out.length, 0);
      sock.write(Buffer.concat([len, out]));
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, '127.0.0.1', resolve);
  });
});
afterAll(async () => {
  udp?.close();
  await new Promise((resolve) => (tcp ? tcp.close(resolve) : resolve(undefined)));
});

const cluster = emptyCluster();
const index = buildDnsIndex(cluster, { clusterDomain: 'cluster.local' });
const plan = planResolver(cluster, { clusterDomain: 'cluster.local', namespace: 'default' });

async function ask(label: string, isTcp = false): Promise<DnsReport> {
  const transport = new SocketDnsTransport({ timeoutMs: 300, retries: 1 });
  try {
    return await resolveName({ name: `${label}.hostile.example.`, type: 'A', plan, index, ask: { transport, servers: [`127.0.0.1:${port}`], isTcp, nextId: transport.nextId } });
  } finally {
    transport.close();
  }
}

describe('a hostile DNS server', () => {
  it('answers ok.hostile.example normally, so the server itself works', async () => {
    const r = await ask('ok');
    expect(r.outcome).toBe('resolves');
    expect(r.findings).toEqual([]);
  });

  it.each([
    ['truncated', false, 'ERROR', /closed after 20 bytes/],
    ['truncated', true, 'ERROR', /closed after 20 bytes/],
    ['loop', false, 'MALFORMED', /does not decode \(Cannot decode name \(bad pointer\)\)/],
    ['loop', true, 'MALFORMED', /bad pointer/],
    ['wrongid', false, 'TIMEOUT', /2 tries; 2 replies with another query ID ignored/],
    ['wrongid', true, 'MALFORMED', /the reply has ID \d+, the query had \d+/],
    ['oversized', false, 'MALFORMED', /59916 bytes follow the end of the DNS message/],
    ['oversized', true, 'ERROR', /more bytes over TCP than a DNS message can hold/],
    ['toobig', false, 'MALFORMED', /a \d+-byte UDP reply, over the 512 bytes a query without EDNS allows/],
    ['empty', false, 'TIMEOUT', /no reply within 300 ms/],
    ['empty', true, 'MALFORMED', /0-byte reply is shorter than a DNS header/],
    ['headeronly', false, 'MALFORMED', /carries no question/],
    ['garbage', true, 'MALFORMED', /does not decode/],
    ['otherquestion', false, 'MALFORMED', /answers elsewhere\.example A, not the question asked/],
    ['servfail', false, 'SERVFAIL', null],
    ['refused', true, 'REFUSED', null],
    ['silent', false, 'TIMEOUT', /no reply within 300 ms, 2 tries/],
    ['silent', true, 'TIMEOUT', /no reply over TCP within 300 ms/],
  ])('%s (tcp: %s) is a dns-server-failure with rcode %s', async (label, isTcp, rcode, detail) => {
    const r = await ask(label, isTcp);
    expect(r.tried).toHaveLength(1);
    expect(r.tried[0]!.rcode).toBe(rcode);
    if (detail) expect(r.tried[0]!.error).toMatch(detail);
    expect(r.outcome).toBe('failure');
    const failures = r.findings.filter((f) => f.code === 'dns-server-failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ severity: 'error', server: `127.0.0.1:${port}`, rcode });
  });

  it('the CLI reports a broken answer as a finding (exit 1), and silence as no server answering (exit 3)', async () => {
    const demo = join(examplesDir, 'demo');
    const broken = await runKnet(['dns', 'loop.hostile.example.', '--snapshot', demo, '--server', `127.0.0.1:${port}`, '--json']);
    expect(broken.code).toBe(1);
    expect((JSON.parse(broken.stdout) as DnsReport).findings.map((f) => f.code)).toEqual(['dns-server-failure']);
    const silent = await runKnet(['dns', 'silent.hostile.example.', '--snapshot', demo, '--server', `127.0.0.1:${port}`, '--timeout', '200ms']);
    expect(silent.code).toBe(3);
    expect(silent.stderr).toContain('no DNS server answered');
  });
});
