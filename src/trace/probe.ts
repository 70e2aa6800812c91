// The `probe` stage of `knet trace --probe`: what a real TCP connection attempt from inside the source
// pod saw, compared with what the trace judged. The attempts themselves are made by a source (an
// ephemeral container in the source pod, src/sources/live/probe.ts); this file only says which
// addresses to try, reads the attempts' output, and judges whether reality agrees with the simulation.
// Pure: no I/O, no clock.
import type { Finding } from '../model/finding.js';
import type { Branch, Fate, Hop, HopStatus, TraceReport } from './types.js';
import { joinHostPort } from '../model/ip.js';

/** What one connection attempt saw. */
export type ProbeResult = 'connected' | 'refused' | 'timeout' | 'error';

/** What the trace implies an attempt to an address must see: connected, not connected (and how), or either. */
export type ProbeExpectation = 'connected' | 'rejected' | 'dropped' | 'either';

export interface ProbeTarget {
  ip: string;
  port: number;
  /** `front`: the address the client dials (a ClusterIP, a pod, a node); `endpoint`: one endpoint, dialled directly. */
  role: 'front' | 'endpoint';
  expect: ProbeExpectation;
  /** Why that expectation: the verdict, or the hop of the branch that decides it. */
  because: string;
}

export interface ProbeAttempt extends ProbeTarget {
  result: ProbeResult;
  /** What the attempt printed (the connect error), trimmed. */
  detail: string;
}

/** The probe as the trace report carries it (`probe` in the JSON, with --probe). */
export type ProbeRun =
  | { container: string; pod: string; image: string; attempts: ProbeAttempt[] }
  | { skipped: string; remedy: string };

/** How many endpoints are dialled directly at most, besides the front address. */
const MAX_ENDPOINTS = 8;

function frontExpectation(r: TraceReport): { expect: ProbeExpectation; because: string } {
  if (r.verdict === 'delivered') return { expect: 'connected', because: 'the trace says delivered' };
  if (r.verdict === 'unknown') return { expect: 'either', because: 'the trace could not decide' };
  // Some endpoints reachable and some not: kube-proxy picks one at random for each new connection.
  if (r.reachable.endpoints > 0) return { expect: 'either', because: `${r.reachable.endpoints} of ${r.reachable.of} endpoints are reachable, and kube-proxy picks one per connection` };
  return { expect: r.verdict, because: `the trace says ${r.verdict}${r.firstFailure ? ` at ${r.firstFailure.stage}` : ''}` };
}

/** A direct dial skips kube-proxy's DNAT: the branch's other hops decide it. */
function endpointExpectation(b: Branch): { expect: ProbeExpectation; because: string } {
  const hops = b.hops.filter((h) => h.stage !== 'node-rules');
  const failed = hops.find((h) => h.status === 'fail');
  if (failed) return { expect: failed.fate === 'rejected' ? 'rejected' : failed.fate === 'dropped' ? 'dropped' : 'either', because: `its ${failed.stage} hop fails` };
  if (hops.some((h) => h.fate === 'unknown' || h.status === 'skip')) return { expect: 'either', because: 'some of its hops were not judged' };
  return { expect: 'connected', because: 'its policy and route hops pass' };
}

/**
 * The addresses to try from the source pod, each with what the trace says it must see; or why no
 * attempt can be made (the probe tries TCP from inside a pod only).
 */
export function probeTargets(r: TraceReport): ProbeTarget[] | { skipped: string; remedy: string } {
  if (r.src.kind !== 'pod') return { skipped: `--probe connects from inside the source pod, and ${r.src.name} is no pod`, remedy: 'Trace from a pod (NS/NAME).' };
  if (r.protocol !== 'TCP') {
    return { skipped: `--probe attempts TCP connections only: a ${r.protocol} packet that gets no answer cannot be told dropped from unanswered`, remedy: 'Trace the TCP port of the same Service, or test with the application\'s own client.' };
  }
  if (r.port === null) return { skipped: 'no destination port was judged', remedy: 'Give --port.' };
  const targets: ProbeTarget[] = [];
  const front = r.dst.ips.find((ip) => r.src.ips.some((s) => s.includes(':') === ip.includes(':')));
  if (front !== undefined) targets.push({ ip: front, port: r.port, role: 'front', ...frontExpectation(r) });
  // Through a Service, each endpoint is also dialled on its own: which one fails is then plain.
  if (r.dst.kind === 'service' || r.branches.length > 1) {
    for (const b of r.branches.filter((x) => x.hops.some((h) => h.stage === 'policy-ingress')).slice(0, MAX_ENDPOINTS)) {
      const at = b.endpoint.lastIndexOf(':');
      const ip = b.endpoint.slice(0, at).replace(/^\[(.*)\]$/, '$1');
      const port = Number(b.endpoint.slice(at + 1));
      if (targets.some((t) => t.ip === ip && t.port === port)) continue;
      targets.push({ ip, port, role: 'endpoint', ...endpointExpectation(b) });
    }
  }
  if (targets.length === 0) return { skipped: `${r.dst.name} has no address to connect to`, remedy: 'Read the resolve hop: the destination did not resolve to an address.' };
  return targets;
}

