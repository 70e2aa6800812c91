/**
 * The DNS engine: what the API says a name must resolve to, how a pod's resolver walks its search list,
 * and how each server's answers compare. Pure: I/O only through the `DnsTransport` a caller hands in.
 *
 * For one name, as the pod would resolve it:
 *
 *   const index = buildDnsIndex(cluster, { clusterDomain });            // records the API implies
 *   const plan = planResolver(cluster, { clusterDomain, namespace, pod }); // search list, ndots, nameservers
 *   // without a server (a snapshot): judged from the API's records alone, `judgedFrom: 'api'`
 *   const report = judgeName({ name, type: 'A', plan, index, runs: null });
 *   // with servers: ask them (the walk stops where the resolver would), then judge
 *   const report = await resolveName({ name, type: 'A', plan, index, ask: { transport, servers, isTcp, nextId } });
 *
 * `report` is `DnsReport` ({ name, type, searchList, tried, expected, findings, outcome, resolvedAs, … }):
 * `outcome` is 'resolves' | 'nxdomain' | 'nodata' | 'failure' | 'unknown' (a name outside the cluster
 * domain with no server asked), which `knet check`'s `expect: resolves|nxdomain` reads; `tried` is the
 * resolver's sequence (with `server: null` when no server was asked) and `expected` the API's records for
 * the name it settles on. `searchSequence(name, plan)` alone gives the ordered names.
 *
 * Other pieces: `expectRecords(index, fqdn, type)` (one query's expectation), `reverseName(ip)` (for PTR),
 * `namesToCheck(index, inScope)` and `resolveAll(…)` (`knet dns --all`), `queryServer` and the wire codec.
 */
import type { Cluster } from '../model/cluster.js';
import type { Pod } from '../model/k8s.js';
import { countFindings } from '../model/finding.js';
import { askServers, judgeName, namesToCheck, type AskOptions } from './judge.js';
import { buildDnsIndex, type DnsIndex } from './records.js';
import { planResolver, searchSequence, type ResolverPlan } from './resolver.js';
import type { DnsAllReport, DnsReport, RecordType } from './types.js';

export * from './types.js';
export {
  addressOfReverseName,
  buildDnsIndex,
  dashedIP,
  expectRecords,
  isInZone,
  normalizeName,
  podModeOf,
  reverseName,
  type DnsEndpoint,
  type DnsIndex,
  type Expectation,
  type PodMode,
  type ServiceDns,
} from './records.js';
export { clusterDnsIPs, defaultSourcePod, planResolver, searchSequence, type PlanOptions, type ResolverPlan } from './resolver.js';
export { askServers, judgeName, namesToCheck, SERVER_DISAGREES_CODES, subdomainProblem, type AskOptions, type JudgeInput, type ServerRun } from './judge.js';
export { formatZones, type ZoneFile } from './zone.js';
export { decodeReply, encodeQuery, queryServer, type DnsExchange, type DnsTransport, type QueryOptions, type TransportReply } from './wire.js';

export interface ResolveInput {
  name: string;
  type: RecordType;
  plan: ResolverPlan;
  index: DnsIndex;
  /** Servers to ask and how; absent or with no server: judged from the API's records alone. */
  ask?: AskOptions;
}

/** Resolve one name as the plan's pod would, against each server (or the API alone), and judge it. */
export async function resolveName(input: ResolveInput): Promise<DnsReport> {
  const { ask } = input;
  if (!ask || ask.servers.length === 0) return judgeName({ ...input, runs: null });
  const runs = await askServers(searchSequence(input.name, input.plan), input.type, ask);
  return judgeName({ ...input, runs });
}

/** Shortcut for a snapshot with no server: the report for `name` from `pod` (or a ClusterFirst pod in `namespace`). */
export function judgeFromApi(cluster: Cluster, o: { name: string; type?: RecordType; clusterDomain: string; namespace: string; pod?: Pod }): DnsReport {
  const index = buildDnsIndex(cluster, { clusterDomain: o.clusterDomain });
  const plan = planResolver(cluster, { clusterDomain: o.clusterDomain, namespace: o.namespace, ...(o.pod ? { pod: o.pod } : {}) });
  return judgeName({ name: o.name, type: o.type ?? 'A', plan, index, runs: null });
}

export interface ResolveAllInput {
  index: DnsIndex;
  plan: ResolverPlan;
  inScope: (namespace: string) => boolean;
  ask?: AskOptions;
  /** How many names are in flight at once (each is asked of every server). */
  concurrency?: number;
}

/** `knet dns --all`: every Service name and every hostname.subdomain name in scope, each asked once per server as an FQDN. */
export async function resolveAll(input: ResolveAllInput): Promise<DnsAllReport> {
  const names = namesToCheck(input.index, input.inScope);
  const reports: DnsReport[] = new Array<DnsReport>(names.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++;
      const n = names[i]!;
      reports[i] = await resolveName({ name: n.name, type: n.type, plan: input.plan, index: input.index, ...(input.ask ? { ask: input.ask } : {}) });
    }
  };
  const width = Math.max(1, Math.min(input.concurrency ?? 64, names.length));
  await Promise.all(Array.from({ length: width }, worker));
  return { names: reports, summary: summarize(reports) };
}

export function summarize(reports: DnsReport[]): DnsAllReport['summary'] {
  const all = reports.flatMap((r) => r.findings);
  return {
    names: reports.length,
    servers: reports[0]?.servers.length ?? 0,
    queries: reports.reduce((n, r) => n + r.tried.filter((q) => q.server !== null).length, 0),
    errors: countFindings(all, 'error'),
    warnings: countFindings(all, 'warning'),
    resolves: reports.filter((r) => r.outcome === 'resolves').length,
    failing: reports.filter((r) => r.findings.some((f) => f.severity === 'error')).length,
  };
}
