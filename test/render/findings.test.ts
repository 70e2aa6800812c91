// Findings as a person reads them: one line each into a pipe, wrapped under the sentence on a terminal.
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/model/finding.js';
import { renderFindings } from '../../src/render/findings.js';
import { createStyle } from '../../src/render/style.js';

const finding: Finding = {
  code: 'stale-endpoint-rules',
  severity: 'error',
  message: 'KUBE-SVC-EFHKP2SRZPSKDZRS line 125 sends 100% of new connections to 192.168.50.9:5432, which is not an endpoint any more',
  hint: 'kube-proxy on kind-worker is behind the API: check its logs and its sync metrics',
};

describe('renderFindings', () => {
  it('into a pipe: the sentence on one line, the hint on the next', () => {
    expect(renderFindings([finding], createStyle(false)).split('\n')).toEqual([`ERROR   stale-endpoint-rules: ${finding.message}`, `        → ${finding.hint!}`]);
  });

  it('on a terminal 60 columns wide: wrapped at spaces, the sentence and the hint each under themselves', () => {
    const lines = renderFindings([finding], createStyle(false, 60)).split('\n');
    expect(lines).toEqual([
      'ERROR   stale-endpoint-rules: KUBE-SVC-EFHKP2SRZPSKDZRS line',
      '        125 sends 100% of new connections to',
      '        192.168.50.9:5432, which is not an endpoint any more',
      '        → kube-proxy on kind-worker is behind the API: check',
      '          its logs and its sync metrics',
    ]);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
  });

  it('coloured, the same lines once the escapes are taken out', () => {
    const escape = String.fromCharCode(27);
    const lines = renderFindings([finding], createStyle(true, 60))
      .split('\n')
      .map((l) => l.replaceAll(new RegExp(`${escape}\\[[0-9;]*m`, 'g'), ''));
    expect(lines).toEqual(renderFindings([finding], createStyle(false, 60)).split('\n'));
  });
});
