// Every command exits 1 when it prints an error finding (KnetCommand enforces it): these two exited 0.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplesDir, runKnetJson } from '../support/cli.js';

// Needs the built CLI: npm run build.
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'knet-exit1-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface WithFindings {
  findings: { code: string; severity: string }[];
}

describe('exit 1 on an error finding', () => {
  it('explain-policy --matrix with an invalid ipBlock exited 0 while printing the error', async () => {
    const snap = join(work, 'snap');
    await cp(join(examplesDir, 'demo'), snap, { recursive: true });
    await writeFile(join(snap, 'bad-policy.yaml'), 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad-cidr, namespace: shop}\nspec:\n  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: not-a-cidr}}]}]\n');
    const r = await runKnetJson<WithFindings>(['explain-policy', '--matrix', '-n', 'shop', '--port', '8080', '--snapshot', snap]);
    expect(r.json.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual(['invalid-cidr']);
    expect(r.code).toBe(1);
  }, 60_000);

  it('rules trace --lenient with a malformed line exited 0 while printing the error', async () => {
    const dump = join(work, 'dump.txt');
    await writeFile(dump, '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m bogus --frobnicate -j ACCEPT\nthis is not a rule\nCOMMIT\n');
    const r = await runKnetJson<WithFindings & { verdict: string }>(['rules', 'trace', '--file', dump, '--src', '10.0.0.1', '--dst', '10.96.0.1', '--dport', '443', '--lenient']);
    expect(r.json.verdict).toBe('accept');
    expect(r.json.findings.some((f) => f.severity === 'error')).toBe(true);
    expect(r.code).toBe(1);
  }, 60_000);
});
