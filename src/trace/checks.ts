// `knet check`: smoke checks as data. A checks file is read strictly (a CI gate that silently skips a
// misspelt check is worse than none): every problem names its line and what is expected there. Each
// check is one named scenario with its expectation; judging one is the engine's job (trace, DNS,
// endpoints, rules diff), and this file only says whether what they found is what was expected.
import { SERVER_DISAGREES_CODES } from '../dns/judge.js';
import type { DnsReport } from '../dns/types.js';
import type { ServiceEndpoints } from '../endpoints/diff.js';
import type { RulesDiffReport } from '../netfilter/rules-diff/index.js';
import type { TraceReport } from './types.js';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type Pair } from 'yaml';

export type CheckKind = 'connect' | 'dns' | 'endpoints' | 'rules';

export const EXPECTATIONS: Record<CheckKind, readonly string[]> = {
  connect: ['allow', 'deny'],
  dns: ['resolves', 'nxdomain'],
  endpoints: ['healthy'],
  rules: ['in-sync'],
};

const FIELDS: Record<CheckKind, { required: readonly string[]; optional: readonly string[] }> = {
  connect: { required: ['from', 'to'], optional: ['port', 'protocol'] },
  dns: { required: ['name'], optional: ['from', 'type'] },
  endpoints: { required: ['service'], optional: [] },
  rules: { required: ['node'], optional: ['service'] },
};

export interface CheckSpec {
  name: string;
  kind: CheckKind;
  /** The check's own fields, e.g. `{ from, to, port }`; ports are numbers, everything else strings. */
  params: Record<string, string | number>;
  expect: string;
  /** 1-based line of the check in the file. */
  line: number;
}

export class CheckFileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const KINDS = Object.keys(EXPECTATIONS) as CheckKind[];

