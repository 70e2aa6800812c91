// Small matchers in the manner of network-policy-api's policy-assistant (pkg/matcher): each returns
// the differences that keep it from matching, so that "matched" is "no differences" and a near miss
// is "fewest differences". Every difference is worded for people.
import type { LabelSelector, Protocol } from '../model/k8s.js';
import type { Labels } from '../model/labels.js';
import { cidrContainsIP, parseCIDR, parseIP } from '../model/ip.js';
import { resolveNamedPort, podPorts } from '../model/pod.js';
import { endpointIPs, endpointName } from './endpoint.js';
import type { Difference, DifferenceKind, PolicyEndpoint } from './types.js';
import { editDistance } from '../model/text.js';

const knownOperators = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function show(key: string, labels: Labels): string {
  const v = labels[key];
  return v === undefined ? `it has no \`${key}\` label` : `it has \`${key}=${v}\``;
}

/**
 * Why `labels` do not satisfy `selector` (matchLabels ANDed with matchExpressions; NotIn and
 * DoesNotExist also match an absent key). `who` names the thing: "the source", "namespace `y`".
 */
export function selectorDifferences(
  selector: LabelSelector | null | undefined,
  labels: Labels,
  who: string,
  kind: Extract<DifferenceKind, 'pod-label' | 'namespace-label'>,
): Difference[] {
  const out: Difference[] = [];
  if (!selector) return out;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) {
      const have = labels[key];
      out.push({ kind, wish: `${who} had \`${key}=${value}\``, actual: show(key, labels), want: `${key}=${value}`, ...(have !== undefined ? { have: `${key}=${have}` } : {}) });
    }
  }
  for (const req of selector.matchExpressions ?? []) {
    const value = labels[req.key];
    const has = value !== undefined;
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || !values.includes(value)) {
          out.push({ kind, wish: `${who} had \`${req.key}\` in (${values.join(', ')})`, actual: show(req.key, labels) });
        }
        break;
      case 'NotIn':
        if (has && values.includes(value)) {
          out.push({ kind, wish: `${who} had \`${req.key}\` not in (${values.join(', ')})`, actual: show(req.key, labels) });
        }
        break;
      case 'Exists':
        if (!has) out.push({ kind, wish: `${who} had a \`${req.key}\` label`, actual: show(req.key, labels) });
        break;
      case 'DoesNotExist':
        if (has) out.push({ kind, wish: `${who} had no \`${req.key}\` label`, actual: show(req.key, labels) });
        break;
      default:
        out.push({
          kind: 'invalid',
          wish: `the selector were valid`,
          actual: `operator "${req.operator}" for key \`${req.key}\` is not one Kubernetes knows, so it matches nothing`,
        });
    }
  }
  return out;
}

export function isSelectorValid(selector: LabelSelector | null | undefined): boolean {
  return (selector?.matchExpressions ?? []).every((r) => knownOperators.has(r.operator));
}

/** An ipBlock: the peer's IP is in `cidr` and in none of `except` (an except applies only inside its own block). */
export function ipBlockDifferences(block: { cidr: string; except?: string[] | null }, peer: PolicyEndpoint, who: string): Difference[] {
  const cidr = parseCIDR(String(block.cidr));
  if (!cidr || !String(block.cidr).includes('/')) {
    return [{ kind: 'invalid', wish: `the ipBlock's cidr were valid`, actual: `"${String(block.cidr)}" is not a CIDR, so the block matches nothing` }];
  }
  const ips = endpointIPs(peer);
  if (!ips.length) return [{ kind: 'ip', wish: `${who}'s IP were in ${block.cidr}`, actual: `${endpointName(peer)} has no IP` }];
  let firstExcept: string | undefined;
  for (const text of ips) {
    const ip = parseIP(text);
    if (!ip || !cidrContainsIP(cidr, ip)) continue;
    const except = (block.except ?? []).find((e) => {
      const ex = parseCIDR(e);
      return ex !== null && cidrContainsIP(ex, ip);
    });
    if (except === undefined) return [];
    firstExcept ??= except;
  }
  if (firstExcept !== undefined) {
    return [{ kind: 'ip', wish: `${who}'s IP were outside the except ${firstExcept}`, actual: `${ips.join(', ')} is inside it` }];
  }
  return [{ kind: 'ip', wish: `${who}'s IP were in ${block.cidr}`, actual: `${ips.join(', ')} is not` }];
}

