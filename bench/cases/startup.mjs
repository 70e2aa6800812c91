import { knet, measure } from '../lib.mjs';

const node = { name: 'node -e 0', run: () => measure(process.execPath, ['-e', '0']) };

export default [
  {
    name: 'startup',
    target: '`knet --version` cold start ≤ 1.5× `node -e 0` (median of 30, interleaved)',
    runs: 30,
    baseline: node,
    subject: { name: 'knet --version', run: () => measure(process.execPath, [knet, '--version']) },
    limit: { ratio: 1.5 },
  },
  {
    name: 'startup-help',
    target: '`knet endpoints --help` ≤ 1.5× `node -e 0` (median of 30, interleaved)',
    runs: 30,
    baseline: node,
    subject: { name: 'knet endpoints --help', run: () => measure(process.execPath, [knet, 'endpoints', '--help']) },
    limit: { ratio: 1.5 },
  },
];
