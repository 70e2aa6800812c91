// Service ↔ EndpointSlice ↔ pod: what the endpoint controllers should have written for each Service,
// compared with what they did write, and with what kube-proxy will therefore do.
import type { Cluster } from '../model/cluster.js';
import type { EndpointSlice, Endpoints, Pod, Protocol, Service, ServiceType } from '../model/k8s.js';
import { aggregateFindings, countFindings, type Finding, type Severity } from '../model/finding.js';
import { canonicalIP } from '../model/ip.js';
import { formatSelector, matchesMap } from '../model/labels.js';
import { editDistance } from '../model/text.js';
import { isPodFinished, isPodReady, isPodTerminating, podIPs, podPorts, resolveNamedPort } from '../model/pod.js';
import { buildEndpointsIndex, selectPods, type EndpointsIndex } from './index-cluster.js';

export interface EndpointsOptions {
  /** Only this namespace (ignored with allNamespaces). */
  namespace?: string;
  allNamespaces?: boolean;
  /** Only this Service. */
  service?: { namespace: string; name: string };
}

export interface ServicePortView {
  name: string | null;
  port: number;
  protocol: Protocol;
  targetPort: number | string;
  nodePort?: number;
}

/** One endpoint address as the data plane sees it, with the pod it belongs to. */
export interface EndpointView {
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  pod: string | null;
  node: string | null;
  hostname?: string;
}

export interface ServiceEndpoints {
  namespace: string;
  name: string;
  type: ServiceType;
  isHeadless: boolean;
  selector: Record<string, string> | null;
  ports: ServicePortView[];
  /** Where the endpoints were read from: EndpointSlices (what kube-proxy uses), the legacy Endpoints, or none. */
  source: 'EndpointSlice' | 'Endpoints' | 'none';
  endpoints: { ready: string[]; notReady: string[]; terminating: string[] };
  addresses: EndpointView[];
  pods: { selected: number; ready: number };
  findings: Finding[];
}

export interface EndpointsReport {
  services: ServiceEndpoints[];
  summary: { services: number; errors: number; warnings: number; infos: number; servicesWithErrors: number };
  notes: string[];
}

const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';

interface SliceEndpoint extends EndpointView {
  targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string };
  /** Names of the slice ports this address carries ("" for an unnamed port), with protocol; shared by a slice's addresses until one merges another slice's. */
  ports: ReadonlySet<string>;
  slice: string;
  /** podOf's answer, once asked (null: no pod). */
  podLookup?: Pod | null;
}

const portKey = (name: string | undefined | null, protocol: Protocol | undefined): string => `${name ?? ''}/${protocol ?? 'TCP'}`;

/**
 * `namespace/name`, as one flat string: a template literal makes a rope (two strings joined by
 * reference) that JSON.stringify has to flatten, one allocation and copy for each of 50,000 addresses.
 */
function podRef(namespace: string | undefined, name: string): string {
  return [String(namespace), name].join('/');
}

function podName(p: Pod): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}

function finding(code: string, severity: Severity, message: string, hint: string | undefined, context: Record<string, unknown> = {}): Finding {
  return { code, severity, message, ...(hint ? { hint } : {}), ...context };
}

/** Whether `ip` (canonical) is one of the pod's IPs. */
function hasPodIP(pod: Pod, ip: string): boolean {
  for (const p of podIPs(pod)) if (canonicalIP(p) === ip) return true;
  return false;
}

/** podIPs(pod), each in canonical form (made by push: see diffService's ports). */
function canonicalPodIPs(pod: Pod): string[] {
  const ips = podIPs(pod);
  for (let i = 0; i < ips.length; i++) ips[i] = canonicalIP(ips[i]!);
  return ips;
}

/** Why a pod is not ready, in the words kubectl uses. */
function notReadyReason(pod: Pod): string {
  if (isPodTerminating(pod)) return 'terminating';
  const phase = pod.status?.phase ?? 'Unknown';
  if (phase !== 'Running') return `phase ${phase}`;
  const waiting = (pod.status as { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] } | undefined)
    ?.containerStatuses?.map((c) => c.state?.waiting?.reason)
    .find((r) => r);
  return waiting ? `not Ready (${waiting})` : 'not Ready (readiness probe failing)';
}

