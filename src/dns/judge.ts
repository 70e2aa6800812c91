// Judging: walk the resolver's search sequence against each server (or against the API's records when
// no server is asked), and compare every answer with what the API implies.
import { closest } from '../model/errors.js';
import { aggregateFindings, type Finding } from '../model/finding.js';
import { matchesMap } from '../model/labels.js';
import { expectRecords, normalizeName, type DnsIndex, type Expectation } from './records.js';
import { searchSequence, type ResolverPlan } from './resolver.js';
import type { DnsAnswer, DnsOutcome, DnsRecord, DnsReport, RecordType, TriedQuery } from './types.js';
import { queryServer, type DnsTransport } from './wire.js';

/** The queries sent to one server for one name, in order. */
export interface ServerRun {
  server: string;
  queries: TriedQuery[];
}

const answered = new Set(['NOERROR', 'NXDOMAIN']);

/** The codes of findings that say a server's answer is not what the API implies (trace and check fail on them). */
export const SERVER_DISAGREES_CODES: ReadonlySet<string> = new Set(['dns-record-missing', 'dns-record-stale', 'dns-replicas-disagree']);

/** Whether a query got answers for its question: records of the type, or a CNAME at that name. */
function relevantAnswers(q: Pick<TriedQuery, 'fqdn' | 'answers'>, type: RecordType): DnsAnswer[] {
  return q.answers.filter((a) => a.name === q.fqdn && (a.type === type || a.type === 'CNAME'));
}

/** Records at the name answer it, whatever the rcode: after a CNAME, the rcode speaks of the chain's last name (RFC 6604). */
function isResolved(q: TriedQuery, type: RecordType): boolean {
  return answered.has(q.rcode) && relevantAnswers(q, type).length > 0;
}

/**
 * glibc's walk: NXDOMAIN, NODATA and SERVFAIL move on to the next name; an answer ends the walk, and so
 * does a timeout or a broken reply (the resolver gives up on the name).
 */
function shouldStop(q: TriedQuery, type: RecordType): boolean {
  if (isResolved(q, type)) return true;
  return !(answered.has(q.rcode) || q.rcode === 'SERVFAIL');
}

export interface AskOptions {
  transport: DnsTransport;
  servers: string[];
  isTcp: boolean;
  /** Query IDs; the transport's side chooses them (a random source is I/O to an engine). */
  nextId: () => number;
}

/** Ask every server the search sequence, in order, as the pod's resolver would; servers are asked in parallel. */
export async function askServers(sequence: string[], type: RecordType, o: AskOptions): Promise<ServerRun[]> {
  return Promise.all(
    o.servers.map(async (server) => {
      const queries: TriedQuery[] = [];
      for (const fqdn of sequence) {
        const q = await queryServer(o.transport, { server, fqdn, type, id: o.nextId(), isTcp: o.isTcp });
        queries.push(q);
        if (shouldStop(q, type)) break;
      }
      return { server, queries };
    }),
  );
}

function toAnswer(r: DnsRecord): DnsAnswer {
  return { name: r.name, type: r.type, ttl: 0, data: r.data };
}

/** The walk the API alone implies: what a server that serves exactly the API's records would answer. */
function walkApi(index: DnsIndex, sequence: string[], type: RecordType): TriedQuery[] {
  const out: TriedQuery[] = [];
  for (const fqdn of sequence) {
    const e = expectRecords(index, fqdn, type);
    if (!e.isAuthoritative) {
      if (looksLikeClusterName(index, fqdn)) {
        out.push({ fqdn, server: null, rcode: 'NXDOMAIN', answers: [], ms: null, note: 'outside the cluster domain, and shaped like a cluster name (a single label, or a namespace as its last label): taken as not existing' });
        continue;
      }
      out.push({ fqdn, server: null, rcode: 'UNKNOWN', answers: [], ms: null, error: 'outside what the API holds: only a DNS server can say' });
      break;
    }
    out.push({ fqdn, server: null, rcode: e.exists ? 'NOERROR' : 'NXDOMAIN', answers: e.records.map(toAnswer), ms: null });
    if (e.records.length) break;
  }
  return out;
}

/**
 * A name outside the cluster zone that is a short cluster name the search list failed to expand (`web`,
 * `web.shop` with shop a namespace), which upstream DNS does not know either. Anything else (`example.com`)
 * only a server can judge.
 */
