// Sets as `knet node ipset` shows them: members that mention a Service's IPs or NodePorts, an IP, a port.
import { textMatches, type NodeFilter } from '../node-filter.js';
import type { Ipset } from './index.js';

export interface IpsetView {
  name: string;
  type: string;
  family: string;
  memberCount: number;
  members: string[];
}

export function viewIpset(sets: readonly Ipset[], filter: NodeFilter): IpsetView[] {
  const isAll = filter.groups.length === 0;
  const out: IpsetView[] = [];
  for (const s of sets) {
    // `10.96.0.10,udp:53` → words the filter understands: `10.96.0.10 udp 53`.
    const members = s.members.filter((m) => isAll || textMatches(filter, m.raw.replace(/[,:]/g, ' '))).map((m) => m.raw);
    if (!isAll && members.length === 0) continue;
    out.push({ name: s.name, type: s.type, family: s.family, memberCount: s.members.length, members });
  }
  return out;
}
