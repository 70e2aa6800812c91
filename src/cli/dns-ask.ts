// The DNS servers `knet trace` (a DNS name as DST) and `knet check` (dns checks, connect checks to a
// name) ask, as `knet dns` asks them: each `--server IP[:PORT]`, or live without --server each ready
// kube-dns pod through a port-forward. On a snapshot without --server nothing is asked, and names are
// judged from the records the API implies. Servers are opened on first need, once per command.
import { buildDnsIndex, planResolver, resolveName, type RecordType } from '../dns/index.js';
import type { AskOptions } from '../dns/judge.js';
import type { DnsAllReport, DnsReport } from '../dns/types.js';
import { environmentError } from '../model/errors.js';
import type { Pod } from '../model/k8s.js';
import type { OpenedCluster, SourceOptions } from '../sources/cluster.js';
import type { OpenedDnsServers } from '../sources/dns-servers.js';

/** The query timeout and retries of `knet dns`'s defaults (`--timeout 2s`, `--retries 1`). */
const TIMEOUT_MS = 2000;
const RETRIES = 1;

export class DnsAsker {
  private opened: Promise<OpenedDnsServers> | undefined;

  constructor(
    private readonly source: SourceOptions,
    /** `--server`, each a replica of its own; none: live, the kube-dns pods; on a snapshot, nobody. */
    private readonly servers: readonly string[],
  ) {}

  /** Undefined when no server is to be asked (a snapshot without --server). */
  async ask(opened: OpenedCluster): Promise<AskOptions | undefined> {
    if (this.servers.length === 0 && this.source.snapshot !== undefined) return undefined;
    this.opened ??= import('../sources/dns-servers.js').then(({ openDnsServers }) =>
      openDnsServers({
        servers: [...this.servers],
        isTcp: false,
        timeoutMs: TIMEOUT_MS,
        retries: RETRIES,
        ...(this.source.snapshot === undefined ? { live: { source: this.source, cluster: opened.cluster } } : {}),
      }),
    );
    return (await this.opened).ask;
  }

  close(): void {
    void this.opened?.then((o) => o.close(), () => undefined);
  }
}

/** One name as `pod` (or a ClusterFirst pod of `namespace`) resolves it: asked of the servers, else judged from the API. */
export async function resolveNameFor(opened: OpenedCluster, asker: DnsAsker, o: { name: string; type?: RecordType; namespace: string; pod?: Pod }): Promise<DnsReport> {
  const index = buildDnsIndex(opened.cluster, { clusterDomain: opened.clusterDomain });
  const plan = planResolver(opened.cluster, { clusterDomain: opened.clusterDomain, namespace: o.namespace, ...(o.pod ? { pod: o.pod } : {}) });
  const ask = await asker.ask(opened);
  const report = await resolveName({ name: o.name, type: o.type ?? 'A', plan, index, ...(ask ? { ask } : {}) });
  // A server nobody reached says nothing about the name: that is the environment, not a DNS verdict.
  if (ask) checkSomeServerAnswered(report, ask.servers);
  return report;
}

/** No server answered at all (unreachable, wrong port, refused port-forward): an environment problem, not a DNS verdict. */
export function checkSomeServerAnswered(result: DnsReport | DnsAllReport, servers: readonly string[]): void {
  const queries = ('names' in result && Array.isArray(result.names) ? result.names : [result as DnsReport]).flatMap((r) => r.tried).filter((q) => q.server !== null);
  if (!queries.length || !queries.every((q) => q.rcode === 'TIMEOUT' || q.rcode === 'ERROR')) return;
  const why = [...new Set(queries.map((q) => `${q.server}: ${q.error ?? q.rcode}`))].slice(0, 4);
  throw environmentError(`no DNS server answered (${servers.join(', ')})`, 'dns-no-answer', [
    ...why,
    'Check the address and port (--server IP:PORT), that the server runs, and that nothing filters port 53 on the way.',
  ]);
}