function looksLikeClusterName(index: DnsIndex, fqdn: string): boolean {
  if (fqdn.endsWith('.in-addr.arpa') || fqdn.endsWith('.ip6.arpa')) return false;
  const labels = fqdn.split('.');
  const last = labels.at(-1)!;
  return labels.length === 1 || index.namespaces.has(last) || last === 'svc' || last === 'pod';
}

const key = (type: string, data: string): string => `${type} ${data}`;

function describe(answers: { type: string; data: string }[]): string {
  return answers.length ? answers.map((a) => key(a.type, a.data)).join(', ') : 'nothing';
}

/** Compare one server's answer to one query with the API's expectation. */
function compareAnswer(q: TriedQuery, e: Expectation, type: RecordType): Finding[] {
  if (!e.isAuthoritative || !answered.has(q.rcode)) return [];
  const got = relevantAnswers(q, type);
  const gotKeys = new Set(got.map((a) => key(a.type, a.data)));
  const wantKeys = new Set(e.records.map((r) => key(r.type, r.data)));
  const findings: Finding[] = [];
  const missing = e.records.filter((r) => !gotKeys.has(key(r.type, r.data)));
  const stale = got.filter((a) => !wantKeys.has(key(a.type, a.data)));
  if (missing.length) {
    findings.push({
      code: 'dns-record-missing',
      severity: 'error',
      message: `${q.server} answered ${q.fqdn} ${type} with ${q.rcode === 'NXDOMAIN' && !got.length ? 'NXDOMAIN' : describe(got)}, without ${describe(missing)}, which the API implies (${[...new Set(missing.map((r) => r.from))].join('; ')}).`,
      hint: 'A DNS replica that lags the API has lost its watch or is overloaded: check its logs (kubectl logs -n kube-system -l k8s-app=kube-dns) and restart it.',
      server: q.server,
      fqdn: q.fqdn,
      missing: missing.map((r) => ({ type: r.type, data: r.data, from: r.from })),
    });
  }
  if (stale.length) {
    findings.push({
      code: 'dns-record-stale',
      severity: 'error',
      message: `${q.server} answered ${q.fqdn} ${type} with ${describe(stale)}, which the API does not imply${e.records.length ? ` (it implies ${describe(e.records)})` : e.exists ? '' : ' (the name does not exist in the API)'}.`,
      hint: 'Clients of this replica reach addresses that no longer serve the name: restart the replica, or look for a stub zone or hosts entry that shadows the cluster zone.',
      server: q.server,
      fqdn: q.fqdn,
      stale: stale.map((a) => ({ type: a.type, data: a.data })),
    });
  }
  return findings;
}

/** Close names that do exist, for a name that does not: the Service in another namespace, a typo. */
function closeNames(index: DnsIndex, name: string, plan: ResolverPlan): string[] {
  const zoneTail = `.svc.${index.zone}`;
  const bare = normalizeName(name);
  const short = bare.endsWith(zoneTail) ? bare.slice(0, -zoneTail.length) : bare;
  const labels = short.split('.');
  const candidates = new Set<string>();
  const exact: string[] = [];
  for (const s of index.services.values()) {
    const existsInDns = index.byName.has(`${s.name}.${s.namespace}.svc.${index.zone}`);
    if (!existsInDns) continue;
    candidates.add(`${s.name}.${s.namespace}`);
    if (s.namespace === plan.namespace) candidates.add(s.name);
    if (s.name === labels[0] && labels.length <= 2) exact.push(`${s.name}.${s.namespace}`);
    for (const e of s.endpoints) {
      if (!e.hasHostname) continue;
      candidates.add(`${e.label}.${s.name}.${s.namespace}`);
      if (s.namespace === plan.namespace) candidates.add(`${e.label}.${s.name}`);
      if (e.label === labels[0] && labels.length <= 3) exact.push(`${e.label}.${s.name}.${s.namespace}`);
    }
  }
  candidates.delete(short);
  const near = closest(short, candidates, 3);
  return [...new Set([...exact.filter((n) => n !== short), ...near])].slice(0, 4);
}

