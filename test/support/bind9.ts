// A real DNS server for tests: Debian's bind9 (`named -g`) on 127.0.0.1 at a free high port, in a
// temporary directory, serving zone files a test hands it, plus a root zone so that every name outside
// them is NXDOMAIN (recursion off). Stopped by its process id. Tests skip with the reason from
// `bind9Missing` where named is not installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';

export interface ZoneInput {
  origin: string;
  text: string;
}

export interface Bind9 {
  port: number;
  /** `127.0.0.1:PORT`, as --server takes it. */
  server: string;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

const namedPath = ['/usr/sbin/named', '/usr/bin/named'].find((p) => existsSync(p));

/** Why bind9 cannot run here, or null when it can. */
export function bind9Missing(): string | null {
  if (!namedPath) return 'named (bind9) is not installed: apt-get install bind9 bind9-dnsutils';
  const v = spawnSync(namedPath, ['-v'], { encoding: 'utf8' });
  return v.status === 0 ? null : `named -v failed: ${v.stderr}`;
}

/** A port free on 127.0.0.1 for TCP right now (UDP is checked by named itself failing to bind). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 20000 + Math.floor(Math.random() * 40000) }, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const rootZone = `$ORIGIN .
$TTL 30
@ IN SOA ns.root. hostmaster.root. 1 7200 1800 86400 30
@ IN NS ns.root.
ns.root. IN A 127.0.0.1
`;

/** One SOA query over UDP: whether the server answers for `origin` yet. */
function answersSoa(port: number, origin: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(false);
    }, 200);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      try {
        const p = dnsPacket.decode(msg);
        resolve(((p.flags ?? 0) & 0xf) === 0 && (p.answers ?? []).some((a) => a.type === 'SOA'));
      } catch {
        resolve(false);
      }
    });
    sock.send(dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'SOA', name: origin, class: 'IN' }] }), port, '127.0.0.1');
  });
}

export async function startBind9(zones: ZoneInput[]): Promise<Bind9> {
  if (!namedPath) throw new Error(bind9Missing()!);
  const dir = await mkdtemp(join(tmpdir(), 'knet-bind9-'));
  const files = zones.map((z, i) => ({ origin: z.origin, file: join(dir, `db.${i}`), text: z.text }));
  if (!zones.some((z) => z.origin === '.' || z.origin === '')) files.push({ origin: '.', file: join(dir, 'db.root'), text: rootZone });
  for (const f of files) await writeFile(f.file, f.text);
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'named.conf');
    await writeFile(
      conf,
      `options {
  directory "${dir}";
  pid-file "${join(dir, 'named.pid')}";
  session-keyfile "${join(dir, 'session.key')}";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  allow-query { any; };
  minimal-responses yes;
};
controls { };
${files.map((f) => `zone "${f.origin === '' ? '.' : f.origin}" { type primary; file "${f.file}"; };`).join('\n')}
`,
    );
    const child: ChildProcess = spawn(namedPath, ['-g', '-c', conf, '-n', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGTERM');
        const killer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 3000);
        await exited;
        clearTimeout(killer);
      }
      await rm(dir, { recursive: true, force: true });
    };
    const deadline = Date.now() + 10_000;
    let ready = false;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await answersSoa(port, zones[0]?.origin ?? '.')) {
        ready = true;
        break;
      }
    }
    if (ready) return { port, server: `127.0.0.1:${port}`, dir, pid: child.pid!, stop };
    lastError = stderr.split('\n').filter((l) => /error|fail|not loaded|address in use/i.test(l)).slice(-5).join('\n') || stderr.slice(-500);
    if (child.exitCode === null) {
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    }
    if (!/address in use/i.test(stderr)) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`named did not start:\n${lastError}`);
}