/** Flatten a Service's EndpointSlices, one entry per address; conflicting duplicates become findings. */
function readSlices(slices: readonly EndpointSlice[], findings: Finding[]): Map<string, SliceEndpoint> {
  const byIP = new Map<string, SliceEndpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const ports = new Set((slice.ports ?? []).map((p) => portKey(p.name, p.protocol)));
    for (const e of slice.endpoints ?? []) {
      // The API says a nil ready or serving means "unknown, treat as ready"; nil terminating means false.
      const ready = e.conditions?.ready ?? true;
      const serving = e.conditions?.serving ?? ready;
      const terminating = e.conditions?.terminating ?? false;
      for (const address of e.addresses) {
        const ip = canonicalIP(address);
        const seen = byIP.get(ip);
        if (seen) {
          if (seen.ready !== ready) {
            findings.push(
              finding(
                'slices-disagree',
                'warning',
                `${ip} is in EndpointSlices ${seen.slice} (ready=${seen.ready}) and ${slice.metadata.name} (ready=${ready})`,
                'Two slices of one Service disagree; the EndpointSlice controller will reconcile them. If this persists, check kube-controller-manager.',
                { ip, slices: [seen.slice, slice.metadata.name] },
              ),
            );
          }
          if (seen.ports !== ports) seen.ports = new Set([...seen.ports, ...ports]);
          seen.ready ||= ready;
          continue;
        }
        byIP.set(ip, {
          ip,
          ready,
          serving,
          terminating,
          pod: e.targetRef?.kind === 'Pod' && e.targetRef.name ? podRef(e.targetRef.namespace ?? slice.metadata.namespace, e.targetRef.name) : null,
          node: e.nodeName ?? null,
          // One shape for every address (no spreads): 50,000 of these are made for a large cluster.
          hostname: e.hostname || undefined,
          targetRef: e.targetRef,
          ports,
          slice: slice.metadata.name,
          podLookup: undefined,
        });
      }
    }
  }
  return byIP;
}

/** The pod an address belongs to: by targetRef when it names a pod, else by IP among the namespace's live pods. */
function podOf(index: EndpointsIndex, namespace: string, e: SliceEndpoint): Pod | undefined {
  if (e.podLookup !== undefined) return e.podLookup ?? undefined;
  const pod =
    e.targetRef?.kind === 'Pod' && e.targetRef.name
      ? index.podByName(e.targetRef.namespace ?? namespace, e.targetRef.name)
      : index.podsByIP(namespace, e.ip)?.find((p) => !isPodFinished(p));
  e.podLookup = pod ?? null;
  return pod;
}

/** Labels of the pods closest to matching a selector, to say what differs ("pods have app=back-end"). */
function nearMiss(index: EndpointsIndex, namespace: string, selector: Record<string, string>): { pods: Pod[]; differences: string[] } | null {
  const pods = (index.podsByNamespace.get(namespace) ?? []).filter((p) => !isPodFinished(p));
  let best: { pods: Pod[]; differences: string[]; score: number } | null = null;
  for (const pod of pods) {
    const labels = pod.metadata.labels ?? {};
    const differences: string[] = [];
    let matched = 0;
    let distance = 0;
    for (const [k, v] of Object.entries(selector)) {
      const have = labels[k];
      if (have === v) matched++;
      else if (have !== undefined) {
        differences.push(`${k}=${have} (wanted ${k}=${v})`);
        distance += editDistance(have, v) / Math.max(have.length, v.length);
      }
      else {
        // A label with another key but the wanted value is the usual typo: appname=web for app=web.
        const sameValue = Object.entries(labels).find(([, lv]) => lv === v);
        differences.push(sameValue ? `${sameValue[0]}=${v} (wanted ${k}=${v})` : `no ${k} label (wanted ${k}=${v})`);
        distance += sameValue ? 0.5 : 1;
      }
    }
    // A near miss shares something with the selector: a matched pair or a label differing only in value or key.
    const related = matched > 0 || differences.some((d) => !d.startsWith('no '));
    if (!related) continue;
    // More matched pairs first; then the smallest differences (app=back-end is nearer app=backend than app=xecho).
    const score = matched * 2 - differences.length - distance;
    const key = differences.join(', ');
    if (!best || score > best.score) best = { pods: [pod], differences, score };
    else if (score === best.score && best.differences.join(', ') === key) best.pods.push(pod);
  }
  return best && { pods: best.pods, differences: best.differences };
}

