import { knet, measure } from '../lib.mjs';

export default [
  {
    name: 'startup',
    target: '`knet --version` cold start ≤ 2× `node -e 0` (aim 1.5×)',
    runs: 10,
    baseline: { name: 'node -e 0', run: () => measure(process.execPath, ['-e', '0']) },
    subject: { name: 'knet --version', run: () => measure(process.execPath, [knet, '--version']) },
    limit: { ratio: 2 },
  },
];