/** A pod whose hostname/subdomain would give the name, but no ready endpoint of the Service names it. */
function subdomainFindings(index: DnsIndex, sequence: string[]): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const tail = `.svc.${index.zone}`;
  for (const fqdn of sequence) {
    if (!fqdn.endsWith(tail)) continue;
    const labels = fqdn.slice(0, -tail.length).split('.');
    if (labels.length !== 3) continue;
    const [host, , ns] = labels as [string, string, string];
    for (const pod of index.pods) {
      if (pod.metadata.namespace !== ns || pod.spec?.hostname !== host) continue;
      const id = `${ns}/${pod.metadata.name}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const finding = subdomainProblem(index, pod.metadata.name, ns, host, pod.spec.subdomain, pod.metadata.labels);
      if (finding) findings.push(finding);
    }
  }
  return findings;
}

/** Why a pod's `hostname.subdomain` name cannot exist, or null when it does (or only waits for readiness). */
export function subdomainProblem(
  index: DnsIndex,
  podName: string,
  ns: string,
  host: string,
  subdomain: string | undefined,
  labels: Record<string, string> | undefined,
): Finding | null {
  const pod = `${ns}/${podName}`;
  if (!subdomain) {
    return {
      code: 'dns-subdomain-no-service',
      severity: 'error',
      message: `Pod ${pod} sets hostname ${host} but no subdomain: it gets no name under any Service.`,
      hint: 'Set spec.subdomain to the name of a headless Service in the same namespace that selects this pod.',
      pod,
    };
  }
  const fqdn = `${host}.${subdomain}.${ns}.svc.${index.zone}`;
  if (index.byName.has(fqdn)) return null;
  const svc = index.services.get(`${ns}/${subdomain}`);
  const headless = [...index.services.values()].filter((s) => s.namespace === ns && s.kind === 'headless').map((s) => s.name);
  if (!svc) {
    const near = closest(subdomain, headless);
    return {
      code: 'dns-subdomain-no-service',
      severity: 'error',
      message: `Pod ${pod} sets hostname ${host} and subdomain ${subdomain}, but namespace ${ns} has no Service ${subdomain}: ${host}.${subdomain} can never exist.${near.length ? ` Did you mean subdomain ${near.join(' or ')}?` : ''}`,
      hint: near.length ? `Set spec.subdomain: ${near[0]} on the pod, or create a headless Service ${subdomain} that selects it.` : `Create a headless Service (clusterIP: None) named ${subdomain} in ${ns} that selects the pod.`,
      pod,
      subdomain,
      ...(near.length ? { suggestions: near } : {}),
    };
  }
  if (svc.kind !== 'headless') {
    return {
      code: 'dns-subdomain-no-service',
      severity: 'error',
      message: `Pod ${pod} sets subdomain ${subdomain}, but Service ${ns}/${subdomain} is not headless (${svc.kind === 'external-name' ? 'ExternalName' : `clusterIP ${svc.service.spec?.clusterIP ?? ''}`}) and lists no endpoint with hostname ${host}.`,
      hint: `Per-pod names need a headless Service: set clusterIP: None on ${ns}/${subdomain} (recreate it), or add a headless Service for the subdomain.`,
      pod,
      subdomain,
    };
  }
  const selector = svc.service.spec?.selector;
  if (selector && !matchesMap(selector, labels)) {
    return {
      code: 'dns-subdomain-no-service',
      severity: 'error',
      message: `Pod ${pod} sets subdomain ${subdomain}, but headless Service ${ns}/${subdomain} selects other pods (${Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',')}), so ${host}.${subdomain} never gets a record.`,
      hint: `Make the Service's selector match the pod's labels, or set the pod's subdomain to the Service that selects it.`,
      pod,
      subdomain,
    };
  }
  return null;
}

/** A headless Service with no ready endpoint has no name at all. */
function noReadyFindings(index: DnsIndex, sequence: string[]): Finding[] {
  const findings: Finding[] = [];
  const tail = `.svc.${index.zone}`;
  const seen = new Set<string>();
  for (const fqdn of sequence) {
    if (!fqdn.endsWith(tail)) continue;
    const labels = fqdn.slice(0, -tail.length).split('.');
    if (labels.length < 2 || labels.length > 3) continue;
    const [name, ns] = labels.slice(-2) as [string, string];
    const svc = index.services.get(`${ns}/${name}`);
    if (!svc || svc.kind !== 'headless' || svc.endpoints.length || seen.has(`${ns}/${name}`)) continue;
    seen.add(`${ns}/${name}`);
    findings.push(noReadyEndpoints(svc.namespace, svc.name, svc.notReady));
  }
  return findings;
}

