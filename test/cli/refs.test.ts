// References and DNS names as the commands take them (SRC/DST of trace, NAME of dns): what is refused,
// and in which words.
import { describe, expect, it } from 'vitest';
import { KnetError } from '../../src/model/errors.js';
import { checkDnsName, dnsNameProblem, parseRef } from '../../src/cli/refs.js';

describe('dnsNameProblem', () => {
  it.each([
    ['web', null],
    ['web.shop', null],
    ['web.shop.svc.cluster.local.', null],
    ['_http._tcp.web.shop', null],
    [`${'a'.repeat(63)}.shop`, null],
    [`${'abcdefghi.'.repeat(25)}abc`, null],
    ['we b', 'holds characters a DNS name does not have'],
    ['-web', 'holds characters a DNS name does not have'],
    ['web..shop', 'has an empty label (two dots in a row)'],
    ['web.shop..', 'holds characters a DNS name does not have'],
    [`${'a'.repeat(64)}.shop`, `has a label of 64 characters ("aaaaaaaaaaaa…"; at most 63)`],
    [`${'abcdefghi.'.repeat(25)}abcd`, 'is 254 characters long (at most 253)'],
  ])('%j: %j', (name, problem) => {
    expect(dnsNameProblem(name)).toBe(problem);
  });

  it('a name of 253 characters and a trailing dot is one a resolver looks up', () => {
    const name = `${'abcdefghi.'.repeat(25)}abc.`;
    expect(name.length).toBe(254);
    expect(dnsNameProblem(name)).toBeNull();
  });
});

describe('DNS names as arguments', () => {
  const refusal = (f: () => unknown): KnetError => {
    try {
      f();
    } catch (err) {
      if (err instanceof KnetError) return err;
      throw err;
    }
    throw new Error('not refused');
  };

  it('trace DST: a name with a dot is a DNS name, and one a resolver would refuse is an input error', () => {
    expect(parseRef('web.shop', { allowDns: true, what: 'DST' })).toEqual({ kind: 'dns', name: 'web.shop' });
    const err = refusal(() => parseRef('web..shop', { allowDns: true, what: 'DST' }));
    expect(err.message).toBe('DST "web..shop" is not a valid DNS name: it has an empty label (two dots in a row)');
    expect(err.exit).toBe(2);
  });

  it('dns NAME: a long name is cut short in the message', () => {
    const err = refusal(() => checkDnsName('a'.repeat(300)));
    expect(err.message).toMatch(/^"a{77}…" is not a DNS name: it has a label of 300 characters/);
    expect(err.exit).toBe(2);
  });
});

describe('addresses and ports as arguments', () => {
  const messageOf = (text: string): string => {
    try {
      parseRef(text, { what: 'DST' });
    } catch (err) {
      if (err instanceof KnetError && err.exit === 2) return err.message;
      throw err;
    }
    throw new Error(`${text} was taken`);
  };

  it.each([
    ['10.244.1.300:80', 'DST "10.244.1.300:80" is not a valid IP address: 300 is over 255'],
    ['10.244.1', 'DST "10.244.1" is not a valid IP address: it has 3 parts, not 4'],
    ['10.244..1', 'DST "10.244..1" is not a valid IP address: part 3 is empty'],
    ['010.1.1.1', 'DST "010.1.1.1" is not a valid IP address: 010 has a leading zero (octal in some tools, refused here)'],
    ['fd00::zz', 'DST "fd00::zz" is not a valid IP address or IP:PORT'],
    ['[fd00::1', 'DST "[fd00::1" is not a valid IP address or IP:PORT'],
    ['web:80', 'DST "web:80" gives a port after a name; NAME:PORT is only for IP addresses'],
    ['svc/shop/web:http', 'DST "svc/shop/web:http" gives a port after a name; NAME:PORT is only for IP addresses'],
  ])('%s: said as what it is meant to be', (text, message) => {
    expect(messageOf(text)).toBe(message);
  });

  it('the addresses and names themselves are taken', () => {
    expect(parseRef('10.244.1.30:80')).toEqual({ kind: 'ip', ip: '10.244.1.30', port: 80 });
    expect(parseRef('[fd00::1]:80')).toEqual({ kind: 'ip', ip: 'fd00::1', port: 80 });
    expect(parseRef('fd00:1:2::5:80')).toEqual({ kind: 'ip', ip: 'fd00:1:2::5:80' });
    expect(parseRef('svc/shop/web')).toEqual({ kind: 'service', namespace: 'shop', name: 'web' });
  });
});