// One line per attempt: `knet-probe IP PORT EXIT-CODE MESSAGE…` (see src/sources/live/probe.ts).
const LINE = /^knet-probe (\S+) (\d+) (\d+)(?: (.*))?$/;

/** The result of each attempt from the probe script's output; an attempt that printed nothing is an error. */
export function parseProbeOutput(text: string, targets: readonly ProbeTarget[]): ProbeAttempt[] {
  const lines = new Map<string, { code: number; message: string }>();
  for (const raw of text.split('\n')) {
    const m = LINE.exec(raw.trim());
    if (m) lines.set(joinHostPort(m[1]!, Number(m[2])), { code: Number(m[3]), message: (m[4] ?? '').trim() });
  }
  return targets.map((t) => {
    const seen = lines.get(joinHostPort(t.ip, t.port));
    if (!seen) return { ...t, result: 'error', detail: 'the probe printed nothing for this address' };
    return { ...t, ...classify(seen.code, seen.message) };
  });
}

function classify(code: number, message: string): { result: ProbeResult; detail: string } {
  const detail = message.replace(/^.*?(connect|\/dev\/tcp\/[^:]*): /i, '').slice(0, 200);
  if (code === 0) return { result: 'connected', detail: 'connected' };
  // timeout(1) exits 124 (coreutils) or 143 (busybox, killed by SIGTERM) when the connect never finished.
  if (code === 124 || code === 143) return { result: 'timeout', detail: 'no answer (the connect timed out)' };
  if (/refused/i.test(message)) return { result: 'refused', detail: 'connection refused' };
  // An ICMP unreachable (REJECT --reject-with icmp-host-unreachable, no route) ends the attempt at once.
  if (/no route to host|host is unreachable|network is unreachable/i.test(message)) return { result: 'refused', detail: detail || 'unreachable' };
  if (/timed out/i.test(message)) return { result: 'timeout', detail: 'no answer (the connect timed out)' };
  return { result: 'error', detail: detail || `exit code ${code}` };
}

type Judged = { attempt: ProbeAttempt; agrees: boolean | null; fateDiffers: boolean };

function judge(a: ProbeAttempt): Judged {
  if (a.result === 'error' || a.expect === 'either') return { attempt: a, agrees: a.result === 'error' ? null : true, fateDiffers: false };
  const connected = a.result === 'connected';
  if (a.expect === 'connected') return { attempt: a, agrees: connected, fateDiffers: false };
  if (connected) return { attempt: a, agrees: false, fateDiffers: false };
  // Both fail, one by a refusal and the other by silence: the same answer to "does it connect".
  return { attempt: a, agrees: true, fateDiffers: (a.result === 'refused' && a.expect === 'dropped') || (a.result === 'timeout' && a.expect === 'rejected') };
}

const said = (r: ProbeResult): string => (r === 'connected' ? 'connected' : r === 'refused' ? 'was refused' : r === 'timeout' ? 'timed out' : 'could not be made');
const expected = (e: ProbeExpectation): string => (e === 'connected' ? 'a connection' : e === 'rejected' ? 'a refusal' : e === 'dropped' ? 'a timeout (dropped)' : 'either');

function describeAttempt(a: ProbeAttempt): string {
  return `${joinHostPort(a.ip, a.port)} (${a.role === 'front' ? 'as the client dials it' : 'endpoint, dialled directly'}): ${a.result}${a.detail && a.detail !== a.result && a.result !== 'connected' ? ` — ${a.detail}` : ''}; the trace expects ${expected(a.expect)} (${a.because})`;
}