function noReadyEndpoints(ns: string, name: string, notReady: number): Finding {
  return {
    code: 'dns-no-ready-endpoints',
    severity: 'error',
    message: `Headless Service ${ns}/${name} has no ready endpoint${notReady ? ` (${notReady} not ready)` : ''}: a headless name is NXDOMAIN until a pod behind it is ready, by design.`,
    hint: `See why with knet endpoints svc/${ns}/${name}; set publishNotReadyAddresses: true if peers must find each other before they are ready (StatefulSet bootstrap).`,
    service: `${ns}/${name}`,
  };
}

export interface JudgeInput {
  name: string;
  type: RecordType;
  plan: ResolverPlan;
  index: DnsIndex;
  /** What each server answered, or null when no server was asked (judged from the API's records alone). */
  runs: ServerRun[] | null;
}

/** Judge one name: the report `knet dns` prints, `knet trace` shows in its resolve stage and `knet check` reads. */
export function judgeName(input: JudgeInput): DnsReport {
  const { name, type, plan, index } = input;
  const sequence = searchSequence(name, plan);
  const apiWalk = walkApi(index, sequence, type);
  const apiResolved = apiWalk.find((q) => q.rcode === 'NOERROR' && q.answers.length);
  const expected = apiResolved ? expectRecords(index, apiResolved.fqdn, type).records : [];
  const findings: Finding[] = [];
  let tried: TriedQuery[];
  let outcome: DnsOutcome;
  let resolvedAs: string | null;
  let resolvedAfter: number | null;

  if (input.runs === null) {
    tried = apiWalk;
    resolvedAs = apiResolved?.fqdn ?? null;
    resolvedAfter = apiResolved ? apiWalk.indexOf(apiResolved) + 1 : null;
    const last = apiWalk.at(-1);
    outcome = apiResolved ? 'resolves' : last?.rcode === 'UNKNOWN' ? 'unknown' : apiWalk.some((q) => q.rcode === 'NOERROR') ? 'nodata' : 'nxdomain';
  } else {
    const runs = input.runs;
    tried = runs.flatMap((r) => r.queries);
    for (const q of tried) {
      if (!answered.has(q.rcode)) {
        findings.push({
          code: 'dns-server-failure',
          severity: 'error',
          message: `${q.server} gave ${q.rcode} for ${q.fqdn} ${type}${q.error ? `: ${q.error}` : ''}.`,
          hint: q.rcode === 'TIMEOUT' || q.rcode === 'ERROR' ? 'Check that the server is running and reachable (its pod, its port, a NetworkPolicy in front of it).' : 'Look at the server\'s logs: a failing upstream, a broken plugin or a bad zone.',
          server: q.server,
          fqdn: q.fqdn,
          rcode: q.rcode,
        });
        continue;
      }
      findings.push(...compareAnswer(q, expectRecords(index, q.fqdn, type), type));
    }
    findings.push(...disagreements(runs, type));
    const resolvedRuns = runs.map((r) => r.queries.findIndex((q) => isResolved(q, type)));
    const first = resolvedRuns.findIndex((i) => i >= 0);
    resolvedAs = first >= 0 ? runs[first]!.queries[resolvedRuns[first]!]!.fqdn : null;
    resolvedAfter = first >= 0 ? resolvedRuns[first]! + 1 : null;
    const anyAnswered = tried.some((q) => answered.has(q.rcode));
    outcome = resolvedAs ? 'resolves' : !anyAnswered ? 'failure' : tried.some((q) => q.rcode === 'NOERROR') ? 'nodata' : 'nxdomain';
  }

  if (outcome === 'nxdomain' || outcome === 'nodata') {
    const own = [...subdomainFindings(index, sequence), ...noReadyFindings(index, sequence)];
    if (outcome === 'nxdomain') {
      const near = closeNames(index, name, plan);
      findings.push({
        code: 'dns-nxdomain',
        severity: 'error',
        message: `${name} does not resolve from ${plan.pod ? `pod ${plan.pod}` : `namespace ${plan.namespace}`}: none of the ${sequence.length} name${sequence.length === 1 ? '' : 's'} its resolver tries exists${input.runs ? '' : ' in the API'} (${sequence.join(', ')}).${near.length ? ` Names that do exist: ${near.join(', ')}.` : ''}`,
        ...(near.length ? { hint: `Did you mean ${near[0]}?`, suggestions: near } : {}),
        tried: sequence,
      });
    }
    findings.push(...own);
  }

  if (resolvedAfter !== null && resolvedAfter >= 2 && resolvedAs) {
    findings.push({
      code: 'dns-search-expansion',
      severity: resolvedAfter >= 3 ? 'warning' : 'info',
      message: `${name} resolved only at the ${ordinal(resolvedAfter)} name the resolver tried (ndots ${plan.ndots}): ${resolvedAfter - 1} quer${resolvedAfter === 2 ? 'y' : 'ies'} (twice that with A and AAAA) went to names that do not exist first.`,
      hint: `Write the FQDN with a trailing dot: ${resolvedAs}.`,
      queries: resolvedAfter,
      fqdn: resolvedAs,
    });
  }

  return {
    name,
    type,
    from: plan.pod,
    dnsPolicy: plan.dnsPolicy,
    ndots: plan.ndots,
    nameservers: plan.nameservers,
    searchList: plan.searchList,
    tried,
    expected,
    servers: input.runs?.map((r) => r.server) ?? [],
    judgedFrom: input.runs === null ? 'api' : 'servers',
    outcome,
    resolvedAs,
    // Per code within one name: 30 CoreDNS replicas failing alike are one finding with a count.
    findings: aggregateFindings(dedupe(findings), { keyOf: (f) => f.code }),
    notes: plan.notes,
  };
}

