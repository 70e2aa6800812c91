// Running the checks of a checks file against one cluster source: each check is judged by the engine
// its kind names, exactly as the matching command would judge it (a connect check is a trace). A
// check that cannot be judged (a reference that names nothing, node state that is missing) is an error
// of that check, not of the run: the other checks still report.
import { diffEndpoints } from '../endpoints/diff.js';
import { recordTypes, type RecordType } from '../dns/index.js';
import { KnetError, inputError } from '../model/errors.js';
import { diffRules } from '../netfilter/rules-diff/index.js';
import { DnsAsker, resolveNameFor } from './dns-ask.js';
import { readKubeProxyState } from './kube-proxy-state.js';
import { selectNodes } from './node-read.js';
import type { OpenedCluster, SourceOptions } from '../sources/cluster.js';
import { judgeConnect, judgeDns, judgeEndpoints, judgeRules, type CheckResult, type CheckSpec } from '../trace/checks.js';
import { checkDnsName, parseRef, parseServiceRef } from './refs.js';
import { resolvePod, resolveService } from './resolve.js';
import { runTrace } from './trace-run.js';

type Judged = Pick<CheckResult, 'status' | 'actual' | 'reason' | 'details'>;

async function judge(opened: OpenedCluster, options: SourceOptions, spec: CheckSpec, dns: DnsAsker): Promise<Judged> {
  const namespace = options.namespace ?? opened.namespace;
  switch (spec.kind) {
    case 'connect': {
      const trace = await runTrace(options, { src: String(spec.params.from), dst: String(spec.params.to), ...(typeof spec.params.port === 'number' ? { port: spec.params.port } : {}), ...(spec.params.protocol !== undefined ? { protocol: String(spec.params.protocol) } : {}) }, opened, dns);
      return judgeConnect(spec, trace);
    }
    case 'endpoints': {
      const svc = resolveService(opened.cluster, parseServiceRef(String(spec.params.service)), namespace);
      const report = diffEndpoints(opened.cluster, { service: { namespace: svc.metadata.namespace ?? 'default', name: svc.metadata.name } });
      return judgeEndpoints(spec, report.services[0]!);
    }
    case 'dns': {
      // As the pod `from` would resolve it: asked of the DNS servers (live, each kube-dns pod; or --server)
      // and compared with the records the API implies; on a snapshot without --server, judged from those alone.
      // A name no resolver would look up (web..shop) is an error of the check, never a pass of `expect: nxdomain`.
      checkDnsName(String(spec.params.name));
      const from = spec.params.from === undefined ? undefined : parseRef(String(spec.params.from), { what: 'dns.from' });
      if (from !== undefined && from.kind !== 'pod') throw inputError(`dns.from "${String(spec.params.from)}" is not a pod`, 'bad-reference', ['Give the pod whose resolver to follow: NS/NAME.']);
      const pod = from === undefined ? undefined : resolvePod(opened.cluster, from, namespace);
      const type = (spec.params.type === undefined ? 'A' : String(spec.params.type).toUpperCase()) as RecordType;
      if (!recordTypes.includes(type)) throw inputError(`dns.type "${String(spec.params.type)}" is not one of ${recordTypes.join(', ')}`, 'bad-record-type');
      const report = await resolveNameFor(opened, dns, { name: String(spec.params.name), type, namespace: pod?.metadata.namespace ?? namespace, ...(pod ? { pod } : {}) });
      return judgeDns(spec, report);
    }
    case 'rules': {
      const [node] = await selectNodes(opened, String(spec.params.node), false, 'rules diff');
      const loaded = await readKubeProxyState(opened, node!, undefined);
      const service = spec.params.service === undefined ? undefined : parseServiceRef(String(spec.params.service));
      const report = diffRules({ cluster: opened.cluster, node: node!, state: loaded.state, ...(service ? { service: { namespace: service.namespace ?? namespace, name: service.name } } : {}) });
      return judgeRules(spec, node!, { ...report, findings: [...loaded.findings, ...report.findings] });
    }
  }
}

/** `servers`: `--server IP[:PORT]`, the DNS servers dns checks and connect checks to a name ask (default live: each kube-dns pod). */
export async function runChecks(opened: OpenedCluster, options: SourceOptions, specs: CheckSpec[], clock: () => number, servers: readonly string[] = []): Promise<CheckResult[]> {
  const dns = new DnsAsker(options, servers);
  try {
    return await runEach(opened, options, specs, clock, dns);
  } finally {
    dns.close();
  }
}

async function runEach(opened: OpenedCluster, options: SourceOptions, specs: CheckSpec[], clock: () => number, dns: DnsAsker): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const spec of specs) {
    const start = clock();
    let judged: Judged;
    try {
      judged = await judge(opened, options, spec, dns);
    } catch (err) {
      // Input problems of one check (a pod that does not exist) fail that check with the reason;
      // anything else (the cluster went away) ends the run as the error it is.
      if (!(err instanceof KnetError) || err.exit !== 2) throw err;
      judged = { status: 'error', actual: 'not judged', reason: [err.message, ...err.suggestions].join(' ') };
    }
    results.push({ name: spec.name, kind: spec.kind, expect: spec.expect, ...judged, line: spec.line, ms: Math.max(0, clock() - start) });
  }
  return results;
}
