import { Args, Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../../cli/base.js';
import type { ExitCode } from '../../model/errors.js';
import { clusterFlags } from '../../cli/flags.js';
import { buildServiceEndpointIndex, scanConntrack, type ConntrackFilter } from '../../netfilter/conntrack/index.js';
import { renderConntrackNode, renderNodeReport, type ConntrackNodeResult, type FailedNode, type NodeReport } from '../../render/node.js';
import { openCluster } from '../../sources/cluster.js';
import { filterFromFlags, forEachNode, nodeCommandFlags, nodeReportExitCode, readNodeLines, readNodeText, selectNodes } from '../../cli/node-read.js';
import { paragraphs } from '../../cli/prose.js';

export default class NodeConntrack extends KnetCommand<typeof NodeConntrack, NodeReport<ConntrackNodeResult>> {
  static override summary = "Show a node's conntrack entries, and find flows stuck on endpoints that are gone";

  static override description = paragraphs(`Streams nodes/NODE/conntrack.txt (\`conntrack -L\`, or a copy of /proc/net/nf_conntrack) and keeps
the entries that match --ip (any address of the original or reply direction), --port, --protocol and
--state. An entry whose reply comes from another address than the original destination was DNATed
(a Service): when that address is no longer an endpoint of the Service in the snapshot, the entry is
stale, and for UDP (DNS above all) its datagrams are black-holed until the entry expires — an error
finding with the \`conntrack -D\` command that clears it. Exit 1 when there is such an error.`);

  static override examples = [
    { description: 'Flows to kube-dns, and stale ones', command: '<%= config.bin %> node conntrack kind-worker --service kube-system/kube-dns --snapshot examples/demo' },
    { description: 'Everything one pod talks to', command: '<%= config.bin %> node conntrack kind-worker --ip 10.244.1.5 --snapshot examples/demo' },
    { description: 'UDP entries still waiting for an answer', command: '<%= config.bin %> node conntrack kind-worker --protocol udp --state UNREPLIED --snapshot examples/demo' },
  ];

  static override args = { node: Args.string({ description: 'The node (a directory under nodes/ in the snapshot)', required: false }) };
  static override flags = {
    ...clusterFlags,
    ...nodeCommandFlags,
    protocol: Flags.string({ description: 'Only this protocol (tcp, udp, sctp, icmp…).' }),
    state: Flags.string({ description: 'Only this state (ESTABLISHED, TIME_WAIT…) or flag (UNREPLIED, ASSURED).' }),
    dnat: Flags.boolean({ description: 'Only DNATed entries (connections to a Service).' }),
    limit: Flags.integer({ description: 'At most this many entries in the output (all are counted).', default: 1000, min: 0 }),
  };

  protected async execute(): Promise<NodeReport<ConntrackNodeResult>> {
    const { flags } = this;
    // A node's rules and flows are for the Services of every namespace: read them all, live as in a snapshot.
    const opened = await openCluster({ ...flags, allNamespaces: true });
    const nodeFilter = filterFromFlags(opened, flags);
    const filter: ConntrackFilter = {};
    const ips = nodeFilter.service ? [...nodeFilter.service.frontendIPs, ...nodeFilter.service.endpointIPs] : [];
    if (flags.ip !== undefined) ips.push(flags.ip);
    if (ips.length) filter.ips = ips;
    if (flags.port !== undefined) filter.ports = [flags.port];
    if (flags.protocol !== undefined) filter.protocol = flags.protocol;
    if (flags.state !== undefined) filter.state = flags.state;
    if (flags.dnat) filter.isDnatOnly = true;
    const selected = await selectNodes(opened, this.args.node, flags['all-nodes'], 'conntrack', ['conntrack']);
    const failed: FailedNode[] | undefined = flags['all-nodes'] ? [] : undefined;
    const nodes: ConntrackNodeResult[] = await forEachNode(selected, flags.concurrency, async (node): Promise<ConntrackNodeResult> => {
      if (flags.raw) {
        const { text, source } = await readNodeText(opened, node, ['conntrack']);
        return { node, source, raw: text, findings: [] };
      }
      // Without Services there is nothing to be stale against; NodePorts are frontends on this node's own addresses.
      const nodeIPs = opened.cluster.nodes.find((n) => n.metadata.name === node)?.status?.addresses?.filter((a) => a.type.endsWith('IP')).map((a) => a.address) ?? [];
      const services = opened.cluster.services.length ? buildServiceEndpointIndex(opened.cluster, nodeIPs) : undefined;
      const { lines, source } = await readNodeLines(opened, node, 'conntrack');
      const scan = await scanConntrack(lines, { filter, limit: flags.limit, ...(services ? { services } : {}) });
      return { node, source, lines: scan.lines, matched: scan.matched, dnatMatched: scan.dnatMatched, isTruncated: scan.isTruncated, entries: scan.entries, findings: scan.findings };
    }, failed);
    return { kind: 'conntrack', ...(nodeFilter.description ? { filter: nodeFilter.description } : {}), nodes, ...(failed ? { failedNodes: failed } : {}) };
  }

  protected renderText(result: NodeReport<ConntrackNodeResult>, ctx: RenderContext): string {
    return renderNodeReport(result, ctx.style, (r) => renderConntrackNode(r, ctx.style, result.filter, ctx.isWide));
  }

  protected override exitCodeOf(result: NodeReport<ConntrackNodeResult>): ExitCode {
    return nodeReportExitCode(result);
  }
}