function listPods(pods: readonly Pod[], max = 3): string {
  const names = pods.slice(0, max).map((p) => p.metadata.name);
  return pods.length > max ? `${names.join(', ')} and ${pods.length - max} more` : names.join(', ');
}

/** Whether an address carries one of the Service's ports (by name and protocol, as kube-proxy matches them); every address does when the Service has none. */
function servesPorts(portKeys: readonly string[], e: SliceEndpoint): boolean {
  if (portKeys.length === 0) return true;
  for (const k of portKeys) if (e.ports.has(k)) return true;
  return false;
}

/*
 * diffService runs once per Service, 10,000 times on a large cluster, and V8's optimizing compiler
 * builds it whole: what every Service runs stays in it, and each rarer branch (a finding, a Service
 * without a selector, the legacy Endpoints) is a function of its own. Kept in one function they took
 * the compiler a quarter of a second per build, and it was built three times (see `ports` below),
 * while 10,000 Services were diffed by the slower unoptimized code.
 */

/**
 * `lookElsewhere`: whether other namespaces' pods are in view. Only with -A does every source (a live
 * one lists only the namespace asked for) hold them, and the answer must not depend on the source.
 */
function diffService(index: EndpointsIndex, svc: Service, lookElsewhere: boolean): ServiceEndpoints {
  const ns = svc.metadata.namespace ?? 'default';
  const name = svc.metadata.name;
  const spec = svc.spec ?? {};
  const type: ServiceType = spec.type ?? 'ClusterIP';
  const selector = spec.selector && Object.keys(spec.selector).length ? spec.selector : null;
  // Lists passed between functions are made by push, never by map(): in V8, map() makes packed arrays
  // until its caller is optimized and holey ones after, and every function optimized for one kind was
  // thrown away ("wrong map") when the other arrived.
  const ports: ServicePortView[] = [];
  const portKeys: string[] = [];
  for (const p of spec.ports ?? []) {
    const view: ServicePortView = { name: p.name || null, port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? p.port };
    if (p.nodePort) view.nodePort = p.nodePort;
    ports.push(view);
    // Which addresses serve the Service's ports: kube-proxy matches a Service port to the slice port of the same name and protocol.
    portKeys.push(portKey(view.name, view.protocol));
  }
  const findings: Finding[] = [];
  const result: ServiceEndpoints = {
    namespace: ns,
    name,
    type,
    isHeadless: spec.clusterIP === 'None',
    selector,
    ports,
    source: 'none',
    endpoints: { ready: [], notReady: [], terminating: [] },
    addresses: [],
    pods: { selected: 0, ready: 0 },
    findings,
  };

  if (type === 'ExternalName') {
    findings.push(externalNameFinding(spec.externalName));
    return result;
  }

  const slices = index.slicesByService.get(ns)?.get(name) ?? [];
  const legacy = index.endpointsByService.get(ns)?.get(name);
  const sliceEps = readSlices(slices, findings);


  let addresses: SliceEndpoint[];
  if (slices.length > 0) {
    result.source = 'EndpointSlice';
    addresses = [...sliceEps.values()];
  } else if (legacy) {
    result.source = 'Endpoints';
    addresses = legacyAddresses(legacy, ns, name);
  } else {
    addresses = [];
  }
  // One pass over the addresses (50,000 of them in a large cluster): no filter chains.
  const usable: SliceEndpoint[] = [];
  const portless: SliceEndpoint[] = [];
  const views: EndpointView[] = [];
  const ready: string[] = [];
  const notReady: string[] = [];
  const terminating: string[] = [];
  for (const e of addresses) {
    const view: EndpointView = { ip: e.ip, ready: e.ready, serving: e.serving, terminating: e.terminating, pod: e.pod, node: e.node };
    if (e.hostname) view.hostname = e.hostname;
    views.push(view);
    if (!servesPorts(portKeys, e)) {
      portless.push(e);
      continue;
    }
    usable.push(e);
    if (e.ready) ready.push(e.ip);
    else if (!e.terminating) notReady.push(e.ip);
    if (e.terminating) terminating.push(e.ip);
  }
  result.addresses = views;
  result.endpoints = { ready, notReady, terminating };

  if (legacy) checkLegacy(index, legacy, slices, usable, selector, findings);

  if (!selector) {
    diffWithoutSelector(index, ns, svc, result, usable);
    return result;
  }

  // ---- The pods the selector picks, and what the controller should have made of them ---------------------
  const selected = selectPods(index, ns, selector, true);
  let readyPods = 0;
  for (const p of selected) if (isPodReady(p) && !isPodTerminating(p)) readyPods++;
  result.pods = { selected: selected.length, ready: readyPods };
  const publish = spec.publishNotReadyAddresses === true;

  if (selected.length === 0) {
    findings.push(selectorMatchesNothing(index, ns, selector, lookElsewhere));
    checkStale(index, ns, svc, selector, usable, findings);
    return result;
  }

  checkNamedPorts(ports, selected, findings);

  // The slices' addresses are already by IP (sliceEps); the legacy object's are mapped here.
  let byIP = sliceEps;
  if (result.source === 'Endpoints') {
    byIP = new Map<string, SliceEndpoint>();
    for (const e of addresses) byIP.set(e.ip, e);
  }
  const targetUnresolvedEverywhere = findings.some((f) => f.code === 'target-port-unresolved' && f.severity === 'error');
  checkSelectedPods(index, ns, selected, byIP, portKeys, publish, targetUnresolvedEverywhere, findings);

  // Terminating endpoints: kube-proxy sends them new connections only when no endpoint is ready (ProxyTerminatingEndpoints).
  const hasReady = result.endpoints.ready.length > 0;
  checkTerminating(index, ns, usable, publish, hasReady, findings);

  checkStale(index, ns, svc, selector, usable, findings);

  if (!hasReady) findings.push(noReadyEndpoints(selected, usable, portless, targetUnresolvedEverywhere, slices.length === 0 && !legacy));
  return result;
}

