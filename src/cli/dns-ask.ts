// The DNS servers `knet trace` (a DNS name as DST) and `knet check` (dns checks, connect checks to a
// name) ask, as `knet dns` asks them: each `--server IP[:PORT]`, or live without --server each ready
// kube-dns pod through a port-forward. On a snapshot without --server nothing is asked, and names are
// judged from the records the API implies. Servers are opened on first need, once per command.
import { buildDnsIndex, planResolver, resolveName, type RecordType } from '../dns/index.js';
import type { AskOptions } from '../dns/judge.js';
import type { DnsReport } from '../dns/types.js';
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
  return resolveName({ name: o.name, type: o.type ?? 'A', plan, index, ...(ask ? { ask } : {}) });
}
