// Network namespaces for tests that use the Linux kernel as the oracle: a lab creates namespaces with
// names unique to this process, joins them with veth pairs, runs commands and tiny identity servers in
// them, and removes exactly what it created. Needs root and iproute2; callers declare that with
//   describeNeeding({ root: true, commands: [...NETNS_COMMANDS, 'nft'] }, '…', …)   (test/support/needs.ts)
// which skips with one line saying what is missing.
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export { isRoot } from './needs.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a program (no shell), resolving with its output and exit code; never rejects on a non-zero exit. */
export function run(cmd: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: options.timeoutMs ?? 20_000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

async function must(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** What a probe saw for one connection attempt. */
export type ProbeResult =
  /** The server's identity, and the client address it saw (the node's, when masqueraded). */
  | { kind: 'reply'; identity: string; peer: string }
  | { kind: 'refused' }
  | { kind: 'timeout' }
  | { kind: 'error'; message: string };

export interface ProbeTarget {
  ip: string;
  port: number;
  protocol: 'tcp' | 'udp';
  /** How many independent connections (new source ports) to try. */
  count?: number;
  /** Source address to send from (one of the namespace's addresses). */
  source?: string;
}

// A server that answers every TCP connection and UDP datagram with "identity|client address", on the
// given hosts (default: every IPv4 and IPv6 address of the namespace).
const SERVER_JS = `
const net = require('node:net'), dgram = require('node:dgram');
const [identity, hostList, ...ports] = process.argv.slice(1);
const hosts = hostList === '*' ? ['0.0.0.0', '::'] : hostList.split(',');
const strip = (a) => a.replace(/^::ffff:/, '');
for (const port of ports.map(Number)) {
  for (const host of hosts) {
    const v6 = host.includes(':');
    const s = net.createServer((c) => { c.on('error', () => {}); c.end(identity + '|' + strip(c.remoteAddress || '')); });
    s.on('error', () => {});
    s.listen({ port, host, ipv6Only: v6 });
    const u = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
    u.on('error', () => {});
    u.on('message', (_m, r) => u.send(identity + '|' + strip(r.address), r.port, r.address));
    u.bind(port, host);
  }
}
setTimeout(() => process.stdout.write('ready\\n'), 50);
`;

// Tries each target COUNT times in parallel and prints one JSON array of arrays of ProbeResult.
const PROBE_JS = `
const net = require('node:net'), dgram = require('node:dgram');
const targets = JSON.parse(process.argv[1]); const timeout = Number(process.argv[2]);
const reply = (text) => { const i = text.lastIndexOf('|'); return { kind: 'reply', identity: text.slice(0, i), peer: text.slice(i + 1) }; };
function tcp(t) { return new Promise((res) => {
  const s = net.connect({ host: t.ip, port: t.port, ...(t.source ? { localAddress: t.source } : {}) }); let data = ''; let done = false;
  const end = (r) => { if (!done) { done = true; s.destroy(); res(r); } };
  s.setTimeout(timeout, () => end({ kind: 'timeout' }));
  s.on('data', (d) => { data += d; }); s.on('end', () => end(reply(data)));
  s.on('error', (e) => end(e.code === 'ECONNREFUSED' ? { kind: 'refused' } : e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' ? { kind: 'refused' } : { kind: 'error', message: e.code || String(e) }));
}); }
function udp(t) { return new Promise((res) => {
  const s = dgram.createSocket(t.ip.includes(':') ? 'udp6' : 'udp4'); let done = false;
  const end = (r) => { if (!done) { done = true; clearTimeout(timer); try { s.close(); } catch {} res(r); } };
  const timer = setTimeout(() => end({ kind: 'timeout' }), timeout);
  s.on('message', (m) => end(reply(String(m))));
  s.on('error', (e) => end(e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' ? { kind: 'refused' } : { kind: 'error', message: e.code || String(e) }));
  const go = () => s.connect(t.port, t.ip, () => s.send('hello'));
  if (t.source) s.bind(0, t.source, go); else go();
}); }
Promise.all(targets.map((t) => Promise.all(Array.from({ length: t.count || 1 }, () => (t.protocol === 'udp' ? udp(t) : tcp(t))))))
  .then((r) => process.stdout.write(JSON.stringify(r)));
`;

/**
 * A set of network namespaces owned by one test file. Names include the process id and a prefix,
 * so parallel test files and leftover runs never collide; cleanup() removes only what this lab made.
 */
export class NetnsLab {
  readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly servers: ChildProcess[] = [];

  constructor(label: string) {
    this.prefix = `knet-${label}-${process.pid}`;
  }

  /** The full namespace name for a short one. */
  name(short: string): string {
    return `${this.prefix}-${short}`;
  }

  /** Creates a namespace with loopback up; returns its full name. */
  async addNamespace(short: string): Promise<string> {
    const ns = this.name(short);
    await must('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await this.must(ns, ['ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A veth pair between two namespaces, both ends up, with optional addresses (CIDR form). */
  async addVeth(a: { ns: string; ifname: string; address?: string | string[] }, b: { ns: string; ifname: string; address?: string | string[] }): Promise<void> {
    const tmp = `kv${process.pid % 100000}${this.namespaces.length}${Math.floor(Math.random() * 1000)}`.slice(0, 14);
    await must('ip', ['link', 'add', `${tmp}a`, 'type', 'veth', 'peer', 'name', `${tmp}b`]);
    await must('ip', ['link', 'set', `${tmp}a`, 'netns', a.ns, 'name', a.ifname]);
    await must('ip', ['link', 'set', `${tmp}b`, 'netns', b.ns, 'name', b.ifname]);
    for (const end of [a, b]) {
      for (const address of [end.address ?? []].flat()) await this.must(end.ns, ['ip', 'addr', 'add', address, 'dev', end.ifname, ...(address.includes(':') ? ['nodad'] : [])]);
      await this.must(end.ns, ['ip', 'link', 'set', end.ifname, 'up']);
    }
  }

  async addRoute(ns: string, destination: string, via: { gateway?: string; dev?: string }): Promise<void> {
    const args = ['ip', ...(destination.includes(':') ? ['-6'] : []), 'route', 'add', destination];
    if (via.gateway) args.push('via', via.gateway);
    if (via.dev) args.push('dev', via.dev);
    await this.must(ns, args);
  }

  async sysctl(ns: string, settings: Record<string, string | number>): Promise<void> {
    for (const [key, value] of Object.entries(settings)) await this.must(ns, ['sysctl', '-q', '-w', `${key}=${value}`]);
  }

  /** The sysctls a "node" namespace needs to route pod traffic and answer with REJECTs promptly. */
  async makeRouter(ns: string): Promise<void> {
    await this.sysctl(ns, {
      'net.ipv4.ip_forward': 1,
      'net.ipv6.conf.all.forwarding': 1,
      // Rapid REJECTs are otherwise rate-limited into timeouts.
      'net.ipv4.icmp_ratelimit': 0,
      'net.ipv6.icmp.ratelimit': 0,
    });
    // Packet and byte counts on conntrack entries, so that `conntrack -L` captures show them.
    await this.exec(ns, ['sysctl', '-q', '-w', 'net.netfilter.nf_conntrack_acct=1']);
  }

  exec(ns: string, argv: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', ns, ...argv], options);
  }

  async must(ns: string, argv: string[], input?: string): Promise<string> {
    const r = await this.exec(ns, argv, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`[${ns}] ${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /**
   * Starts a server in `ns` that answers TCP and UDP on each port with `identity` and the client address
   * it saw; `hosts` limits it to some of the namespace's addresses. Resolves once it listens.
   */
  async startServer(ns: string, identity: string, ports: number[], hosts: string[] = []): Promise<void> {
    const hostList = hosts.length === 0 ? '*' : hosts.join(',');
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER_JS, identity, hostList, ...ports.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.servers.push(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server ${identity} in ${ns} did not start`)), 10_000);
      child.stdout.on('data', (d: Buffer) => {
        if (String(d).includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server ${identity} in ${ns} exited (${code})`));
      });
    });
  }

  /** Connects from `ns` to each target (count times, in parallel) and says what each attempt saw. */
  async probe(ns: string, targets: ProbeTarget[], timeoutMs = 400): Promise<ProbeResult[][]> {
    const r = await this.exec(ns, [process.execPath, '-e', PROBE_JS, JSON.stringify(targets), String(timeoutMs)], { timeoutMs: timeoutMs * 4 + 10_000 });
    if (r.code !== 0) throw new Error(`probe in ${ns} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as ProbeResult[][];
  }

  /** Stops this lab's servers (by the processes it started) and deletes its namespaces (by the names it made). */
  async cleanup(): Promise<void> {
    for (const child of this.servers.splice(0)) {
      if (child.exitCode === null && child.pid !== undefined) {
        child.kill('SIGTERM');
        await new Promise((resolve) => {
          const t = setTimeout(resolve, 1000);
          child.once('exit', () => {
            clearTimeout(t);
            resolve(undefined);
          });
        });
      }
    }
    for (const ns of this.namespaces.splice(0).reverse()) await run('ip', ['netns', 'del', ns]);
  }
}
