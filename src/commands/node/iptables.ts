import { Args } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../../cli/base.js';
import type { ExitCode } from '../../model/errors.js';
import { clusterFlags } from '../../cli/flags.js';
import { parseIptablesSave } from '../../netfilter/iptables/parse.js';
import { viewIptables } from '../../netfilter/node-filter.js';
import { renderIptablesNode, renderNodeReport, type IptablesNodeResult, type FailedNode, type NodeReport } from '../../render/node.js';
import { openCluster } from '../../sources/cluster.js';
import { filterFromFlags, nodeCommandFlags, nodeReportExitCode, presentEachNode } from '../../cli/node-read.js';
import { paragraphs } from '../../cli/prose.js';

export default class NodeIptables extends KnetCommand<typeof NodeIptables, NodeReport<IptablesNodeResult>> {
  static override summary = "Show a node's iptables rules (iptables-save), filtered by Service, IP or port";

  static override description = paragraphs(`Reads nodes/NODE/iptables-save.txt of a snapshot (or iptables-nft-save.txt / iptables-legacy-save.txt)
and shows its tables, chains and rules with their line numbers. With --service, only the rules that
mention the Service (its ClusterIP, external and load-balancer IPs, NodePorts, endpoints, or kube-proxy's
"ns/name:port" comments) are shown, together with the KUBE-SVC/SEP/EXT/FW chains they lead to.`);

  static override examples = [
    { description: "kube-dns's rules on one node", command: '<%= config.bin %> node iptables kind-worker --service kube-system/kube-dns --snapshot examples/demo' },
    { description: 'Rules that mention one IP, on every node', command: '<%= config.bin %> node iptables --all-nodes --ip 10.96.0.10 --snapshot examples/demo' },
    { description: 'The dump as captured', command: '<%= config.bin %> node iptables kind-worker --raw --snapshot examples/demo' },
  ];

  static override args = { node: Args.string({ description: 'The node (a directory under nodes/ in the snapshot)', required: false }) };
  static override flags = { ...clusterFlags, ...nodeCommandFlags };

  protected family: 4 | 6 = 4;

  protected async execute(): Promise<NodeReport<IptablesNodeResult>> {
    const { flags } = this;
    // A node's rules and flows are for the Services of every namespace: read them all, live as in a snapshot.
    const opened = await openCluster({ ...flags, allNamespaces: true });
    const filter = filterFromFlags(opened, flags);
    const kinds = this.family === 4 ? (['iptables-save', 'iptables-nft-save', 'iptables-legacy-save'] as const) : (['ip6tables-save', 'ip6tables-nft-save', 'ip6tables-legacy-save'] as const);
    const command = this.family === 4 ? 'iptables' : 'ip6tables';
    const failed: FailedNode[] | undefined = flags['all-nodes'] ? [] : undefined;
    const nodes: IptablesNodeResult[] = await presentEachNode(opened, { node: this.args.node, isAllNodes: flags['all-nodes'], isRaw: flags.raw, command: command, concurrency: flags.concurrency, ...(failed ? { failed } : {}) }, [...kinds], (text, source, node) => {
      const view = viewIptables(parseIptablesSave(text, { mode: 'lenient' }), filter);
      return { node, source, format: 'iptables' as const, ...view, findings: view.findings };
    });
    return { kind: command, ...(filter.description ? { filter: filter.description } : {}), nodes, ...(failed ? { failedNodes: failed } : {}) };
  }

  protected renderText(result: NodeReport<IptablesNodeResult>, ctx: RenderContext): string {
    return renderNodeReport(result, ctx.style, (r) => renderIptablesNode(r, ctx.style, result.filter));
  }

  protected override exitCodeOf(result: NodeReport<IptablesNodeResult>): ExitCode {
    return nodeReportExitCode(result);
  }
}
