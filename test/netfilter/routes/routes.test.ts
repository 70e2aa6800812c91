// ip route / ip addr parsing on real iproute2 output, route lookup, and bad input.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inputInterfaceOf, localAddresses, lookupRoute, outputInterfaceOf, parseIpAddr, parseIpRoute } from '../../../src/netfilter/routes/index.js';

const here = new URL('./fixtures/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, here), 'utf8');

describe('parseIpRoute on real output', () => {
  it('ip route', () => {
    const { routes, findings } = parseIpRoute(read('ip-route.txt'));
    expect(findings).toEqual([]);
    expect(routes.map((r) => [r.type, r.destination, r.via ?? null, r.dev ?? null, r.metric ?? null, r.src ?? null, r.line])).toEqual([
      ['unicast', '0.0.0.0/0', '172.18.0.1', 'eth0', null, null, 1],
      ['unicast', '10.244.0.0/24', '172.18.0.2', 'eth0', null, null, 2],
      ['unicast', '10.244.2.0/24', '172.18.0.4', 'eth0', 100, null, 3],
      ['blackhole', '10.244.9.0/24', null, null, null, null, 4],
      ['unicast', '172.18.0.0/16', null, 'eth0', null, '172.18.0.3', 5],
    ]);
  });

  it('ip -6 route and ip route show table all (local and broadcast routes of the local table)', () => {
    const v6 = parseIpRoute(read('ip-6-route.txt'));
    expect(v6.routes.map((r) => [r.destination, r.via ?? null])).toEqual([
      ['fc00:f853:ccd:e793::/64', null],
      ['::/0', 'fc00:f853:ccd:e793::1'],
    ]);
    const all = parseIpRoute(read('ip-route-table-all.txt'));
    expect(all.findings).toEqual([]);
    expect(all.routes.filter((r) => r.table === 'local').map((r) => [r.type, r.destination])).toEqual([
      ['local', '127.0.0.0/8'],
      ['local', '127.0.0.1/32'],
      ['broadcast', '127.255.255.255/32'],
      ['local', '172.18.0.3/32'],
      ['broadcast', '172.18.255.255/32'],
      ['local', '::1/128'],
      ['local', 'fc00:f853:ccd:e793::3/128'],
    ]);
  });

  it.each([
    ['a pod on another node: its node', '10.244.0.7', '10.244.0.0/24'],
    ['the node network: on-link', '172.18.0.9', '172.18.0.0/16'],
    ['anything else: the default route', '8.8.8.8', '0.0.0.0/0'],
    ['a blackholed pod CIDR', '10.244.9.1', '10.244.9.0/24'],
  ])('lookupRoute: %s', (_name, ip, destination) => {
    expect(lookupRoute(parseIpRoute(read('ip-route.txt')).routes, ip)?.destination).toBe(destination);
  });

  it('lookupRoute prefers the lower metric among equal prefixes, and says null when nothing routes', () => {
    const { routes } = parseIpRoute('10.1.0.0/16 via 10.0.0.1 dev a metric 200\n10.1.0.0/16 via 10.0.0.2 dev b metric 100\n');
    expect(lookupRoute(routes, '10.1.2.3')?.via).toBe('10.0.0.2');
    expect(lookupRoute(routes, '10.2.0.1')).toBeNull();
  });
});

describe('parseIpAddr on real output', () => {
  it.each([
    ['ip addr', 'ip-addr.txt'],
    ['ip -o addr', 'ip-o-addr.txt'],
  ])('%s: interfaces and addresses', (_name, file) => {
    const { interfaces, findings } = parseIpAddr(read(file));
    expect(findings).toEqual([]);
    expect(interfaces.map((i) => [i.index, i.name, i.addresses.map((a) => `${a.family} ${a.address}/${a.prefix} ${a.scope ?? ''}`)])).toEqual([
      [1, 'lo', ['inet 127.0.0.1/8 host', 'inet6 ::1/128 host']],
      [56, 'eth0', ['inet 172.18.0.3/16 global', 'inet6 fc00:f853:ccd:e793::3/64 global']],
    ]);
    expect(localAddresses(interfaces)).toEqual(['127.0.0.1', '::1', '172.18.0.3', 'fc00:f853:ccd:e793::3']);
  });

  it('reads flags, state and mtu of the multi-line form', () => {
    const eth0 = parseIpAddr(read('ip-addr.txt')).interfaces[1]!;
    expect([eth0.flags, eth0.state, eth0.mtu]).toEqual([['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'], 'LOWERLAYERDOWN', 1500]);
  });
});

describe('bad input', () => {
  it.each([
    ['a garbled route', 'via nowhere dev\n', 'route-line-not-understood'],
    ['a bad prefix', '10.0.0.0/99 dev eth0\n', 'route-line-not-understood'],
    ['a million-character route', `${'1'.repeat(1_000_000)}\n`, 'route-line-not-understood'],
  ])('routes: %s gives a line-numbered finding', (_name, text, code) => {
    const r = parseIpRoute(text);
    expect(r.routes).toEqual([]);
    expect(r.findings.map((f) => [f.code, f.line])).toEqual([[code, 1]]);
  });

  it.each([
    ['an address before any interface', '    inet 10.0.0.1/8 scope global eth0\n'],
    ['garbage', 'hello\n'],
    ['a bad address', '2: eth0: <UP> mtu 1500\n    inet 999.0.0.1/8 scope global eth0\n'],
    ['a million characters', `${'x'.repeat(1_000_000)}\n`],
  ])('addresses: %s gives a finding', (_name, text) => {
    expect(parseIpAddr(text).findings.map((f) => f.code)).toEqual(['addr-line-not-understood']);
  });

  it('truncated ip addr output keeps the interfaces it has', () => {
    const text = read('ip-addr.txt');
    const r = parseIpAddr(text.slice(0, text.indexOf('inet 172.18.0.3')));
    expect(r.interfaces.map((i) => [i.name, i.addresses.length])).toEqual([
      ['lo', 2],
      ['eth0', 0],
    ]);
  });
});

describe('the interfaces a packet crosses (outputInterfaceOf, inputInterfaceOf)', () => {
  const routing = { routes: parseIpRoute(read('ip-route.txt')).routes, interfaces: parseIpAddr(read('ip-addr.txt')).interfaces };

  it.each([
    ['a pod on another node, by its node', '10.244.2.7', 'eth0', 'the node\'s route to 10.244.2.7: 10.244.2.0/24 via 172.18.0.4 dev eth0 metric 100 linkdown'],
    ['anything else, by the default route', '8.8.8.8', 'eth0', 'the node\'s route to 8.8.8.8: default via 172.18.0.1 dev eth0 linkdown'],
    ['the node itself', '127.0.0.1', 'lo', '127.0.0.1 is the node\'s own address'],
  ])('out: %s', (_name, ip, name, reason) => {
    expect(outputInterfaceOf(routing, ip)).toEqual({ name, reason });
  });

  it('a blackhole route has no interface', () => {
    expect(outputInterfaceOf(routing, '10.244.9.1')).toBeNull();
  });

  it('in: the route back to the source', () => {
    expect(inputInterfaceOf(routing, '172.18.0.9')).toEqual({ name: 'eth0', reason: "the node's route back to the source 172.18.0.9: 172.18.0.0/16 dev eth0 proto kernel scope link src 172.18.0.3 linkdown" });
  });
});
