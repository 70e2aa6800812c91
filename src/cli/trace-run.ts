// One trace from references to report: open the source, resolve SRC and DST, read the node state the
// packet meets, run the engine. Shared by `knet trace` and `knet check`'s connect checks, so that a
// check judges a connection exactly as trace does.
import { inputError } from '../model/errors.js';
import type { Protocol } from '../model/k8s.js';
import type { Service } from '../model/k8s.js';
import { openCluster, reportSkipped, type OpenedCluster, type SourceOptions } from '../sources/cluster.js';
import { applyProbe, parseProbeOutput, probeTargets } from '../trace/probe.js';
import { newTraceLookups, scopeShortfall, type TraceLookups } from '../trace/scope.js';
import { TraceInputError, traceConnection, type TraceSource } from '../trace/trace.js';
import type { TraceReport } from '../trace/types.js';
import type { DnsAsker } from './dns-ask.js';
import { connectionPort, type Ref } from './refs.js';
import { destinationIPs, namespacesOf, parseProtocol, parseTraceRefs, readNodePortNodeState, readTraceNodeState, resolveDestination, resolveSource } from './trace-input.js';

export interface TraceRequest {
  src: string;
  dst: string;
  port?: number;
  protocol?: string;
  /** `--probe`: a real connection attempt from the source pod, each connect bounded by this many seconds. */
  probe?: { connectTimeoutSeconds: number };
  /** `--server IP[:PORT]`: the DNS servers a DNS name is asked of (default live: each kube-dns pod). */
  servers?: string[];
}

export async function runTrace(options: SourceOptions, request: TraceRequest, opened?: OpenedCluster, dns?: DnsAsker): Promise<TraceReport> {
  const { src: srcRef, dst: dstRef } = parseTraceRefs(request.src, request.dst);
  const protocol: Protocol = parseProtocol(request.protocol);
  let traced: Traced | null = null;
  const only = opened ? null : scopeOf(options, srcRef, dstRef);
  if (only) {
    // Read only the namespaces of SRC and DST (and every cluster-scoped object), then keep the answer
    // only when nothing left out could have changed it (src/trace/scope.ts). Otherwise, and on any
    // error, read the whole cluster: the answer and every error are then exactly those of a full read.
    try {
      const partial = await openCluster({ ...options, allNamespaces: true, namespaces: namespacesOf(srcRef, dstRef), onlyNamespaces: only });
      const lookups = partial.partial ? newTraceLookups() : undefined;
      const scoped = await traceIn(partial, options, request, srcRef, dstRef, protocol, dns, lookups);
      if (!partial.partial || !lookups || scopeShortfall(partial.cluster, partial.partial, lookups, scoped.service) === null) {
        reportSkipped(partial.skipped);
        traced = scoped;
      }
    } catch {
      traced = null;
    }
  }
  if (traced === null) {
    // Policies are read cluster-wide: a peer's namespaceSelector may pick pods anywhere.
    const cluster = opened ?? (await openCluster({ ...options, allNamespaces: true, namespaces: namespacesOf(srcRef, dstRef) }));
    traced = await traceIn(cluster, options, request, srcRef, dstRef, protocol, dns);
  }
  return request.probe ? probe(options, traced.report, traced.source, request.probe.connectTimeoutSeconds) : traced.report;
}

/**
 * The namespaces a trace from SRC to DST reads on a snapshot, or null when it needs the whole cluster
 * from the start: a destination given as an address, a node or a DNS name is looked up among every
 * Service, node and pod (or asked of DNS, whose records span the cluster).
 */
function scopeOf(options: SourceOptions, src: Ref, dst: Ref): string[] | null {
  if (options.snapshot === undefined || (dst.kind !== 'service' && dst.kind !== 'pod')) return null;
  const namespace = options.namespace ?? 'default';
  const ns = (r: Ref): string[] => (r.kind === 'pod' || r.kind === 'service' ? [r.namespace ?? namespace] : []);
  return [...new Set([...ns(src), ...ns(dst)])];
}

interface Traced {
  report: TraceReport;
  source: TraceSource;
  /** The destination Service, when DST is one. */
  service: Service | null;
}

/** Resolve SRC and DST in the cluster, read the node state the packet meets, run the engine. */
async function traceIn(cluster: OpenedCluster, options: SourceOptions, request: TraceRequest, srcRef: Ref, dstRef: Ref, protocol: Protocol, dns: DnsAsker | undefined, lookups?: TraceLookups): Promise<Traced> {
  const namespace = options.namespace ?? cluster.namespace;
  const source = resolveSource(cluster, srcRef, namespace);
  const destination = resolveDestination(cluster, dstRef, namespace);
  const port = connectionPort(request.dst, dstRef, request.port);
  if (destination.kind === 'dns') {
    // As the source pod's resolver would walk its search list: asked of the DNS servers (live, each
    // kube-dns pod; or --server), each answer compared with the records the API implies; on a snapshot
    // without --server, judged from those records alone (the output says that no server was asked).
    // The DNS engine only for a DNS name: a trace to a Service or a pod never loads it.
    const [{ DnsAsker: Asker, resolveNameFor }, { resolutionFromDns }] = await Promise.all([import('./dns-ask.js'), import('../trace/dns.js')]);
    const pod = source.kind === 'pod' ? source.pod : undefined;
    const asker = dns ?? new Asker(options, request.servers ?? []);
    let report;
    try {
      report = await resolveNameFor(cluster, asker, { name: destination.name, namespace: pod?.metadata.namespace ?? namespace, ...(pod ? { pod } : {}) });
    } finally {
      if (!dns) asker.close();
    }
    destination.resolution = resolutionFromDns(report, cluster.cluster, cluster.clusterDomain);
    if (destination.resolution === null) destination.unavailable = `${destination.name} is outside the cluster domain ${cluster.clusterDomain}, and no DNS server was asked: only a server can say what it resolves to`;
  }
  const nodeState = await readTraceNodeState(cluster, source, destination, destinationIPs(cluster, destination));
  const nodePortNodeState = await readNodePortNodeState(cluster, source, destination, port, protocol);
  let report: TraceReport;
  try {
    report = traceConnection({ cluster: cluster.cluster, source, destination, ...(port !== undefined ? { port } : {}), protocol, nodeState, nodePortNodeState, ...(lookups ? { lookups } : {}) });
  } catch (err) {
    if (err instanceof TraceInputError) throw inputError(err.message, 'missing-port', ['For example: --port 80.']);
    throw err;
  }
  return { report, source, service: destination.kind === 'service' ? destination.service : null };
}

/** The `probe` hop: the addresses the trace judged, tried for real from inside the source pod (live only). */
async function probe(options: SourceOptions, report: TraceReport, source: TraceSource, connectTimeoutSeconds: number): Promise<TraceReport> {
  if (options.snapshot !== undefined) return applyProbe(report, { skipped: '--probe needs a live cluster: a snapshot has no pod to connect from', remedy: 'Trace the live cluster (without --snapshot).' });
  const targets = probeTargets(report);
  if (!Array.isArray(targets) || source.kind !== 'pod') return applyProbe(report, Array.isArray(targets) ? { skipped: '--probe connects from inside a source pod', remedy: 'Trace from a pod.' } : targets);
  const { probeLive } = await import('../sources/live/probe.js');
  const pod = { namespace: source.pod.metadata.namespace ?? 'default', name: source.pod.metadata.name };
  const ran = await probeLive(options, pod, targets, connectTimeoutSeconds);
  return applyProbe(report, { container: ran.container, pod: ran.pod, image: ran.image, attempts: parseProbeOutput(ran.output, targets) });
}
