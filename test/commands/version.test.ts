import { Config } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { repoRoot, runKnet } from '../support/cli.js';

describe('knet --version', () => {
  it("prints what oclif's --version prints (its user agent), though it answers without loading oclif", async () => {
    const config = await Config.load(repoRoot);
    const r = await runKnet(['--version']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `${config.userAgent}\n`, '']);
  });
});