/**
 * The report with the `probe` hop (and `probe` field) added: ok when every attempt saw what the trace
 * judged, fail with `trace-probe-disagrees` when one contradicts it, skip without a live source pod. The
 * verdict stays knet's judgement; the finding says where reality differs, and makes the exit code 1.
 */
export function applyProbe(report: TraceReport, run: ProbeRun): TraceReport & { probe: ProbeRun } {
  const hops = report.hops.filter((h) => h.stage !== 'probe');
  const findings = [...report.findings];
  let firstFailure = report.firstFailure;
  const notJudged = [...report.notJudged];
  let hop: Hop;
  if ('skipped' in run) {
    hop = { stage: 'probe', status: 'skip', summary: run.skipped, evidence: [], remedy: run.remedy };
    if (!notJudged.includes('probe')) notJudged.push('probe');
  } else {
    const judged = run.attempts.map(judge);
    const against = judged.filter((j) => j.agrees === false);
    const errors = judged.filter((j) => j.agrees === null);
    const evidence = [
      `ephemeral container ${run.container} (${run.image}) in pod ${run.pod}: it shares the pod's network namespace; it stays in the pod spec (ephemeral containers cannot be removed) and has exited`,
      ...judged.map((j) => `${j.agrees === false ? '✗' : j.agrees === null ? '?' : '✓'} ${describeAttempt(j.attempt)}`),
    ];
    let status: HopStatus;
    let summary: string;
    let fate: Fate | undefined;
    if (against.length > 0) {
      const first = against[0]!.attempt;
      status = 'fail';
      fate = first.result === 'refused' ? 'rejected' : first.result === 'timeout' ? 'dropped' : undefined;
      summary = `a real connection from ${report.src.name} to ${joinHostPort(first.ip, first.port)} ${said(first.result)}, but the trace expects ${expected(first.expect)}: the simulation missed something${against.length > 1 ? ` (${against.length} of ${judged.length} attempts disagree)` : ''}`;
      const remedy = first.result === 'connected'
        ? 'The traffic gets through although knet judges it stopped: the state knet read is stale, or what it judged (a NetworkPolicy, a rule) is not enforced (a CNI without NetworkPolicy support, a policy in a mode that only audits). Trace again live, and check that the CNI enforces NetworkPolicy.'
        : `The traffic stops although knet judges it delivered: something knet does not read stops it — a CNI's own policy (Cilium, Calico or Antrea policies), a node-level firewall outside kube-proxy's chains, a service mesh, or ${first.role === 'endpoint' || report.dst.kind !== 'service' ? 'an application that does not listen on that port' : 'endpoints whose application does not listen on the targetPort'}.`;
      findings.unshift({
        code: 'trace-probe-disagrees',
        severity: 'error',
        message: `${report.src.name} → ${joinHostPort(first.ip, first.port)}: the real connection attempt ${said(first.result)}, the trace judged ${first.expect === 'connected' ? 'delivered' : first.expect} (${first.because}); the simulation missed something`,
        hint: remedy,
        stage: 'probe',
        target: joinHostPort(first.ip, first.port),
        expected: first.expect,
        actual: first.result,
      } satisfies Finding);
      hop = { stage: 'probe', status, summary, evidence, remedy, ...(fate ? { fate } : {}) };
      firstFailure ??= { stage: 'probe', summary, remedy };
    } else {
      const fateDiffers = judged.filter((j) => j.fateDiffers);
      status = errors.length > 0 || fateDiffers.length > 0 ? 'warn' : 'ok';
      const n = judged.length - errors.length;
      summary = errors.length === judged.length
        ? `no connection attempt could be made from ${report.src.name}: ${errors[0]!.attempt.detail}`
        : `${n} real connection attempt${n === 1 ? '' : 's'} from ${report.src.name} saw what the trace judged${fateDiffers.length ? `, though ${joinHostPort(fateDiffers[0]!.attempt.ip, fateDiffers[0]!.attempt.port)} ${said(fateDiffers[0]!.attempt.result)} where a ${fateDiffers[0]!.attempt.expect === 'rejected' ? 'refusal' : 'timeout'} was expected` : ''}${errors.length ? `; ${errors.length} could not be made (${errors[0]!.attempt.detail})` : ''}`;
      hop = { stage: 'probe', status, summary, evidence, ...(errors.length ? { remedy: 'The probe image needs bash (or nc) and timeout: point --image at one that has them.' } : {}) };
    }
  }
  return { ...report, hops: [...hops, hop], findings, firstFailure, notJudged, probe: run };
}