function externalNameFinding(externalName: string | undefined): Finding {
  return finding(
    'external-name',
    'info',
    `ExternalName service: clients get a DNS CNAME to ${externalName ?? '(none)'}; it has no endpoints by design`,
    undefined,
    { externalName: externalName ?? null },
  );
}

/** The legacy Endpoints object's addresses, as the slices' are read. */
function legacyAddresses(legacy: Endpoints, ns: string, name: string): SliceEndpoint[] {
  return (legacy.subsets ?? []).flatMap((s) => {
    const subsetPorts = new Set((s.ports ?? []).map((p) => portKey(p.name, p.protocol)));
    const toView = (a: { ip: string; nodeName?: string; hostname?: string; targetRef?: SliceEndpoint['targetRef'] }, ready: boolean): SliceEndpoint => ({
      ip: canonicalIP(a.ip),
      ready,
      serving: ready,
      terminating: false,
      pod: a.targetRef?.kind === 'Pod' && a.targetRef.name ? podRef(a.targetRef.namespace ?? ns, a.targetRef.name) : null,
      node: a.nodeName ?? null,
      ...(a.hostname ? { hostname: a.hostname } : {}),
      ...(a.targetRef ? { targetRef: a.targetRef } : {}),
      ports: subsetPorts,
      slice: `Endpoints ${name}`,
    });
    return [...(s.addresses ?? []).map((a) => toView(a, true)), ...(s.notReadyAddresses ?? []).map((a) => toView(a, false))];
  });
}

