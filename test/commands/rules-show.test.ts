import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKnet, runKnetJson } from '../support/cli.js';
import type { RulesShowReport } from '../../src/render/rules.js';

const demoDump = 'examples/demo/nodes/kind-worker/iptables-save.txt';

describe('knet rules show', () => {
  it('lists the Service ports kube-proxy programmed, with endpoints, probabilities and NodePorts', async () => {
    const { json, code } = await runKnetJson<RulesShowReport>(['rules', 'show', '--file', demoDump, '--service', 'default/xecho']);
    expect(code).toBe(0);
    expect(json.servicePorts).toHaveLength(1);
    const xecho = json.servicePorts[0]!;
    expect(xecho).toMatchObject({
      servicePortName: 'default/xecho',
      nameSource: 'comment+hash',
      clusterIPs: ['10.96.120.15:8888'],
      nodePorts: [31401],
      externalTrafficPolicy: 'Cluster',
      chains: { svc: 'KUBE-SVC-2CAEAQQOZJHYNPO5', ext: 'KUBE-EXT-2CAEAQQOZJHYNPO5' },
    });
    expect(xecho.endpoints.map((e) => [e.address, e.probability, e.isHashVerified])).toEqual([
      ['10.244.1.5:8080', 0.5, true],
      ['10.244.2.6:8080', 0.5, true],
    ]);
  });

  it('exits 1 when a Service port has no endpoints, and says REJECT', async () => {
    const r = await runKnet(['rules', 'show', '--file', demoDump, '--no-color']);
    expect(r.code).toBe(1);
    const web = r.stdout.split('\n').find((l) => l.startsWith('default/web:http'));
    expect(web).toContain('none (REJECT)');
  });

  it('suggests a close name for an unknown Service', async () => {
    const r = await runKnet(['rules', 'show', '--file', demoDump, '--service', 'default/xech']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no rules for Service default/xech');
    expect(r.stderr).toContain('Did you mean default/xecho');
  });

  it('names chains without comments from the chain hash of the snapshot\'s Services', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'knet-show-'));
    const file = join(dir, 'iptables-save.txt');
    // Large clusters drop kube-proxy's comments; here all of them are gone.
    writeFileSync(file, readFileSync(demoDump, 'utf8').replace(/-m comment --comment ("[^"]*"|\S+) /g, ''));
    const bare = await runKnetJson<RulesShowReport>(['rules', 'show', '--file', file]);
    expect(bare.json.servicePorts.find((sp) => sp.chains.svc === 'KUBE-SVC-2CAEAQQOZJHYNPO5')).toMatchObject({ servicePortName: '?/2CAEAQQOZJHYNPO5', nameSource: 'unknown' });
    const named = await runKnetJson<RulesShowReport>(['rules', 'show', '--file', file, '--snapshot', 'examples/demo']);
    expect(named.json.servicePorts.find((sp) => sp.chains.svc === 'KUBE-SVC-2CAEAQQOZJHYNPO5')).toMatchObject({ servicePortName: 'default/xecho', nameSource: 'hash', nodePorts: [31401] });
  });
});
