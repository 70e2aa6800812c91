import { describe, expect, it } from 'vitest';
import { CheckFileError, judgeConnect, parseChecks, summarizeChecks } from '../../src/trace/checks.js';
import type { TraceReport } from '../../src/trace/types.js';

const good = `checks:
  - name: frontend reaches the api
    connect: { from: shop/frontend, to: svc/api, port: 8080 }
    expect: allow
  - name: db resolves
    dns: { name: db.shop, from: shop/frontend }
    expect: resolves
  - name: api has ready endpoints
    endpoints: { service: shop/api }
    expect: healthy
  - name: kind-worker matches the API
    rules: { node: kind-worker }
    expect: in-sync
`;

describe('parseChecks', () => {
  it('reads the four kinds of check with their lines', () => {
    expect(parseChecks(good)).toEqual([
      { name: 'frontend reaches the api', kind: 'connect', params: { from: 'shop/frontend', to: 'svc/api', port: 8080 }, expect: 'allow', line: 2 },
      { name: 'db resolves', kind: 'dns', params: { name: 'db.shop', from: 'shop/frontend' }, expect: 'resolves', line: 5 },
      { name: 'api has ready endpoints', kind: 'endpoints', params: { service: 'shop/api' }, expect: 'healthy', line: 8 },
      { name: 'kind-worker matches the API', kind: 'rules', params: { node: 'kind-worker' }, expect: 'in-sync', line: 11 },
    ]);
  });

  it.each([
    ['not YAML', 'checks:\n  - name: a\n    x: y: z\n', 3, /not valid YAML/],
    ['no checks key', 'tests: []\n', 1, /unknown key "tests"/],
    ['checks not a list', 'checks: {}\n', 1, /must be a list/],
    ['an empty list', 'checks: []\n', 1, /empty/],
    ['a check without a name', 'checks:\n  - connect: { from: a, to: b }\n    expect: allow\n', 2, /needs a name/],
    ['two kinds in one check', 'checks:\n  - name: x\n    connect: { from: a, to: b }\n    dns: { name: y }\n    expect: allow\n', 2, /exactly one of connect, dns, endpoints, rules \(it has connect and dns\)/],
    ['an unknown kind', 'checks:\n  - name: x\n    ping: { host: a }\n    expect: allow\n', 3, /unknown key "ping"/],
    ['a misspelt expectation', 'checks:\n  - name: x\n    connect: { from: a, to: b }\n    expect: alow\n', 4, /expect "alow" is not one of allow, deny/],
    ['an expectation of another kind', 'checks:\n  - name: x\n    endpoints: { service: a }\n    expect: allow\n', 4, /not one of healthy/],
    ['a missing field', 'checks:\n  - name: x\n    connect: { from: a }\n    expect: allow\n', 3, /connect needs to/],
    ['an unknown field', 'checks:\n  - name: x\n    connect: { from: a, to: b, prot: 80 }\n    expect: allow\n', 3, /no field "prot"/],
    ['a port out of range', 'checks:\n  - name: x\n    connect: { from: a, to: b, port: 70000 }\n    expect: allow\n', 3, /not a port number/],
    ['a bad protocol', 'checks:\n  - name: x\n    connect: { from: a, to: b, protocol: icmp }\n    expect: allow\n', 3, /not TCP, UDP or SCTP/],
    ['two checks with one name', 'checks:\n  - name: x\n    endpoints: { service: a }\n    expect: healthy\n  - name: x\n    endpoints: { service: b }\n    expect: healthy\n', 5, /same name as the check on line 2/],
    ['no expectation', 'checks:\n  - name: x\n    endpoints: { service: a }\n', 2, /needs expect: healthy/],
  ])('rejects %s with its line', (_what, text, line, message) => {
    let err: unknown;
    try {
      parseChecks(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckFileError);
    expect((err as CheckFileError).line).toBe(line);
    expect((err as CheckFileError).message).toMatch(message);
  });
});

function trace(verdict: TraceReport['verdict']): TraceReport {
  return {
    verdict,
    src: { kind: 'pod', name: 'shop/frontend', ips: ['10.0.0.1'] },
    dst: { kind: 'service', name: 'svc/shop/api', ips: ['10.96.0.1'] },
    port: 8080,
    protocol: 'TCP',
    hops: [],
    branches: [],
    reachable: { endpoints: verdict === 'delivered' ? 1 : 0, of: 1, probability: verdict === 'delivered' ? 1 : 0 },
    firstFailure: verdict === 'delivered' ? null : { stage: 'policy-ingress', summary: 'denied' },
    notJudged: [],
    findings: [],
  };
}

describe('judgeConnect', () => {
  const [allow] = parseChecks(good);
  const deny = { ...allow!, expect: 'deny' };
  it.each([
    ['allow', 'delivered', 'pass'],
    ['allow', 'dropped', 'fail'],
    ['allow', 'rejected', 'fail'],
    ['deny', 'dropped', 'pass'],
    ['deny', 'rejected', 'pass'],
    ['deny', 'delivered', 'fail'],
    ['allow', 'unknown', 'fail'],
    ['deny', 'unknown', 'fail'],
  ] as const)('expect %s, trace %s: %s', (expectation, verdict, status) => {
    const r = judgeConnect(expectation === 'allow' ? allow! : deny, trace(verdict));
    expect(r.status).toBe(status);
  });

  it('says where the connection stops', () => {
    expect(judgeConnect(allow!, trace('dropped')).reason).toBe('shop/frontend → svc/shop/api:8080/TCP is dropped: stops at policy-ingress: denied');
  });

  it('a connection some endpoints take and others drop passes neither allow nor deny', () => {
    const partial = { ...trace('dropped'), reachable: { endpoints: 1, of: 2, probability: 0.5 } };
    for (const spec of [allow!, deny]) {
      const r = judgeConnect(spec, partial);
      expect(r).toMatchObject({ status: 'fail', actual: 'partial' });
    }
    expect(judgeConnect(deny, partial).reason).toBe('shop/frontend → svc/shop/api:8080/TCP is dropped (1 of 2 endpoints reachable): stops at policy-ingress: denied — some connections get through, so it is neither allowed nor denied');
  });
});

describe('summarizeChecks', () => {
  it('counts and names every check that did not pass', () => {
    const base = { kind: 'connect' as const, expect: 'allow', actual: 'allow', reason: '', line: 1, ms: 1 };
    const r = summarizeChecks('f.yaml', 'snapshot x', [
      { ...base, name: 'a', status: 'pass' },
      { ...base, name: 'b', status: 'fail' },
      { ...base, name: 'c', status: 'error' },
    ]);
    expect(r.summary).toEqual({ total: 3, passed: 1, failed: 1, errors: 1 });
    expect(r.failures).toEqual(['b', 'c']);
  });
});