/** Endpoints and EndpointSlices agreeing, when the Service has a legacy Endpoints object. */
function checkLegacy(index: EndpointsIndex, legacy: Endpoints, slices: readonly EndpointSlice[], usable: readonly SliceEndpoint[], selector: Record<string, string> | null, findings: Finding[]): void {
  if (legacy.metadata.annotations?.[OVER_CAPACITY]) {
    const count = (legacy.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);
    findings.push(
      finding(
        'endpoints-over-capacity',
        'warning',
        `the Endpoints object is truncated at ${count} addresses (${OVER_CAPACITY}: ${legacy.metadata.annotations[OVER_CAPACITY]}); clients of the legacy Endpoints API see only part of the backends`,
        'kube-proxy and CoreDNS read EndpointSlices, which are complete; move other consumers (ingress controllers, service meshes) to EndpointSlices.',
      ),
    );
  } else if (slices.length > 0) {
    const legacyReady = new Set((legacy.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => canonicalIP(a.ip))));
    // The Endpoints controller leaves out a pod whose port does not resolve; compare like with like.
    const sliceReady = new Set(usable.filter((e) => e.ready).map((e) => e.ip));
    const onlyLegacy = [...legacyReady].filter((ip) => !sliceReady.has(ip));
    const onlySlices = [...sliceReady].filter((ip) => !legacyReady.has(ip));
    if (onlyLegacy.length || onlySlices.length) {
      const parts = [
        onlySlices.length ? `ready in EndpointSlices only: ${onlySlices.join(', ')}` : '',
        onlyLegacy.length ? `ready in Endpoints only: ${onlyLegacy.join(', ')}` : '',
      ].filter(Boolean);
      findings.push(
        finding(
          'slices-disagree',
          'warning',
          `Endpoints and EndpointSlices disagree (${parts.join('; ')})`,
          'kube-proxy and CoreDNS follow the EndpointSlices; consumers of the legacy Endpoints API see the other list. One controller is behind: check kube-controller-manager.',
          { onlyInSlices: onlySlices, onlyInEndpoints: onlyLegacy },
        ),
      );
    }
  } else if (index.hasSlices && selector) {
    findings.push(
      finding(
        'slices-disagree',
        'warning',
        'the Service has an Endpoints object but no EndpointSlice; kube-proxy reads only EndpointSlices and will treat it as having no endpoints',
        'Check that the EndpointSlice controller (kube-controller-manager) is running and allowed to write EndpointSlices in this namespace.',
      ),
    );
  }
}

/** A Service without a selector: its endpoints are managed by hand or by another controller. */
function diffWithoutSelector(index: EndpointsIndex, ns: string, svc: Service, result: ServiceEndpoints, usable: SliceEndpoint[]): void {
  const findings = result.findings;
  findings.push(
    finding(
      'no-selector',
      'info',
      `no selector: its endpoints are managed by hand or by another controller (${usable.length ? usable.map((e) => e.ip).join(', ') : 'none'})`,
      undefined,
    ),
  );
  if (result.endpoints.ready.length === 0) {
    findings.push(
      finding(
        'no-ready-endpoints',
        'error',
        'no ready endpoint: connections to this Service are rejected',
        'Create an Endpoints or EndpointSlice object for it (labelled kubernetes.io/service-name), or give the Service a selector.',
      ),
    );
  }
  checkStale(index, ns, svc, null, usable, findings);
}

function selectorMatchesNothing(index: EndpointsIndex, ns: string, selector: Record<string, string>, lookElsewhere: boolean): Finding {
  const near = nearMiss(index, ns, selector);
  const elsewhere = !lookElsewhere ? [] : [...index.podsByNamespace.entries()]
    .filter(([other, pods]) => other !== ns && pods.some((p) => matchesMap(selector, p.metadata.labels)))
    .map(([other]) => other);
  const hints: string[] = [];
  if (near) hints.push(`${near.pods.length === 1 ? 'pod' : `${near.pods.length} pods`} ${listPods(near.pods)} ${near.pods.length === 1 ? 'has' : 'have'} ${near.differences.join(', ')}: fix the Service selector or the pod labels`);
  if (elsewhere.length) hints.push(`pods matching it exist in namespace ${elsewhere.slice(0, 3).join(', ')}; a Service selects pods only in its own namespace`);
  return finding(
    'selector-matches-nothing',
    'error',
    `selector ${formatSelector(selector)} matches no pod in namespace ${ns}: connections to this Service are rejected`,
    hints.join('; ') || `kubectl get pods -n ${ns} --show-labels shows the labels pods have.`,
    { selector, ...(near ? { nearestPods: near.pods.map((p) => p.metadata.name), differences: near.differences } : {}) },
  );
}

/** Named target ports must resolve on each selected pod, for the port's protocol. */
function checkNamedPorts(ports: readonly ServicePortView[], selected: readonly Pod[], findings: Finding[]): void {
  for (const p of ports) {
    if (typeof p.targetPort !== 'string') continue;
    const name = p.targetPort;
    let missing: Pod[] | undefined;
    for (const pod of selected) if (resolveNamedPort(pod, name, p.protocol) === undefined) (missing ??= []).push(pod);
    if (missing) findings.push(targetPortUnresolved(p, name, missing, selected));
  }
}

