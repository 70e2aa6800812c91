// The shapes of `knet trace`: one connection walked hop by hop. The stage names, statuses and verdicts
// are the contract of docs/cli.md; renderers only format these, they never re-derive a verdict.
import type { Finding } from '../model/finding.js';
import type { Protocol } from '../model/k8s.js';
import type { ProbeRun } from './probe.js';

/** The stages, in the order a packet meets them. */
export const STAGES = ['resolve', 'service', 'endpoints', 'policy-egress', 'node-rules', 'route', 'policy-ingress', 'conntrack', 'probe'] as const;
export type Stage = (typeof STAGES)[number];

export type HopStatus = 'ok' | 'warn' | 'fail' | 'skip';

export type TraceVerdict = 'delivered' | 'dropped' | 'rejected' | 'unknown';

/** What happens to the packet when a hop fails: silently dropped (a timeout) or rejected (refused at once). */
export type Fate = 'dropped' | 'rejected' | 'unknown';

export interface Hop {
  stage: Stage;
  status: HopStatus;
  /** One sentence: what this hop did to the connection. */
  summary: string;
  /** The objects, rules and lines that decided it, one per line. */
  evidence: string[];
  /** What to do about a failure or warning; for a skipped hop, what would fill it. */
  remedy?: string;
  /** For a failed hop: what the packet suffers there. */
  fate?: Fate;
}

/** One endpoint a Service may send the connection to, and the path to it. */
export interface Branch {
  /** `IP:PORT` of the endpoint. */
  endpoint: string;
  /** `NS/NAME` of the pod behind it, or null (an endpoint that is no pod, or one the API does not know). */
  pod: string | null;
  node: string | null;
  /**
   * The share of new connections kube-proxy sends here: from the node's rules when they were read,
   * else kube-proxy's even split over the endpoints; null when the client chooses (a headless Service).
   */
  probability: number | null;
  verdict: TraceVerdict;
  hops: Hop[];
}

export interface TraceEnd {
  kind: 'pod' | 'service' | 'node' | 'ip' | 'dns';
  /** `NS/NAME`, `svc/NS/NAME`, `node/NAME`, an IP, or the DNS name. */
  name: string;
  ips: string[];
  /** For a pod or a node source: the node whose kube-proxy rules the packet meets first. */
  node?: string;
}

export interface Reachability {
  /** Endpoints a connection can reach, of those kube-proxy may pick. */
  endpoints: number;
  of: number;
  /** Share of new connections that are delivered (kube-proxy's probabilities), when known. */
  probability: number | null;
}

export interface TraceReport {
  verdict: TraceVerdict;
  src: TraceEnd;
  dst: TraceEnd;
  port: number | null;
  protocol: Protocol;
  hops: Hop[];
  branches: Branch[];
  reachable: Reachability;
  /** The first hop that failed (top level), with why and what to do; null when none did. */
  firstFailure: { stage: Stage; summary: string; remedy?: string; endpoint?: string } | null;
  /** Hops judged without the state they need, e.g. `node-rules` without node state. */
  notJudged: Stage[];
  findings: Finding[];
  /** With --probe: the real connection attempts from the source pod, or why none was made. */
  probe?: ProbeRun;
}
