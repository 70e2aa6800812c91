// Virtual servers as `knet node ipvs` shows them: a virtual server is kept when it, or one of its
// real servers, matches the filter (a Service's VIPs, NodePorts and endpoints; an IP; a port).
import { canonicalIP } from '../../model/ip.js';
import type { NodeFilter } from '../node-filter.js';
import type { IpvsTable, VirtualServer } from './parse.js';
import type { Finding } from '../../model/finding.js';

export function viewIpvs(ipvs: IpvsTable, filter: NodeFilter): VirtualServer[] {
  if (filter.groups.length === 0) return ipvs.virtualServers;
  return ipvs.virtualServers.filter((vs) =>
    filter.groups.every((group) =>
      group.some((c) => {
        if (c.kind === 'ip') return canonicalIP(vs.address || '0.0.0.0') === c.ip || vs.realServers.some((r) => canonicalIP(r.address) === c.ip);
        if (c.kind === 'port') return vs.port === c.port || vs.realServers.some((r) => r.port === c.port);
        return false;
      }),
    ),
  );
}

/** A virtual server with no real server of weight > 0 refuses new connections (kube-proxy sets weight 0 on terminating endpoints). */
export function findEmptyVirtualServer(vs: VirtualServer): Finding[] {
  if (vs.realServers.some((r) => r.weight > 0)) return [];
  const name = vs.protocol === 'FWM' ? `FWM ${vs.fwmark ?? 0}` : `${vs.protocol} ${vs.address}:${vs.port}`;
  return [
    {
      code: 'ipvs-no-real-servers',
      severity: 'warning',
      message: `virtual server ${name} has ${vs.realServers.length === 0 ? 'no real servers' : 'only real servers of weight 0 (terminating)'}: new connections to it are refused`,
      hint: 'check the Service\'s endpoints: knet endpoints SERVICE',
      line: vs.line,
    },
  ];
}
