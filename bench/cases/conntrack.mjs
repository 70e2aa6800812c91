// A 1,000,000-entry `conntrack -L` capture filtered by one IP. Target: ≤ 2 s and ≤ 256 MiB peak RSS
// for the whole CLI process (wall time and ru_maxrss of the child, measured by bench/lib.mjs's wait4
// wrapper). The baseline is `grep -c IP file` on the same file, to show what reading it costs.
import { join } from 'node:path';
import { generateConntrack, TARGET_IP } from '../gen/conntrack.mjs';
import { dataDir, knet, measure, measureShell } from '../lib.mjs';

const dir = join(dataDir, 'conntrack-1m');
let file = '';

export default [
  {
    name: 'conntrack-1m',
    target: '`knet node conntrack NODE --ip IP --json` on a 1,000,000-entry conntrack -L capture: ≤ 2 s, ≤ 256 MiB peak RSS',
    runs: 5,
    async setup() {
      file = await generateConntrack(dir, { entries: 1_000_000 });
    },
    baseline: {
      // Piped: GNU grep whose stdout is /dev/null stops at the first match (as -q would), which measures nothing.
      name: `grep -c ${TARGET_IP} | cat`,
      run: () => measureShell(`grep -c ${TARGET_IP} ${file} | cat`),
    },
    subject: {
      name: 'knet node conntrack --ip --json',
      run: () => measure(process.execPath, [knet, 'node', 'conntrack', 'bench-node', '--snapshot', dir, '--ip', TARGET_IP, '--json'], { okCodes: [0, 1] }),
    },
    limit: { seconds: 2, rssMiB: 256 },
  },
];
