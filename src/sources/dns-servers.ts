// Which DNS servers `knet dns` asks, and over what: the servers the user names (UDP, TCP on truncation
// or with --tcp), or live, every ready cluster DNS replica through a port-forward to its pod.
import type { AskOptions } from '../dns/judge.js';
import type { Cluster } from '../model/cluster.js';
import { environmentError, inputError } from '../model/errors.js';
import type { SourceOptions } from './cluster.js';
import { SocketDnsTransport, parseServerAddress } from './dns-transport.js';

export interface DnsServerOptions {
  /** `--server HOST:PORT`, each a replica of its own. */
  servers: string[];
  isTcp: boolean;
  timeoutMs: number;
  retries: number;
  /** Live and without --server: ask each ready endpoint of the cluster DNS Service through a port-forward. */
  live?: { source: SourceOptions; cluster: Cluster };
}

export interface OpenedDnsServers {
  /** Undefined when no server is asked (a snapshot without --server). */
  ask?: AskOptions;
  close(): void;
}

/** `--timeout`: milliseconds as `500ms`, `2s` or a bare number of seconds. */
export function parseQueryTimeout(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : NaN;
  if (!m || !(ms >= 1) || ms > 60_000) {
    throw inputError(`--timeout "${text}" is not a duration between 1ms and 60s`, 'bad-duration', ['Give e.g. --timeout 2s or --timeout 500ms.']);
  }
  return Math.round(ms);
}

export async function openDnsServers(o: DnsServerOptions): Promise<OpenedDnsServers> {
  if (o.servers.length) {
    const servers = [...new Set(o.servers.map((s) => parseServerAddress(s).text))];
    const transport = new SocketDnsTransport({ timeoutMs: o.timeoutMs, retries: o.retries });
    return { ask: { transport, servers, isTcp: o.isTcp, nextId: transport.nextId }, close: () => transport.close() };
  }
  if (!o.live) return { close: () => undefined };
  const { openKubeDnsPortForward } = await import('./live/dns-portforward.js');
  const pf = await openKubeDnsPortForward(o.live.source, o.live.cluster, { timeoutMs: o.timeoutMs });
  if (!pf.servers.length) {
    throw environmentError('the cluster DNS Service kube-system/kube-dns has no ready endpoint to ask', 'dns-no-server', [
      'Check the DNS pods: kubectl -n kube-system get pods -l k8s-app=kube-dns',
      'Or ask a server directly with --server HOST:PORT.',
    ]);
  }
  return { ask: { transport: pf.transport, servers: pf.servers, isTcp: true, nextId: pf.nextId }, close: () => pf.close() };
}