function targetPortUnresolved(p: ServicePortView, targetPort: string, missing: readonly Pod[], selected: readonly Pod[]): Finding {
  const declared = [...new Set(missing.flatMap((pod) => podPorts(pod).map((cp) => `${cp.name ?? cp.containerPort}/${cp.protocol}`)))];
  const all = missing.length === selected.length;
  return finding(
    'target-port-unresolved',
    all ? 'error' : 'warning',
    `port ${p.name ?? p.port} targets the named port "${targetPort}"/${p.protocol}, which ${all ? 'no selected pod declares' : `${missing.length} of ${selected.length} selected pods do not declare`} (${listPods(missing)})${all ? ': the Service has no usable endpoint on this port' : ''}`,
    declared.length
      ? `The pods declare ${declared.join(', ')}: set targetPort to one of those names or a number, or name the container port "${targetPort}".`
      : `Name a container port "${targetPort}" (protocol ${p.protocol}) in the pod template, or use a numeric targetPort.`,
    { port: p.name ?? p.port, targetPort, protocol: p.protocol, pods: missing.map((x) => x.metadata.name) },
  );
}

/** Each selected pod against its endpoints: ready pods missing, not-ready pods served. */
function checkSelectedPods(
  index: EndpointsIndex,
  ns: string,
  selected: readonly Pod[],
  byIP: ReadonlyMap<string, SliceEndpoint>,
  portKeys: readonly string[],
  publish: boolean,
  targetUnresolvedEverywhere: boolean,
  findings: Finding[],
): void {
  for (const pod of selected) {
    const ips = canonicalPodIPs(pod);
    if (!ips.length) continue; // not scheduled or no sandbox yet: the controller waits for an IP too
    const podReady = isPodReady(pod);
    const terminating = isPodTerminating(pod);
    // EndpointSlice controller (podToEndpoint): serving = publish || ready; ready = publish || (serving && !terminating).
    const shouldBeReady = publish || (podReady && !terminating);
    for (const ip of ips) {
      const e = byIP.get(ip);
      // An endpoint naming this pod belongs to it (names are unique in a namespace): no lookup by name needed later.
      if (e && e.podLookup === undefined && e.targetRef?.kind === 'Pod' && e.targetRef.name === pod.metadata.name && (e.targetRef.namespace ?? ns) === ns) e.podLookup = pod;
      if (shouldBeReady && (!e || !e.ready) && !targetUnresolvedEverywhere) {
        findings.push(readyPodMissing(pod, ips, ip, publish, e !== undefined));
      } else if (e && e.ready && !shouldBeReady && !(terminating && podOf(index, ns, e) === pod) && servesPorts(portKeys, e)) {
        // A pod being deleted whose endpoint is still ready is a terminating-endpoint error (below), however the slice reads.
        findings.push(notReadyPodServing(pod, ips, ip));
      }
    }
  }
}

/** Where a pod runs, for messages: its IPs and node. */
function podWhere(pod: Pod, ips: readonly string[]): string {
  return `${ips.join(', ')} on ${pod.spec?.nodeName ?? 'no node'}`;
}

function readyPodMissing(pod: Pod, ips: readonly string[], ip: string, publish: boolean, isListed: boolean): Finding {
  return finding(
    'ready-pod-missing',
    'error',
    `pod ${pod.metadata.name} (${podWhere(pod, ips)}) is ${publish ? 'selected (publishNotReadyAddresses)' : 'Running and Ready'} but is ${isListed ? 'listed as not ready' : 'not an endpoint'}: it gets no traffic from this Service`,
    'The endpoint controller has not caught up: check kube-controller-manager health and its logs for this Service; deleting the stale EndpointSlice makes the controller rebuild it.',
    { pod: podName(pod), ip, node: pod.spec?.nodeName ?? null },
  );
}

