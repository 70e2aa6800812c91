// The resolve stage's view of a DNS answer: what the DNS engine said about the name as the source pod
// resolves it (its search list, from a server or from the records the API implies), reduced to the
// addresses the connection goes to, the Service the name belongs to, the evidence, and, when a server
// was asked, what the API implies and where the server's answer differs from it.
import type { Cluster } from '../model/cluster.js';
import { SERVER_DISAGREES_CODES } from '../dns/judge.js';
import type { DnsReport } from '../dns/types.js';
import type { NameResolution } from './trace.js';

const SERVICE_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc\.(.+)$/;

/** Null when the engine cannot say (a name outside the cluster domain with no server asked). */
export function resolutionFromDns(report: DnsReport, cluster: Cluster, clusterDomain: string): NameResolution | null {
  if (report.outcome === 'unknown') return null;
  const settled = report.tried.find((t) => t.fqdn === report.resolvedAs && t.rcode === 'NOERROR') ?? null;
  const addresses = (settled?.answers ?? []).filter((a) => a.type === 'A' || a.type === 'AAAA').map((a) => a.data);
  const isFromServer = report.judgedFrom === 'servers';
  const implied = report.expected.length ? `${report.expected[0]!.name} ${report.expected.map((r) => `${r.type} ${r.data}`).join(', ')}` : 'no record: the name does not exist in the API';
  const evidence = [
    `resolver of ${report.from ?? 'a pod in the namespace'}: dnsPolicy ${report.dnsPolicy}, ndots ${report.ndots}, search ${report.searchList.join(' ') || '(none)'}`,
    ...(isFromServer ? [`the API implies: ${implied}`] : []),
    ...report.tried.map((t) => `${t.fqdn} → ${t.rcode}${t.answers.length ? ` ${t.answers.map((a) => `${a.type} ${a.data}`).join(', ')}` : ''} (${t.server ?? 'the API\'s records'})${t.note ? `: ${t.note}` : ''}`),
  ];
  let service: NameResolution['service'];
  const m = report.resolvedAs ? SERVICE_NAME.exec(report.resolvedAs.replace(/\.$/, '')) : null;
  if (m && m[5] === clusterDomain) {
    const svc = cluster.services.find((s) => (s.metadata.namespace ?? 'default') === m[3] && s.metadata.name === m[1]);
    if (svc) service = { namespace: m[3]!, name: m[1]! };
  }
  const rcode = report.outcome === 'resolves' ? 'NOERROR' : report.outcome === 'nxdomain' ? 'NXDOMAIN' : report.outcome === 'nodata' ? 'NOERROR (no address)' : (settled?.rcode ?? report.tried.at(-1)?.rcode ?? 'SERVFAIL');
  return {
    name: report.name,
    fqdn: report.resolvedAs,
    rcode,
    addresses,
    isFromServer,
    servers: report.servers,
    apiImplies: implied,
    disagreements: isFromServer ? report.findings.filter((f) => SERVER_DISAGREES_CODES.has(f.code) && f.severity === 'error') : [],
    evidence,
    findings: report.findings,
    ...(service ? { service } : {}),
  };
}
