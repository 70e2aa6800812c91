// DNS over UDP and TCP to servers the user names (`--server HOST:PORT`): the bytes and the clock, nothing
// else. The engine (src/dns/wire.ts) builds the messages, retries over TCP on truncation and judges.
import { createSocket, type Socket } from 'node:dgram';
import { connect, isIP, isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { DnsExchange, DnsTransport, TransportReply } from '../dns/wire.js';
import { inputError } from '../model/errors.js';

export interface ServerAddress {
  host: string;
  port: number;
  /** `HOST:PORT` as printed (IPv6 in brackets). */
  text: string;
}

/** `HOST`, `HOST:PORT`, `[IPv6]:PORT` or a bare IPv6 address; the port defaults to 53. */
export function parseServerAddress(text: string): ServerAddress {
  const t = text.trim();
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  let host: string;
  let port = 53;
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (isIPv6(t)) {
    host = t;
  } else {
    const m = /^([A-Za-z0-9.-]+)(?::(\d+))?$/.exec(t);
    if (!m) throw inputError(`--server "${text}" is not HOST:PORT`, 'bad-server', ['Write --server 10.96.0.10:53, --server 127.0.0.1:5353 or --server [fd00::a]:53.']);
    host = m[1]!;
    if (m[2] !== undefined) port = Number(m[2]);
  }
  // Replies are matched by the address they come from: a name could resolve to another address than the one that answers.
  if (!isIP(host)) throw inputError(`--server "${text}" names a host, not an address`, 'bad-server', ['Give the server\'s IP address, as in resolv.conf: --server 127.0.0.1:5353.']);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw inputError(`--server "${text}" has port ${port}, which is not 1-65535`, 'bad-server');
  return { host, port, text: isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}` };
}

export interface DnsTransportOptions {
  /** How long to wait for one reply before a retry (UDP) or giving up (TCP). */
  timeoutMs: number;
  /** UDP retries after a timeout (as resolv.conf `attempts`, minus one). */
  retries: number;
}

/** The largest reply accepted over TCP: the 2-byte length prefix allows no more. */
const maxTcpMessage = 65535;

interface Pending {
  resolve: (reply: TransportReply) => void;
  ignored: number;
}

/**
 * UDP with one socket per address family, replies matched to queries by server and ID (datagrams
 * with an ID nobody waits for are dropped, as a resolver does); TCP with one connection per query.
 */
export class SocketDnsTransport implements DnsTransport {
  private sockets = new Map<4 | 6, Socket>();
  private pending = new Map<string, Pending>();
  private inFlightIds = new Set<number>();
  private addresses = new Map<string, ServerAddress>();

  constructor(private readonly options: DnsTransportOptions) {}

  /** A query ID no query in flight uses. */
  nextId = (): number => {
    for (;;) {
      const id = Math.floor(Math.random() * 65536);
      if (!this.inFlightIds.has(id)) return id;
    }
  };

  private address(server: string): ServerAddress {
    let a = this.addresses.get(server);
    if (!a) {
      a = parseServerAddress(server);
      this.addresses.set(server, a);
    }
    return a;
  }

  private socket(family: 4 | 6): Socket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = createSocket(family === 6 ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => {
      if (msg.length < 2) return this.strays(rinfo.address, rinfo.port);
      const k = `${rinfo.address}|${rinfo.port}|${msg.readUInt16BE(0)}`;
      const p = this.pending.get(k);
      if (!p) return this.strays(rinfo.address, rinfo.port);
      this.pending.delete(k);
      p.resolve({ kind: 'reply', message: new Uint8Array(msg), ms: 0 });
    });
    s.on('error', () => undefined);
    s.unref();
    this.sockets.set(family, s);
    return s;
  }

  /** A datagram from a server with an ID nobody waits for: count it against that server's queries. */
  private strays(host: string, port: number): void {
    const prefix = `${host}|${port}|`;
    for (const [k, p] of this.pending) if (k.startsWith(prefix)) p.ignored++;
  }

  async exchange(q: DnsExchange): Promise<TransportReply> {
    const a = this.address(q.server);
    this.inFlightIds.add(q.id);
    try {
      return q.isTcp ? await this.tcp(a, q) : await this.udp(a, q);
    } finally {
      this.inFlightIds.delete(q.id);
    }
  }

  private async udp(a: ServerAddress, q: DnsExchange): Promise<TransportReply> {
    const family = isIPv6(a.host) ? 6 : 4;
    const socket = this.socket(family);
    const start = performance.now();
    let ignored = 0;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      const k = `${a.host}|${a.port}|${q.id}`;
      const reply = await new Promise<TransportReply>((resolve) => {
        const p: Pending = { resolve, ignored: 0 };
        const timer = setTimeout(() => {
          this.pending.delete(k);
          ignored += p.ignored;
          resolve({ kind: 'timeout', ms: 0 });
        }, this.options.timeoutMs);
        p.resolve = (r) => {
          clearTimeout(timer);
          resolve(r);
        };
        this.pending.set(k, p);
        socket.send(q.message, a.port, a.host, (err) => {
          if (!err) return;
          clearTimeout(timer);
          this.pending.delete(k);
          resolve({ kind: 'error', ms: 0, detail: `cannot send to ${a.text}: ${err.message}` });
        });
      });
      if (reply.kind !== 'timeout') return { ...reply, ms: performance.now() - start };
    }
    const tries = this.options.retries + 1;
    return {
      kind: 'timeout',
      ms: performance.now() - start,
      detail: `no reply within ${this.options.timeoutMs} ms, ${tries} ${tries === 1 ? 'try' : 'tries'}${ignored ? `; ${ignored} repl${ignored === 1 ? 'y' : 'ies'} with another query ID ignored` : ''}`,
    };
  }

  private tcp(a: ServerAddress, q: DnsExchange): Promise<TransportReply> {
    const start = performance.now();
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const sock = connect({ host: a.host, port: a.port });
      const finish = (r: TransportReply): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        resolve({ ...r, ms: performance.now() - start });
      };
      const timer = setTimeout(() => finish({ kind: 'timeout', ms: 0, detail: `no reply over TCP within ${this.options.timeoutMs} ms` }), this.options.timeoutMs);
      sock.on('connect', () => {
        const frame = Buffer.alloc(2 + q.message.length);
        frame.writeUInt16BE(q.message.length, 0);
        frame.set(q.message, 2);
        sock.write(frame);
      });
      sock.on('data', (d: Buffer) => {
        chunks.push(d);
        size += d.length;
        if (size > maxTcpMessage + 2) return finish({ kind: 'error', ms: 0, detail: 'more bytes over TCP than a DNS message can hold' });
        if (size < 2) return;
        const all = Buffer.concat(chunks);
        const length = all.readUInt16BE(0);
        if (all.length >= 2 + length) finish({ kind: 'reply', ms: 0, message: new Uint8Array(all.subarray(2, 2 + length)) });
      });
      sock.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'error', ms: 0, detail: `TCP to ${a.text}: ${err.code ?? err.message}` }));
      sock.on('close', () => finish({ kind: 'error', ms: 0, detail: `TCP connection to ${a.text} closed after ${size} bytes, before a whole reply` }));
    });
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }
}