function notReadyPodServing(pod: Pod, ips: readonly string[], ip: string): Finding {
  return finding(
    'not-ready-pod-serving',
    'error',
    `pod ${pod.metadata.name} (${podWhere(pod, ips)}) is ${notReadyReason(pod)} but its endpoint is marked ready: it receives traffic it may not answer`,
    'The EndpointSlice is stale: check kube-controller-manager; until it catches up, delete the pod or fix its readiness.',
    { pod: podName(pod), ip, node: pod.spec?.nodeName ?? null, reason: notReadyReason(pod) },
  );
}

/**
 * Terminating endpoints. A pod being deleted (deletionTimestamp set) is terminating whatever its
 * endpoint's conditions say: a slice still reading `terminating: false` for it is stale, not a different fact.
 */
function checkTerminating(index: EndpointsIndex, ns: string, usable: readonly SliceEndpoint[], publish: boolean, hasReady: boolean, findings: Finding[]): void {
  for (const e of usable) {
    const pod = podOf(index, ns, e);
    const isPodDeleting = pod !== undefined && isPodTerminating(pod);
    if (!e.terminating && !(isPodDeleting && e.ready && !publish)) continue;
    findings.push(terminatingEndpoint(e, pod, publish, hasReady));
  }
}

function terminatingEndpoint(e: SliceEndpoint, pod: Pod | undefined, publish: boolean, hasReady: boolean): Finding {
  const who = pod ? `pod ${pod.metadata.name} (${e.ip})` : e.ip;
  if (e.ready && !publish) {
    const stale = e.terminating ? '' : ' (its pod is being deleted; the endpoint does not say terminating yet)';
    return finding('terminating-endpoint', 'error', `${who} is terminating${stale} but still marked ready: it receives new connections while it shuts down`,
      'The EndpointSlice is stale; check kube-controller-manager.', { ip: e.ip, pod: e.pod });
  }
  if (e.serving && !hasReady) {
    return finding(
      'terminating-endpoint',
      'warning',
      `${who} is terminating but still serving, and no endpoint is ready: kube-proxy falls back to it, so it still receives new connections until it exits`,
      'Get a replacement pod Ready before the old one exits (readiness, PodDisruptionBudget, maxUnavailable: 0), or traffic fails when it goes.',
      { ip: e.ip, pod: e.pod },
    );
  }
  return finding('terminating-endpoint', 'info', `${who} is terminating: it finishes its open connections and receives no new ones`, undefined, { ip: e.ip, pod: e.pod });
}

function noReadyEndpoints(selected: readonly Pod[], usable: readonly SliceEndpoint[], portless: readonly SliceEndpoint[], targetUnresolvedEverywhere: boolean, hasNoEndpointObject: boolean): Finding {
  const why = selected.map((p) => `${p.metadata.name} ${isPodReady(p) && !isPodTerminating(p) ? 'Ready' : notReadyReason(p)}`);
  const cause = targetUnresolvedEverywhere
    ? ' because its target port resolves on no pod'
    : hasNoEndpointObject
      ? ' (no EndpointSlice or Endpoints object exists for it)'
      : portless.length
        ? ` (${portless.length} addresses carry no port of the Service)`
        : '';
  return finding(
    'no-ready-endpoints',
    'error',
    `no ready endpoint${cause}: ${selected.length} pod${selected.length === 1 ? '' : 's'} selected (${why.slice(0, 4).join('; ')}${why.length > 4 ? '; …' : ''}); ${usable.some((e) => e.terminating && e.serving) ? 'only terminating pods still answer' : 'connections to this Service are rejected'}`,
    targetUnresolvedEverywhere
      ? 'Fix the targetPort (see target-port-unresolved).'
      : 'kubectl describe pod shows why the pods are not Ready (readiness probe, crash loop, image pull).',
    { selected: selected.length },
  );
}

