import { describe, expect, it } from 'vitest';
import { canonicalIP, isLoopbackIP } from '../../src/model/ip.js';

describe('canonicalIP', () => {
  it.each([
    ['an IPv4 address as the API prints it', '10.244.1.5', '10.244.1.5'],
    ['the all-zero IPv4 address', '0.0.0.0', '0.0.0.0'],
    ['the top IPv4 address', '255.255.255.255', '255.255.255.255'],
    ['IPv6 in the full form the kernel prints', 'fd00:0010:0244:0001:0000:0000:0000:0005', 'fd00:10:244:1::5'],
    ['IPv6 with an embedded IPv4 tail', '::ffff:10.0.0.1', '::ffff:a00:1'],
    ['a leading zero, which is not an address: kept as written', '010.0.0.1', '010.0.0.1'],
    ['an octet over 255: kept as written', '10.0.0.256', '10.0.0.256'],
    ['three octets: kept as written', '10.0.1', '10.0.1'],
    ['an empty octet: kept as written', '10..0.1', '10..0.1'],
    ['a name: kept as written', 'kube-dns', 'kube-dns'],
  ])('%s', (_what, text, want) => {
    expect(canonicalIP(text)).toBe(want);
  });
});

describe('isLoopbackIP', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.3.4', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['128.0.0.1', false],
    ['126.255.255.255', false],
    ['::2', false],
    ['::ffff:10.0.0.1', false],
    ['localhost', false],
  ])('%s: %s', (ip, is) => {
    expect(isLoopbackIP(ip)).toBe(is);
  });
});
