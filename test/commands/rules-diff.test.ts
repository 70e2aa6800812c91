// `knet rules diff` as a user runs it: the built CLI against the demo snapshot (kind-worker's kube-proxy
// is behind the API on default/legacy-db; kind-worker2's is in sync) and against snapshots made here from
// kube-proxy's own nftables dump and the API objects of its test.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RulesDiffResult } from '../../src/render/rules-diff.js';
import { examplesDir, fixturesDir, runKnet } from '../support/cli.js';

const demo = join(examplesDir, 'demo');
const scratch = mkdtempSync(join(tmpdir(), 'knet-rules-diff-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function runJson(args: string[]): Promise<{ json: RulesDiffResult; code: number; stderr: string }> {
  const r = await runKnet([...args, '--json']);
  return { json: JSON.parse(r.stdout) as RulesDiffResult, code: r.code, stderr: r.stderr };
}

describe('knet rules diff', () => {
  it('names the drift on kind-worker: a stale endpoint and the one the API has instead; exit 1', async () => {
    const { json, code } = await runJson(['rules', 'diff', 'kind-worker', '--snapshot', demo]);
    expect(code).toBe(1);
    expect([json.node, json.mode, json.families]).toEqual(['kind-worker', 'iptables', [4]]);
    expect(json.findings.map((f) => [f.code, f.servicePort, f.endpoint])).toEqual([
      ['endpoint-not-programmed', 'default/legacy-db:postgres', '192.168.50.10:5432'],
      ['stale-endpoint-rules', 'default/legacy-db:postgres', '192.168.50.9:5432'],
    ]);
    expect(json.summary).toMatchObject({ servicePorts: 12, inSync: 11, drifted: 1, errors: 2, warnings: 0, isInSync: false });
    expect(json.services.find((s) => s.name === 'legacy-db')).toMatchObject({ namespace: 'default', port: 5432, portName: 'postgres', status: 'drift' });
  });

  it('says kind-worker2 is in sync, exit 0', async () => {
    const r = await runKnet(['rules', 'diff', 'kind-worker2', '--snapshot', demo, '--no-color']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('✓ kube-proxy on kind-worker2 (iptables mode, IPv4) matches the API: 12 Service ports in sync.');
  });

  it('prints the drifted Service ports and the findings with what to do', async () => {
    const r = await runKnet(['rules', 'diff', 'kind-worker', '--snapshot', demo, '--no-color']);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('✗ kube-proxy on kind-worker (iptables mode, IPv4) differs from the API: 12 Service ports, 11 in sync, 1 drifted; 2 errors.');
    expect(lines.find((l) => l.startsWith('default/legacy-db'))).toMatch(/postgres \(5432\)\s+tcp\s+drift\s+1\/1\s+endpoint-not-programmed, stale-endpoint-rules/);
    expect(r.stdout).toContain('sends 100% of new connections to 192.168.50.9:5432, which is not an endpoint of default/legacy-db:postgres in the API any more');
    expect(r.stdout).toContain('→ kube-proxy on kind-worker is behind the API');
  });

  it('compares one Service when asked', async () => {
    const { json, code } = await runJson(['rules', 'diff', 'kind-worker', 'svc/kube-system/kube-dns', '--snapshot', demo]);
    expect(code).toBe(0);
    expect(json.services.map((s) => `${s.name}:${s.portName}/${s.protocol} ${s.status}`)).toEqual(['kube-dns:dns-tcp/tcp in-sync', 'kube-dns:dns/udp in-sync', 'kube-dns:metrics/tcp in-sync']);
  });

  it('reads kube-proxy nftables mode from the node state, and finds a Service the API lost', async () => {
    const dir = join(scratch, 'nft');
    mkdirSync(join(dir, 'nodes', 'test-node'), { recursive: true });
    copyFileSync(join(fixturesDir, 'rules-diff/overall/api.yaml'), join(dir, 'api.yaml'));
    copyFileSync(join(fixturesDir, 'kube-proxy/_derived/nftables-TestOverallNFTablesRules/rules.nft'), join(dir, 'nodes/test-node/nft-ruleset.txt'));
    const inSync = await runJson(['rules', 'diff', 'test-node', '--snapshot', dir]);
    expect([inSync.code, inSync.json.mode, inSync.json.summary.servicePorts, inSync.json.findings]).toEqual([0, 'nftables', 6, []]);

    const api = readFileSync(join(dir, 'api.yaml'), 'utf8');
    writeFileSync(join(dir, 'api.yaml'), api.replace(/- apiVersion: v1\n {2}kind: Service\n {2}metadata: \{ namespace: ns3, name: svc3 \}\n(?: {2}.*\n)+?(?=- apiVersion)/, ''));
    const drift = await runJson(['rules', 'diff', 'test-node', 'ns3/svc3', '--snapshot', dir]);
    expect(drift.code).toBe(0);
    expect(drift.json.services.map((s) => [s.name, s.status])).toEqual([['svc3', 'stale']]);
    expect(drift.json.findings.map((f) => f.code)).toEqual(['stale-service-rules']);
  });

  it.each([
    { what: 'an unknown node', args: ['kind-wroker'], code: 'node-not-found', stderr: /kind-worker/ },
    { what: 'an unknown Service, with a suggestion', args: ['kind-worker', 'default/legacy'], code: 'service-not-found', stderr: /legacy-db/ },
    { what: 'a mode whose state the node lacks', args: ['kind-worker', '--mode', 'ipvs'], code: 'node-state-missing', stderr: /ipvsadm -Ln > nodes\/kind-worker\/ipvsadm.txt/ },
  ])('exits 2 on $what', async ({ args, code, stderr }) => {
    const r = await runKnet(['rules', 'diff', ...args, '--snapshot', demo, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(stderr);
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toBe(code);
  });
});
