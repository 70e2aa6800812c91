// A 1,000,000-entry `conntrack -L` capture filtered by one IP, side by side with `grep -F IP` on the same
// file: ≤ 5× its time (knet searches the bytes for the address before it decodes a line, as grep does),
// ≤ 256 MiB peak RSS for the whole CLI process (wall time and ru_maxrss of the child, measured by
// bench/lib.mjs's wait4 wrapper).
// And the worst case for findings: 1,000,000 entries, every one stale (DNATed to an endpoint long gone),
// in each output format: ≤ 5 s and ≤ 256 MiB, because findings fold into one per Service past a bound.
import { join } from 'node:path';
import { generateConntrack, generateStaleConntrack, TARGET_IP } from '../gen/conntrack.mjs';
import { dataDir, knet, measure, measureShell } from '../lib.mjs';

const dir = join(dataDir, 'conntrack-1m');
const staleDir = join(dataDir, 'conntrack-stale-1m');
let file = '';
let staleFile = '';

const staleCase = (format) => ({
  name: `conntrack-stale-1m-${format}`,
  target: `\`knet node conntrack NODE -o ${format}\` on 1,000,000 stale UDP entries: ≤ 5 s, ≤ 256 MiB peak RSS`,
  runs: 3,
  async setup() {
    staleFile = await generateStaleConntrack(staleDir, { entries: 1_000_000 });
  },
  baseline: {
    name: 'wc -l',
    run: () => measureShell(`wc -l ${staleFile} | cat`),
  },
  subject: {
    name: `knet node conntrack -o ${format}`,
    // Exit 1: the stale entries are error findings.
    run: () => measure(process.execPath, [knet, 'node', 'conntrack', 'bench-node', '--snapshot', staleDir, '-o', format], { okCodes: [1] }),
  },
  limit: { seconds: 5, rssMiB: 256 },
});

export default [
  {
    name: 'conntrack-1m',
    target: '`knet node conntrack NODE --ip IP --json` on a 1,000,000-entry conntrack -L capture: ≤ 5× `grep -F IP`, ≤ 256 MiB peak RSS',
    runs: 5,
    async setup() {
      file = await generateConntrack(dir, { entries: 1_000_000 });
    },
    baseline: {
      // Piped: GNU grep whose stdout is /dev/null stops at the first match (as -q would), which measures nothing.
      name: `grep -F ${TARGET_IP} | cat`,
      run: () => measureShell(`grep -F ${TARGET_IP} ${file} | cat`),
    },
    subject: {
      name: 'knet node conntrack --ip --json',
      run: () => measure(process.execPath, [knet, 'node', 'conntrack', 'bench-node', '--snapshot', dir, '--ip', TARGET_IP, '--json'], { okCodes: [0, 1] }),
    },
    limit: { ratio: 5, rssMiB: 256 },
  },
  staleCase('table'),
  staleCase('json'),
  staleCase('yaml'),
];
