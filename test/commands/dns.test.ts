// knet dns as a process on the demo snapshot, with no DNS server: judged from the API's records alone.
// (Against real servers: test/dns/bind9.test.ts, test/dns/hostile.test.ts, test/dns/live.test.ts.)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DnsAllReport, DnsReport } from '../../src/dns/index.js';
import { examplesDir, runKnet, runKnetJson } from '../support/cli.js';

const demo = join(examplesDir, 'demo');

describe('knet dns on a snapshot without a server', () => {
  it('--zones into a path that cannot be a directory says why in words, exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'knet-zones-'));
    try {
      await writeFile(join(dir, 'a-file'), '');
      const r = await runKnet(['dns', '--zones', join(dir, 'a-file', 'zones'), '--snapshot', demo]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/cannot write zone files to .*a-file\/zones: a part of the path is not a directory/);
      expect(r.stderr).not.toMatch(/ENOTDIR|\n\s+at /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says what myhost.headless must resolve to, and that no server was asked', async () => {
    const { code, json } = await runKnetJson<DnsReport>(['dns', 'myhost.headless', '--snapshot', demo]);
    expect(code).toBe(0);
    expect(json).toMatchObject({
      name: 'myhost.headless',
      type: 'A',
      dnsPolicy: 'ClusterFirst',
      ndots: 5,
      searchList: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      servers: [],
      judgedFrom: 'api',
      outcome: 'resolves',
      resolvedAs: 'myhost.headless.default.svc.cluster.local',
      findings: [],
    });
    expect(json.tried).toHaveLength(1);
    expect(json.tried[0]).toMatchObject({ fqdn: 'myhost.headless.default.svc.cluster.local', server: null, rcode: 'NOERROR', ms: null });
    expect(json.expected.map((e) => e.data).sort()).toEqual(['10.244.1.10', '10.244.1.12', '10.244.2.11', '10.244.2.13']);
  });

  it('prints the plan and says no server was asked, for people', async () => {
    const { code, stdout } = await runKnet(['dns', 'myhost.headless', '--snapshot', demo, '--no-color']);
    expect(code).toBe(0);
    expect(stdout).toContain('No DNS server was asked: judged from the records the API implies');
    expect(stdout).toContain('A      10.244.2.13   endpointslice default/headless-d8v4c (pod default/headless-79c8d6f5b9-zr6vp)');
  });

  it('follows --from: a pod in kube-system searches kube-system first', async () => {
    const { code, json } = await runKnetJson<DnsReport>(['dns', 'web', '--from', 'kube-system/coredns-7db6d8ff4d-2xk9p', '--snapshot', demo]);
    expect(code).toBe(1);
    expect(json.from).toBe('kube-system/coredns-7db6d8ff4d-2xk9p');
    expect(json.tried.map((q) => q.fqdn)).toEqual(['web.kube-system.svc.cluster.local', 'web.svc.cluster.local', 'web.cluster.local', 'web']);
    expect(json.findings[0]).toMatchObject({ code: 'dns-nxdomain', suggestions: ['web.default'] });
  });

  it('answers PTR for an address', async () => {
    const { code, json } = await runKnetJson<DnsReport>(['dns', '10.96.45.20', '--type', 'PTR', '--snapshot', demo]);
    expect(code).toBe(0);
    expect(json.expected).toEqual([{ name: '20.45.96.10.in-addr.arpa', type: 'PTR', data: 'web.default.svc.cluster.local', from: 'service default/web' }]);
  });

  it('checks every Service and hostname.subdomain name with --all', async () => {
    const { code, json } = await runKnetJson<DnsAllReport>(['dns', '--all', '-A', '--snapshot', demo]);
    expect(code).toBe(0);
    expect(json.summary).toMatchObject({ names: 13, servers: 0, queries: 0, errors: 0, resolves: 13 });
    expect(json.names.map((n) => n.name)).toContain('myhost.headless.default.svc.cluster.local.');
  });

  it('says "as FQDN" only where the search list made the name into another', async () => {
    const lastLine = async (args: string[]): Promise<string> => (await runKnet(['dns', ...args, '--snapshot', demo])).stdout.trimEnd().split('\n').at(-1)!;
    expect(await lastLine(['web'])).toBe('web: resolves as web.default.svc.cluster.local.');
    expect(await lastLine(['10.244.1.10', '-t', 'PTR'])).toBe('10.1.244.10.in-addr.arpa.: resolves.');
    expect(await lastLine(['web.default.svc.cluster.local.'])).toBe('web.default.svc.cluster.local.: resolves.');
  });

  it('takes a record type in lower case, as dig does', async () => {
    const lower = await runKnet(['dns', '_http._tcp.headless', '-t', 'srv', '--snapshot', demo, '--json']);
    const upper = await runKnet(['dns', '_http._tcp.headless', '-t', 'SRV', '--snapshot', demo, '--json']);
    expect(lower.code).toBe(0);
    expect(lower.stdout).toBe(upper.stdout);
    expect(JSON.parse(lower.stdout)).toMatchObject({ type: 'SRV' });
  });

  it.each([
    [['dns', '--snapshot', demo], /needs a NAME, or --all/],
    [['dns', 'web', '--all', '--snapshot', demo], /a NAME or --all, not both/],
    // --server takes every word after it: the NAME went to it.
    [['dns', '--snapshot', demo, '--server', '127.0.0.1:5353', 'web'], /needs a NAME, or --all \("web" was read as a --server\)\n {2}--server takes every value after it: write the NAME first/],
    [['dns', '10.96.45.20', '--snapshot', demo], /is an address: ask for its name with --type PTR/],
    [['dns', 'web', '--server', 'dns.example:53', '--snapshot', demo], /names a host, not an address/],
    [['dns', 'web', '--timeout', 'soon', '--snapshot', demo], /--timeout "soon" is not a duration/],
    [['dns', 'we b', '--snapshot', demo], /"we b" is not a DNS name: it holds characters a DNS name does not have/],
    // What a resolver refuses to look up: an empty name, an empty label, a label past 63 characters.
    [['dns', '', '--snapshot', demo], /the NAME given to knet dns is empty/],
    [['dns', 'web..shop', '--snapshot', demo], /"web\.\.shop" is not a DNS name: it has an empty label/],
    [['dns', `${'a'.repeat(64)}.shop`, '--snapshot', demo], /has a label of 64 characters .*at most 63/],
    [['dns', `${'abc.'.repeat(64)}x`, '--snapshot', demo], /is 257 characters long \(at most 253\)/],
  ])('rejects bad input %j with exit 2', async (args, message) => {
    const { code, stderr } = await runKnet(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});