export function parseChecks(text: string): CheckSpec[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineOf = (node: YamlNode | Pair | null | undefined): number => {
    const range = node && 'range' in node ? node.range : node && 'key' in node && isScalar(node.key) ? node.key.range : undefined;
    return range ? lineCounter.linePos(range[0]).line : 1;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new CheckFileError(lineCounter.linePos(e.pos[0]).line, `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw new CheckFileError(lineOf(root), 'the file must be a mapping with a `checks:` list');
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key !== 'checks') throw new CheckFileError(lineOf(pair.key), `unknown key "${key}": the file has one key, checks`);
  }
  const list = root.get('checks', true) as YamlNode | undefined;
  if (!isSeq(list)) throw new CheckFileError(lineOf(list ?? root), '`checks:` must be a list of checks (each `- name: …`)');
  if (list.items.length === 0) throw new CheckFileError(lineOf(list), '`checks:` is empty: there is nothing to check');
  const names = new Map<string, number>();
  return list.items.map((item, i) => {
    const node = item as YamlNode;
    const line = lineOf(node);
    const where = `check ${i + 1}`;
    if (!isMap(node)) throw new CheckFileError(line, `${where} must be a mapping with name, one of ${KINDS.join('|')}, and expect`);
    const map = node;
    const keys = map.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''));
    for (const [k, pair] of keys.map((k, j) => [k, map.items[j]!] as const)) {
      if (k !== 'name' && k !== 'expect' && !KINDS.includes(k as CheckKind)) {
        throw new CheckFileError(lineOf(pair.key as YamlNode), `${where}: unknown key "${k}" (expected name, expect, and one of ${KINDS.join(', ')})`);
      }
    }
    const nameNode = map.get('name', true) as YamlNode | undefined;
    if (!isScalar(nameNode) || typeof nameNode.value !== 'string' || nameNode.value.trim() === '') throw new CheckFileError(nameNode ? lineOf(nameNode) : line, `${where} needs a name (a non-empty string)`);
    const name = nameNode.value.trim();
    const label = `check "${name}"`;
    if (names.has(name)) throw new CheckFileError(lineOf(nameNode), `${label} has the same name as the check on line ${names.get(name)}: names identify checks in reports`);
    names.set(name, lineOf(nameNode));
    const kinds = KINDS.filter((k) => keys.includes(k));
    if (kinds.length !== 1) throw new CheckFileError(line, `${label} needs exactly one of ${KINDS.join(', ')}${kinds.length ? ` (it has ${kinds.join(' and ')})` : ''}`);
    const kind = kinds[0]!;
    const body = map.get(kind, true) as YamlNode | undefined;
    if (!isMap(body)) throw new CheckFileError(body ? lineOf(body) : line, `${label}: ${kind} must be a mapping, e.g. ${example(kind)}`);
    const params: Record<string, string | number> = {};
    const allowed = [...FIELDS[kind].required, ...FIELDS[kind].optional];
    for (const pair of (body).items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!allowed.includes(k)) throw new CheckFileError(lineOf(pair.key as YamlNode), `${label}: ${kind} has no field "${k}" (its fields: ${allowed.join(', ')})`);
      const v = pair.value as YamlNode | null;
      if (!isScalar(v) || v.value === null || v.value === '' || typeof v.value === 'object') throw new CheckFileError(lineOf(v ?? (pair.key as YamlNode)), `${label}: ${kind}.${k} must be a value`);
      const value = v.value as string | number | boolean;
      if (k === 'port') {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1 || n > 65535) throw new CheckFileError(lineOf(v), `${label}: ${kind}.port "${String(value)}" is not a port number (1-65535)`);
        params[k] = n;
      } else params[k] = String(value);
    }
    for (const k of FIELDS[kind].required) if (params[k] === undefined) throw new CheckFileError(lineOf(body), `${label}: ${kind} needs ${k}, e.g. ${example(kind)}`);
    if (params.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(String(params.protocol).toUpperCase())) throw new CheckFileError(lineOf(body), `${label}: ${kind}.protocol "${params.protocol}" is not TCP, UDP or SCTP`);
    const expectNode = map.get('expect', true) as YamlNode | undefined;
    if (!isScalar(expectNode)) throw new CheckFileError(line, `${label} needs expect: ${EXPECTATIONS[kind].join(' | ')}`);
    const expect = String(expectNode.value);
    if (!EXPECTATIONS[kind].includes(expect)) throw new CheckFileError(lineOf(expectNode), `${label}: expect "${expect}" is not one of ${EXPECTATIONS[kind].join(', ')} (for a ${kind} check)`);
    return { name, kind, params, expect, line };
  });
}

function example(kind: CheckKind): string {
  switch (kind) {
    case 'connect':
      return '{ from: shop/frontend, to: svc/api, port: 8080 }';
    case 'dns':
      return '{ name: db.shop, from: shop/frontend }';
    case 'endpoints':
      return '{ service: shop/api }';
    case 'rules':
      return '{ node: kind-worker }';
  }
}

/** One check's outcome: pass, fail (the expectation is not met), or error (it could not be judged). */
export interface CheckResult {
  name: string;
  kind: CheckKind;
  expect: string;
  status: 'pass' | 'fail' | 'error';
  /** What was found, in the expectation's words (`deny`, `nxdomain`, `unhealthy`…). */
  actual: string;
  /** Why it passed or failed, in a sentence. */
  reason: string;
  line: number;
  /** Milliseconds the check took. */
  ms: number;
  /** The engine's evidence: the first failing hop, finding codes. */
  details?: Record<string, unknown>;
}

export interface CheckReport {
  file: string;
  source: string;
  checks: CheckResult[];
  summary: { total: number; passed: number; failed: number; errors: number };
  /** The names of the checks that did not pass, for the summary line. */
  failures: string[];
}

export function summarizeChecks(file: string, source: string, checks: CheckResult[]): CheckReport {
  const failed = checks.filter((c) => c.status === 'fail').length;
  const errors = checks.filter((c) => c.status === 'error').length;
  return {
    file,
    source,
    checks,
    summary: { total: checks.length, passed: checks.length - failed - errors, failed, errors },
    failures: checks.filter((c) => c.status !== 'pass').map((c) => c.name),
  };
}

type Judged = Pick<CheckResult, 'status' | 'actual' | 'reason' | 'details'>;

/** A connect check is judged as trace judges the connection: `allow` passes when it is delivered. */
export function judgeConnect(spec: CheckSpec, trace: TraceReport): Judged {
  const actual = trace.verdict === 'delivered' ? 'allow' : trace.verdict === 'unknown' ? 'unknown' : 'deny';
  const reach = trace.reachable.of > 1 ? ` (${trace.reachable.endpoints} of ${trace.reachable.of} endpoints reachable)` : '';
  const stop = trace.firstFailure ? `: stops at ${trace.firstFailure.stage}: ${trace.firstFailure.summary}` : '';
  const details = { verdict: trace.verdict, reachable: trace.reachable, ...(trace.firstFailure ? { firstFailure: trace.firstFailure } : {}), ...(trace.notJudged.length ? { notJudged: trace.notJudged } : {}) };
  const said = `${trace.src.name} → ${trace.dst.name}${trace.port !== null ? `:${trace.port}` : ''}/${trace.protocol} is ${trace.verdict}${reach}${stop}`;
  if (actual === 'unknown') return { status: 'fail', actual, reason: `${said} — knet cannot tell, so the check cannot pass`, details };
  // Some endpoints take the connection and others do not: neither allowed (it fails at times) nor
  // denied (isolation that lets some connections through is no isolation).
  if (actual === 'deny' && trace.reachable.endpoints > 0) return { status: 'fail', actual: 'partial', reason: `${said} — some connections get through, so it is neither allowed nor denied`, details };
  return { status: actual === spec.expect ? 'pass' : 'fail', actual, reason: said, details };
}

/** healthy: at least one ready endpoint, and no error finding from the endpoints engine. */
export function judgeEndpoints(_spec: CheckSpec, svc: ServiceEndpoints): Judged {
  const errors = svc.findings.filter((f) => f.severity === 'error');
  const ready = svc.endpoints.ready.length;
  const name = `svc/${svc.namespace}/${svc.name}`;
  const details = { ready, findings: svc.findings.map((f) => f.code) };
  if (ready === 0) return { status: 'fail', actual: 'unhealthy', reason: `${name} has no ready endpoint${errors[0] ? `: ${errors[0].code}: ${errors[0].message}` : ''}`, details };
  if (errors.length > 0) return { status: 'fail', actual: 'unhealthy', reason: `${name} has ${ready} ready endpoint${ready === 1 ? '' : 's'} but ${errors.length} error finding${errors.length === 1 ? '' : 's'}: ${errors.map((f) => `${f.code}: ${f.message}`).join('; ')}`, details };
  return { status: 'pass', actual: 'healthy', reason: `${name} has ${ready} ready endpoint${ready === 1 ? '' : 's'} and no error finding`, details };
}

/** resolves / nxdomain, as the DNS engine's outcome says; a name it cannot judge without a server is not judged. */
export function judgeDns(spec: CheckSpec, report: DnsReport): Judged {
  const how = report.judgedFrom === 'api' ? 'judged from the records the API implies, no DNS server asked' : `asked ${report.servers.join(', ')}`;
  const details = { outcome: report.outcome, resolvedAs: report.resolvedAs, judgedFrom: report.judgedFrom, findings: report.findings.map((f) => f.code) };
  const from = report.from ?? 'a pod in the namespace';
  if (report.outcome === 'unknown') return { status: 'error', actual: 'not judged', reason: `${report.name} is outside the cluster domain and no DNS server was asked: only a server can say`, details };
  const answers = report.tried.find((t) => t.fqdn === report.resolvedAs)?.answers.map((a) => a.data) ?? [];
  const said = report.outcome === 'resolves' ? `${report.name} resolves from ${from} as ${report.resolvedAs ?? '?'}${answers.length ? ` → ${answers.join(', ')}` : ''}` : `${report.name} is ${report.outcome} from ${from}${report.findings[0] ? `: ${report.findings[0].message}` : ''}`;
  // A server whose answer is not what the API implies fails the check whatever it expects: one of them is wrong.
  const disagree = report.judgedFrom === 'servers' ? report.findings.filter((f) => SERVER_DISAGREES_CODES.has(f.code) && f.severity === 'error') : [];
  if (disagree.length > 0) {
    const implied = report.expected.length ? report.expected.map((r) => `${r.type} ${r.data}`).join(', ') : 'no such name';
    return { status: 'fail', actual: `${report.outcome}, not as the API implies`, reason: `${said} (${how}); the API implies ${implied}: ${disagree.map((f) => `${f.code}: ${f.message}`).join('; ')}`, details };
  }
  return { status: report.outcome === spec.expect ? 'pass' : 'fail', actual: report.outcome, reason: `${said} (${how})`, details };
}

/** in-sync: no error finding from rules diff on that node. */
export function judgeRules(_spec: CheckSpec, node: string, report: Pick<RulesDiffReport, 'findings' | 'summary' | 'mode'>): Judged {
  const errors = report.findings.filter((f) => f.severity === 'error');
  const details = { mode: report.mode, summary: report.summary, findings: report.findings.map((f) => f.code) };
  if (errors.length === 0) return { status: 'pass', actual: 'in-sync', reason: `kube-proxy on ${node} (${report.mode} mode) matches the API: ${report.summary.inSync} of ${report.summary.servicePorts} Service ports in sync, no error finding`, details };
  return { status: 'fail', actual: 'drifted', reason: `kube-proxy on ${node} differs from the API: ${errors.map((f) => `${f.code}: ${f.message}`).slice(0, 3).join('; ')}${errors.length > 3 ? ` (and ${errors.length - 3} more)` : ''}`, details };
}