function ordinal(n: number): string {
  return n === 1 ? '1st' : n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.code}|${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Servers asked the same name that answered differently (failures are reported on their own). */
function disagreements(runs: ServerRun[], type: RecordType): Finding[] {
  if (runs.length < 2) return [];
  const byName = new Map<string, { server: string; said: string }[]>();
  for (const run of runs) {
    for (const q of run.queries) {
      if (!answered.has(q.rcode)) continue;
      const data = relevantAnswers(q, type).map((a) => key(a.type, a.data)).sort();
      const said = data.length ? data.join(', ') : q.rcode === 'NXDOMAIN' ? 'NXDOMAIN' : 'no records (NODATA)';
      const list = byName.get(q.fqdn) ?? [];
      list.push({ server: run.server, said });
      byName.set(q.fqdn, list);
    }
  }
  const findings: Finding[] = [];
  for (const [fqdn, list] of byName) {
    if (list.length < 2 || new Set(list.map((l) => l.said)).size < 2) continue;
    findings.push({
      code: 'dns-replicas-disagree',
      severity: 'error',
      message: `The servers answer ${fqdn} ${type} differently: ${list.map((l) => `${l.server} says ${l.said}`).join('; ')}.`,
      hint: 'Clients get a different answer depending on the replica they reach: restart the replica that differs from the API (see the other findings).',
      fqdn,
      answers: list,
    });
  }
  return findings;
}

/** The names `knet dns --all` checks: every Service in scope, and every hostname.subdomain name of pods in scope. */
export function namesToCheck(index: DnsIndex, inScope: (namespace: string) => boolean): { name: string; type: RecordType }[] {
  const out = new Map<string, RecordType>();
  const typeAt = (fqdn: string): RecordType => {
    const at = index.byName.get(fqdn) ?? [];
    return at.some((r) => r.type === 'AAAA') && !at.some((r) => r.type === 'A') ? 'AAAA' : 'A';
  };
  for (const s of index.services.values()) {
    if (!inScope(s.namespace)) continue;
    const fqdn = `${s.name}.${s.namespace}.svc.${index.zone}`;
    out.set(`${fqdn}.`, typeAt(fqdn));
  }
  for (const pod of index.pods) {
    const ns = pod.metadata.namespace ?? 'default';
    if (!inScope(ns) || !pod.spec?.hostname || !pod.spec.subdomain) continue;
    const fqdn = `${pod.spec.hostname}.${pod.spec.subdomain}.${ns}.svc.${index.zone}`;
    if (!out.has(`${fqdn}.`)) out.set(`${fqdn}.`, typeAt(fqdn));
  }
  return [...out].map(([name, type]) => ({ name, type }));
}

