// What `knet trace` and `knet check` read before the trace engine runs: SRC and DST references
// resolved in the cluster, and the node state of the node the packet meets first, from whichever
// source the cluster came from (snapshot files, or live through a debug pod).
import { inputError } from '../model/errors.js';
import type { Protocol } from '../model/k8s.js';
import { canonicalIP } from '../model/ip.js';
import { scanConntrack } from '../netfilter/conntrack/scan.js';
import type { OpenedCluster } from '../sources/cluster.js';
import type { NodeStateKind } from '../sources/node-state.js';
import { parseTraceNodeState, type TraceNodeState } from '../trace/node-state.js';
import { nodePortNodeOf, rulesNodeOf, type TraceDestination, type TraceSource } from '../trace/trace.js';
import { captureHint } from './node-read.js';
import { parseRef, type Ref } from './refs.js';
import { resolveNode, resolvePod, resolveService } from './resolve.js';

export function parseTraceRefs(srcText: string, dstText: string): { src: Ref; dst: Ref } {
  const src = parseRef(srcText, { what: 'SRC' });
  if (src.kind === 'service') {
    throw inputError(`SRC "${srcText}" is a Service, and traffic leaves a pod, never a Service`, 'bad-reference', ['Give one of its pods as SRC (kubectl get pods -l …), or a node or an IP.']);
  }
  const dst = parseRef(dstText, { what: 'DST', allowDns: true });
  return { src, dst };
}

/** Namespaces the references name, so that a live source lists them too. */
export function namespacesOf(...refs: Ref[]): string[] {
  return refs.flatMap((r) => ((r.kind === 'pod' || r.kind === 'service') && r.namespace ? [r.namespace] : []));
}

export function resolveSource(opened: OpenedCluster, ref: Ref, namespace: string): TraceSource {
  switch (ref.kind) {
    case 'pod':
      return { kind: 'pod', pod: resolvePod(opened.cluster, ref, namespace) };
    case 'node':
      return { kind: 'node', node: resolveNode(opened.cluster, ref.name) };
    case 'ip':
      return { kind: 'ip', ip: ref.ip };
    default:
      throw inputError(`SRC must be a pod, a node or an IP`, 'bad-reference');
  }
}

/** A DST reference as the engine takes it (its port: connectionPort); a DNS name is resolved by the caller and filled in later. */
export function resolveDestination(opened: OpenedCluster, ref: Ref, namespace: string): TraceDestination {
  switch (ref.kind) {
    case 'pod':
      return { kind: 'pod', pod: resolvePod(opened.cluster, ref, namespace) };
    case 'service':
      return { kind: 'service', service: resolveService(opened.cluster, ref, namespace) };
    case 'node':
      return { kind: 'node', node: resolveNode(opened.cluster, ref.name) };
    case 'ip':
      return { kind: 'ip', ip: ref.ip };
    case 'dns':
      return { kind: 'dns', name: ref.name, resolution: null };
  }
}

async function readKind(opened: OpenedCluster, node: string, kind: NodeStateKind): Promise<{ text: string; source: string } | null> {
  const text = await opened.nodeState.read(node, kind);
  return text === null ? null : { text, source: opened.nodeState.describe(node, kind) };
}

/**
 * The state of the node the packet meets first, read from the source (null when no node applies or
 * the source has no state for it): only what the proxy mode needs, and only the conntrack entries
 * that involve the destination's addresses, streamed.
 */
export async function readTraceNodeState(opened: OpenedCluster, source: TraceSource, destination: TraceDestination, dstIPs: readonly string[]): Promise<TraceNodeState | null> {
  const node = rulesNodeOf(opened.cluster, source, destination);
  return node === null ? null : readNodeState(opened, node, dstIPs);
}

/**
 * The state of the node whose NodePort the packet is sent to, when that is not the node it meets first
 * (nodePortNodeOf): its kube-proxy rules and routes, which translate and route the packet on arrival.
 */
export async function readNodePortNodeState(opened: OpenedCluster, source: TraceSource, destination: TraceDestination, port: number | undefined, protocol: Protocol): Promise<TraceNodeState | null> {
  const node = nodePortNodeOf(opened.cluster, source, destination, port, protocol);
  return node === null ? null : readNodeState(opened, node, []);
}

async function readNodeState(opened: OpenedCluster, node: string, dstIPs: readonly string[]): Promise<TraceNodeState> {
  const kinds = new Set(await opened.nodeState.listKinds(node));
  const has = (k: NodeStateKind): boolean => kinds.has(k);
  const mode = opened.cluster.meta.proxyMode;
  const wantIptables = mode === undefined || mode === 'iptables' || mode === 'ipvs';
  const plain = wantIptables && has('iptables-save') ? await readKind(opened, node, 'iptables-save') : null;
  const legacy = wantIptables && !plain && has('iptables-legacy-save') ? await opened.nodeState.read(node, 'iptables-legacy-save') : null;
  const nftBackend = wantIptables && !plain && has('iptables-nft-save') ? await opened.nodeState.read(node, 'iptables-nft-save') : null;
  const nft = (mode === undefined || mode === 'nftables') && has('nft-ruleset') ? await readKind(opened, node, 'nft-ruleset') : null;
  const ipvsadm = (mode === undefined || mode === 'ipvs') && has('ipvsadm') ? await readKind(opened, node, 'ipvsadm') : null;
  const ipset = ipvsadm && has('ipset') ? await opened.nodeState.read(node, 'ipset') : null;
  const ipRoute = has('ip-route') ? await opened.nodeState.read(node, 'ip-route') : null;
  const ipAddr = has('ip-addr') ? await opened.nodeState.read(node, 'ip-addr') : null;
  let conntrack = null;
  if (has('conntrack') && dstIPs.length > 0) {
    const lines = await opened.nodeState.lines(node, 'conntrack');
    if (lines) conntrack = (await scanConntrack(lines, { filter: { ips: dstIPs.map(canonicalIP) }, limit: 10_000 })).entries;
  }
  return parseTraceNodeState(opened.cluster, {
    node,
    iptables: plain,
    iptablesLegacy: legacy,
    iptablesNft: nftBackend,
    nft,
    ipvsadm,
    ipset,
    ipRoute,
    ipAddr,
    conntrack,
    hint: (kind) => captureHint(node, kind),
  });
}

/** The addresses a destination's packets are sent to, for the conntrack filter. */
export function destinationIPs(opened: OpenedCluster, destination: TraceDestination): string[] {
  switch (destination.kind) {
    case 'service': {
      const s = destination.service.spec;
      return [...(s?.clusterIPs ?? (s?.clusterIP ? [s.clusterIP] : [])), ...(s?.externalIPs ?? [])].filter((ip) => ip && ip !== 'None');
    }
    case 'pod':
      return (destination.pod.status?.podIPs ?? []).map((p) => p.ip);
    case 'node':
      return (destination.node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
    case 'ip':
      return [destination.ip];
    case 'dns': {
      const named = destination.resolution?.service;
      const svc = named ? opened.cluster.services.find((x) => (x.metadata.namespace ?? 'default') === named.namespace && x.metadata.name === named.name) : undefined;
      return svc ? destinationIPs(opened, { kind: 'service', service: svc }) : (destination.resolution?.addresses ?? []);
    }
  }
}

export function parseProtocol(text: string | undefined): Protocol {
  const p = (text ?? 'TCP').toUpperCase();
  if (p !== 'TCP' && p !== 'UDP' && p !== 'SCTP') throw inputError(`protocol "${text}" is not TCP, UDP or SCTP`, 'bad-protocol');
  return p;
}
