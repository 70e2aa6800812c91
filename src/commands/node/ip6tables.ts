import NodeIptables from './iptables.js';
import { paragraphs } from '../../cli/prose.js';

export default class NodeIp6tables extends NodeIptables {
  static override summary = "Show a node's IPv6 iptables rules (ip6tables-save), filtered by Service, IP or port";

  static override description = paragraphs(`Reads nodes/NODE/ip6tables-save.txt of a snapshot (or ip6tables-nft-save.txt / ip6tables-legacy-save.txt),
as \`knet node iptables\` does for IPv4: dual-stack nodes keep their IPv6 Service rules there.`);

  static override examples = [
    { description: 'IPv6 rules of one Service', command: '<%= config.bin %> node ip6tables kind-worker --service default/xecho --snapshot DIR' },
  ];

  protected override family: 4 | 6 = 6;
}
