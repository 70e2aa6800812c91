import { Args } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../../cli/base.js';
import type { ExitCode } from '../../model/errors.js';
import { clusterFlags } from '../../cli/flags.js';
import { parseIpset } from '../../netfilter/ipset/index.js';
import { viewIpset } from '../../netfilter/ipset/view.js';
import { renderIpsetNode, renderNodeReport, type IpsetNodeResult, type FailedNode, type NodeReport } from '../../render/node.js';
import { openCluster } from '../../sources/cluster.js';
import { filterFromFlags, nodeCommandFlags, nodeReportExitCode, presentEachNode } from '../../cli/node-read.js';
import { paragraphs } from '../../cli/prose.js';

export default class NodeIpset extends KnetCommand<typeof NodeIpset, NodeReport<IpsetNodeResult>> {
  static override summary = "Show a node's ipsets (kube-proxy's IPVS mode), filtered by Service, IP or port";

  static override description = paragraphs(`Reads nodes/NODE/ipset.txt (\`ipset list\` or \`ipset save\`) and shows each set with its type and
members: KUBE-CLUSTER-IP, KUBE-LOOP-BACK, KUBE-NODE-PORT-TCP and the others kube-proxy's IPVS mode
matches with \`-m set\`.`);

  static override examples = [
    { description: 'Where a ClusterIP appears', command: '<%= config.bin %> node ipset kind-worker --ip 10.96.0.10 --snapshot DIR' },
  ];

  static override args = { node: Args.string({ description: 'The node (a directory under nodes/ in the snapshot)', required: false }) };
  static override flags = { ...clusterFlags, ...nodeCommandFlags };

  protected async execute(): Promise<NodeReport<IpsetNodeResult>> {
    const { flags } = this;
    // A node's rules and flows are for the Services of every namespace: read them all, live as in a snapshot.
    const opened = await openCluster({ ...flags, allNamespaces: true });
    const filter = filterFromFlags(opened, flags);
    const failed: FailedNode[] | undefined = flags['all-nodes'] ? [] : undefined;
    const nodes: IpsetNodeResult[] = await presentEachNode(opened, { node: this.args.node, isAllNodes: flags['all-nodes'], isRaw: flags.raw, command: 'ipset', concurrency: flags.concurrency, ...(failed ? { failed } : {}) }, ['ipset'], (text, source, node) => {
      const parsed = parseIpset(text, { mode: 'lenient' });
      return { node, source, sets: viewIpset(parsed.sets, filter), findings: parsed.findings };
    });
    return { kind: 'ipset', ...(filter.description ? { filter: filter.description } : {}), nodes, ...(failed ? { failedNodes: failed } : {}) };
  }

  protected renderText(result: NodeReport<IpsetNodeResult>, ctx: RenderContext): string {
    return renderNodeReport(result, ctx.style, (r) => renderIpsetNode(r, ctx.style, result.filter, ctx.isWide));
  }

  protected override exitCodeOf(result: NodeReport<IpsetNodeResult>): ExitCode {
    return nodeReportExitCode(result);
  }
}
