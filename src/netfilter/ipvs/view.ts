// Virtual servers as `knet node ipvs` shows them: a virtual server is kept when it, or one of its
// real servers, matches the filter (a Service's VIPs, NodePorts and endpoints; an IP; a port).
import { canonicalIP } from '../../model/ip.js';
import type { NodeFilter } from '../node-filter.js';
import type { IpvsTable, VirtualServer } from './parse.js';

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