/** Endpoints whose pod is gone, finished, replaced, or no longer selected. */
function checkStale(index: EndpointsIndex, ns: string, svc: Service, selector: Record<string, string> | null, usable: SliceEndpoint[], findings: Finding[]): void {
  for (const e of usable) {
    const refersToPod = e.targetRef?.kind === 'Pod';
    // Without a selector and without a pod reference an address is a hand-written backend: nothing to compare with.
    if (!selector && !refersToPod) continue;
    const pod = podOf(index, ns, e);
    let problem: string | null = null;
    if (!pod) {
      problem = refersToPod ? `points to pod ${e.targetRef?.name}, which no longer exists` : 'belongs to no current pod';
    } else if (e.targetRef?.uid && pod.metadata.uid && e.targetRef.uid !== pod.metadata.uid && !hasPodIP(pod, e.ip)) {
      problem = `points to an earlier pod named ${pod.metadata.name} (the current one has another UID and IP ${podIPs(pod).join(', ') || 'none'})`;
    } else if (isPodFinished(pod)) {
      problem = `belongs to pod ${pod.metadata.name}, which has ${pod.status?.phase === 'Succeeded' ? 'completed' : 'failed'}`;
    } else if (!hasPodIP(pod, e.ip)) {
      problem = `points to pod ${pod.metadata.name}, whose IP is now ${podIPs(pod).join(', ') || 'unset'}`;
    } else if (selector && !matchesMap(selector, pod.metadata.labels)) {
      problem = `belongs to pod ${pod.metadata.name}, which the selector ${formatSelector(selector)} no longer picks`;
    }
    if (!problem) continue;
    findings.push(
      finding(
        'stale-endpoint',
        e.ready ? 'error' : 'warning',
        `endpoint ${e.ip} ${problem}${e.ready ? ': connections sent there fail or reach the wrong pod' : ''}`,
        `The endpoint controller has not removed it: check kube-controller-manager; deleting EndpointSlice ${e.slice} makes the controller rebuild it.`,
        { ip: e.ip, pod: e.pod, slice: e.slice, service: `${ns}/${svc.metadata.name}` },
      ),
    );
  }
}

/** The report of diffEndpoints in steps: each Service's entry made when asked for, then the rest. */
export interface EndpointsDiff {
  /** The report's `services`, in order, each diffed when it is read: read once. */
  services: Iterable<ServiceEndpoints>;
  /** The report with `services` empty: its summary counts every Service, so ask only once they have all been read. */
  rest(): EndpointsReport;
}

/**
 * diffEndpoints one Service at a time, for a caller that writes each entry and lets it go (--json on
 * 10,000 Services): the same entries in the same order, and the same summary, as diffEndpoints.
 */
export function streamEndpoints(cluster: Cluster, options: EndpointsOptions = {}): EndpointsDiff {
  const index = buildEndpointsIndex(cluster);
  const inScope = (svc: Service): boolean => {
    const ns = svc.metadata.namespace ?? 'default';
    if (options.service) return ns === options.service.namespace && svc.metadata.name === options.service.name;
    return options.allNamespaces === true || ns === (options.namespace ?? 'default');
  };
  const inOrder = cluster.services
    .filter(inScope)
    .sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
  const summary = { services: inOrder.length, errors: 0, warnings: 0, infos: 0, servicesWithErrors: 0 };
  let read = 0;
  function* services(): Generator<ServiceEndpoints> {
    for (const svc of inOrder) {
      const result = diffService(index, svc, options.allNamespaces === true);
      // 50,000 stale endpoints of one Service are one finding with a count, not 50,000 lines.
      result.findings = aggregateFindings(result.findings);
      summary.errors += countFindings(result.findings, 'error');
      summary.warnings += countFindings(result.findings, 'warning');
      summary.infos += countFindings(result.findings, 'info');
      if (result.findings.some((f) => f.severity === 'error')) summary.servicesWithErrors++;
      read++;
      yield result;
    }
  }
  const notes: string[] = [];
  if (!index.hasSlices && cluster.endpoints.length > 0) {
    notes.push('The source holds no EndpointSlices; endpoints were read from the legacy Endpoints objects. kube-proxy reads EndpointSlices: include them (kubectl get endpointslices -A -o yaml) for an exact picture.');
  }
  return {
    services: services(),
    rest: () => {
      if (read !== inOrder.length) throw new Error(`streamEndpoints: the summary was asked for after ${read} of ${inOrder.length} Services`);
      return { services: [], summary: { ...summary }, notes };
    },
  };
}

/** Compare every Service in scope with its EndpointSlices, Endpoints and pods. Pure: same cluster, same report. */
export function diffEndpoints(cluster: Cluster, options: EndpointsOptions = {}): EndpointsReport {
  const diff = streamEndpoints(cluster, options);
  const services = [...diff.services];
  return { ...diff.rest(), services };
}
