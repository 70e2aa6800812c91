// Running the checks of a checks file against one cluster source: each check is judged by the engine
// its kind names, exactly as the matching command would judge it (a connect check is a trace). A
// check that cannot be judged (a reference that names nothing, a kind whose engine is missing) is
// an error of that check, not of the run: the other checks still report.
import { diffEndpoints } from '../endpoints/diff.js';
import { KnetError } from '../model/errors.js';
import type { OpenedCluster, SourceOptions } from '../sources/cluster.js';
import { judgeConnect, judgeEndpoints, type CheckResult, type CheckSpec } from '../trace/checks.js';
import { parseServiceRef } from './refs.js';
import { resolveService } from './resolve.js';
import { runTrace } from './trace-run.js';

type Judged = Pick<CheckResult, 'status' | 'actual' | 'reason' | 'details'>;

async function judge(opened: OpenedCluster, options: SourceOptions, spec: CheckSpec): Promise<Judged> {
  const namespace = options.namespace ?? opened.namespace;
  switch (spec.kind) {
    case 'connect': {
      const trace = await runTrace(options, { src: String(spec.params.from), dst: String(spec.params.to), ...(typeof spec.params.port === 'number' ? { port: spec.params.port } : {}), ...(spec.params.protocol !== undefined ? { protocol: String(spec.params.protocol) } : {}) }, opened);
      return judgeConnect(spec, trace);
    }
    case 'endpoints': {
      const svc = resolveService(opened.cluster, parseServiceRef(String(spec.params.service)), namespace);
      const report = diffEndpoints(opened.cluster, { service: { namespace: svc.metadata.namespace ?? 'default', name: svc.metadata.name } });
      return judgeEndpoints(spec, report.services[0]!);
    }
    case 'dns':
      return { status: 'error', actual: 'not judged', reason: 'dns checks need the DNS engine, which this build of knet does not have' };
    case 'rules':
      return { status: 'error', actual: 'not judged', reason: 'rules checks need the rules diff engine, which this build of knet does not have' };
  }
}

export async function runChecks(opened: OpenedCluster, options: SourceOptions, specs: CheckSpec[], clock: () => number): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const spec of specs) {
    const start = clock();
    let judged: Judged;
    try {
      judged = await judge(opened, options, spec);
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
