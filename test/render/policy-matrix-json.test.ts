// The matrix's JSON, written as bytes in chunks, is exactly JSON.stringify of the report's toJSON
// form, whatever the chunk size (a cell may straddle two chunks) and with names beyond ASCII; its YAML
// is exactly the yaml package's text of that form.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Finding } from '../../src/model/finding.js';
import { matrixCells } from '../../src/policy/matrix.js';
import { renderPolicyMatrixJson, renderPolicyMatrixJsonBytes, renderPolicyMatrixYaml, type PolicyMatrixReport } from '../../src/render/policy.js';
import { YAML_OPTIONS } from '../../src/render/yaml.js';

function report(n: number): PolicyMatrixReport {
  const pods = Array.from({ length: n }, (_, i) => `ns-${i % 3}/pod-${i}${i === 2 ? '-ünï' : ''}`);
  const cell = (k: number, i: number): number => ((i * 7 + k * 3) % 5 < 2 ? 1 : 0);
  const allowed = [0, 1].map((k) => Uint8Array.from({ length: n * n }, (_, i) => cell(k, i)));
  const findings: Finding[] = [{ code: 'policy-selects-nothing', severity: 'warning', message: 'x "quoted"' }];
  const ports = [{ port: 80, protocol: 'TCP' as const }, { port: 53, protocol: 'UDP' as const }];
  return { pods, ports, allowed, findings } as unknown as PolicyMatrixReport;
}

function bytesText(chunks: Iterable<Uint8Array>): string {
  const all = [...chunks];
  const joined = new Uint8Array(all.reduce((sum, c) => sum + c.length, 0));
  let off = 0;
  for (const c of all) {
    joined.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(joined);
}

describe('renderPolicyMatrixJsonBytes', () => {
  it.each([[7, 1 << 20], [7, 64], [7, 1], [1, 64], [0, 64]])('%i pods, chunks of %i bytes: the JSON document of the report', (n, chunkSize) => {
    const m = report(n);
    const text = bytesText(renderPolicyMatrixJsonBytes(m, chunkSize));
    expect(JSON.parse(text)).toEqual({ pods: m.pods, ports: m.ports, cells: matrixCells(m), findings: m.findings });
    expect(text).toBe([...renderPolicyMatrixJson(m)].join(''));
  });
});

describe('renderPolicyMatrixYaml', () => {
  const toJSON = (m: PolicyMatrixReport): unknown => ({ pods: m.pods, ports: m.ports, cells: matrixCells(m), findings: m.findings });

  it.each([[7, 1 << 20], [7, 64], [7, 1], [1, 64], [0, 64]])('%i pods, chunks of %i bytes: the yaml package\'s text of the report', (n, chunkSize) => {
    const m = report(n);
    expect(bytesText(renderPolicyMatrixYaml(m, chunkSize)!)).toBe(stringify(toJSON(m), YAML_OPTIONS));
  });

  it('writes names that need quotes as the package does, and no findings as []', () => {
    const m = { ...report(4), pods: ['true', '80', 'a: b', 'ns/pod'], findings: [] } as unknown as PolicyMatrixReport;
    expect(bytesText(renderPolicyMatrixYaml(m)!)).toBe(stringify(toJSON(m), YAML_OPTIONS));
    const noPorts = { ...report(3), ports: [], allowed: [] } as unknown as PolicyMatrixReport;
    expect(bytesText(renderPolicyMatrixYaml(noPorts)!)).toBe(stringify(toJSON(noPorts), YAML_OPTIONS));
  });

  it('leaves a name over several lines to the package', () => {
    expect(renderPolicyMatrixYaml({ ...report(2), pods: ['ns/a', 'ns/two\nlines'] })).toBeNull();
  });
});
