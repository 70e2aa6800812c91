// knet dns --all against a real bind9 serving 5,000 Service names, beside a shell loop of dig over the
// same names (what people do today). The zones are written by knet dns --zones from the same snapshot.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { generateCluster } from '../gen/cluster.mjs';
import { dataDir, hasCommand, knet, measure, measureShell } from '../lib.mjs';

const file = join(dataDir, 'cluster-5k-services-10k-pods.json');
const zonesDir = join(dataDir, 'dns-5k-zones');
const namesFile = join(dataDir, 'dns-5k-names.txt');
let server = '';
let named;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 20000 + Math.floor(Math.random() * 40000) }, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default [
  {
    name: 'dns-all-5k',
    target: '`knet dns --all -A --server` on 5,000 Service names against bind9 ≥ 20× faster than a shell loop of dig over the same names',
    // One timed run (after the warm-up): the dig loop alone takes minutes.
    runs: 1,
    skip: () => (!existsSync('/usr/sbin/named') ? 'named (bind9) is not installed' : !hasCommand('dig') ? 'dig (bind9-dnsutils) is not installed' : ''),
    async setup() {
      await generateCluster(file, { services: 5_000, pods: 10_000 });
      const port = await freePort();
      mkdirSync(zonesDir, { recursive: true });
      execFileSync(process.execPath, [knet, 'dns', '--zones', zonesDir, '--zones-port', String(port), '--snapshot', file]);
      const all = JSON.parse(execFileSync(process.execPath, [knet, 'dns', '--all', '-A', '--snapshot', file, '--json'], { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' }).toString());
      writeFileSync(namesFile, all.names.map((n) => n.name).join('\n') + '\n');
      named = spawn('/usr/sbin/named', ['-g', '-c', join(zonesDir, 'named.conf'), '-n', '1'], { stdio: 'ignore' });
      // named dies with the benchmark, whichever way it ends.
      process.on('exit', () => named.exitCode === null && named.kill('SIGKILL'));
      server = `127.0.0.1:${port}`;
      for (let i = 0; i < 100; i++) {
        try {
          execFileSync('dig', ['+short', '+time=1', '+tries=1', '-p', String(port), '@127.0.0.1', 'kubernetes.default.svc.cluster.local.'], { stdio: 'ignore' });
          break;
        } catch {
          await sleep(100);
        }
      }
      const count = readFileSync(namesFile, 'utf8').trim().split('\n').length;
      this.note = `${count} names (every Service, as FQDNs), one bind9 on ${server}; dig runs one process per name, knet asks each over UDP with --concurrency 64`;
    },
    baseline: {
      name: 'shell loop of dig',
      run: () => measureShell(`while read -r n; do dig +short +time=2 +tries=1 -p ${server.split(':')[1]} @127.0.0.1 "$n" A > /dev/null; done < ${namesFile}`),
    },
    subject: {
      name: 'knet dns --all -A --server',
      run: () => measure(process.execPath, [knet, 'dns', '--all', '-A', '--server', server, '--snapshot', file, '--json'], { okCodes: [0, 1] }),
    },
    limit: { ratio: 1 / 20 },
  },
];