export function notAPod(peer: PolicyEndpoint, who: string): Difference {
  return {
    kind: 'not-a-pod',
    wish: `${who} were a pod`,
    actual: `${endpointName(peer)} is not a pod, and pod and namespace selectors match only pods`,
  };
}

/**
 * A port item against (port, protocol). `destination` is where a named port is resolved: the selected
 * pod for ingress, the peer for egress (reference §6). Protocols are exact.
 */
export function portDifferences(
  item: { protocol: Protocol; port?: number | string; endPort?: number },
  port: number,
  protocol: Protocol,
  destination: PolicyEndpoint,
): Difference[] {
  const out: Difference[] = [];
  if (item.protocol !== protocol) {
    out.push({ kind: 'protocol', wish: `the connection were ${item.protocol}`, actual: `it is ${protocol}` });
  }
  if (item.port === undefined || item.port === null) return out;
  if (typeof item.port === 'number') {
    if (item.endPort !== undefined && item.endPort !== null) {
      if (port < item.port || port > item.endPort) {
        out.push({ kind: 'port', wish: `the port were in ${item.port}-${item.endPort}`, actual: `it is ${port}` });
      }
    } else if (port !== item.port) {
      out.push({ kind: 'port', wish: `the port were ${item.port}`, actual: `it is ${port}` });
    }
    return out;
  }
  const name = item.port;
  if (destination.kind !== 'pod') {
    out.push({
      kind: 'named-port',
      wish: `the destination were a pod declaring a port named \`${name}\``,
      actual: `${endpointName(destination)} is not a pod, so a named port cannot be resolved on it`,
    });
    return out;
  }
  const resolved = resolveNamedPort(destination.pod, name, item.protocol);
  if (resolved === undefined) {
    const other = podPorts(destination.pod).find((p) => p.name === name);
    out.push({
      kind: 'named-port',
      wish: `${endpointName(destination)} declared a ${item.protocol} port named \`${name}\``,
      actual: other ? `it declares \`${name}\` only for ${other.protocol}` : `it declares no port of that name`,
    });
  } else if (resolved !== port) {
    out.push({
      kind: 'port',
      wish: `the port were ${resolved} (\`${name}\` on ${endpointName(destination)})`,
      actual: `it is ${port}`,
    });
  }
  return out;
}

/** The fewest differences over a list of alternatives (ORed items); index null when the list is empty (matches all). */
export function bestOf<T>(items: readonly T[] | null | undefined, diff: (item: T) => Difference[]): { index: number | null; differences: Difference[] } {
  if (!items || items.length === 0) return { index: null, differences: [] };
  let best: { index: number; differences: Difference[] } | undefined;
  for (let i = 0; i < items.length; i++) {
    const d = diff(items[i]!);
    if (d.length === 0) return { index: i, differences: d };
    if (!best || d.length < best.differences.length) best = { index: i, differences: d };
  }
  return best!;
}

/** How far a set of differences is from a match: their count first, then how close each label value is. */
export function missDistance(differences: readonly Difference[]): number {
  let sum = 0;
  for (const d of differences) {
    sum += d.want !== undefined && d.have !== undefined ? editDistance(d.want, d.have) / Math.max(d.want.length, d.have.length) : 1;
  }
  return differences.length * 10 + sum;
}

/**
 * The differences as one "would allow this if …; …" pair of phrases, with repeated subjects merged:
 * "the source had `app=backend` and `tier=api`; it has `app=frontend` and `tier=web`".
 */
export function phraseDifferences(differences: readonly Difference[]): { wish: string; actual: string } {
  const merge = (parts: string[], prefixOf: (s: string) => string | undefined): string[] => {
    const out: string[] = [];
    let lastPrefix: string | undefined;
    for (const part of parts) {
      const prefix = prefixOf(part);
      if (prefix !== undefined && prefix === lastPrefix) out[out.length - 1] += ` and ${part.slice(prefix.length)}`;
      else out.push(part);
      lastPrefix = prefix;
    }
    return out;
  };
  const wishPrefix = (w: string): string | undefined => /^(.*? had )`/.exec(w)?.[1];
  const actualPrefix = (a: string): string | undefined => /^(it has )`/.exec(a)?.[1];
  return {
    wish: merge(differences.map((d) => d.wish), wishPrefix).join(' and '),
    actual: merge(differences.map((d) => d.actual), actualPrefix).join('; '),
  };
}
