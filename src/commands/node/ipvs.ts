import { Args } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../../cli/base.js';
import type { ExitCode } from '../../model/errors.js';
import { clusterFlags } from '../../cli/flags.js';
import { findEmptyVirtualServer, parseIpvsadm } from '../../netfilter/ipvs/index.js';
import { viewIpvs } from '../../netfilter/ipvs/view.js';
import { renderIpvsNode, renderNodeReport, type IpvsNodeResult, type FailedNode, type NodeReport } from '../../render/node.js';
import { openCluster } from '../../sources/cluster.js';
import { filterFromFlags, nodeCommandFlags, nodeReportExitCode, presentEachNode } from '../../cli/node-read.js';
import { paragraphs } from '../../cli/prose.js';

export default class NodeIpvs extends KnetCommand<typeof NodeIpvs, NodeReport<IpvsNodeResult>> {
  static override summary = "Show a node's IPVS virtual and real servers (kube-proxy's IPVS mode), filtered by Service, IP or port";

  static override description = paragraphs(`Reads nodes/NODE/ipvsadm.txt (\`ipvsadm -Ln\`, or \`ipvsadm -Sn\`) and shows every virtual server
with its scheduler, persistence (session affinity) and real servers with their weights. A virtual server
without real servers, or with only weight-0 (draining) ones, gets a finding: new connections to it fail.`);

  static override examples = [
    { description: "kube-dns's virtual servers", command: '<%= config.bin %> node ipvs kind-worker --service kube-system/kube-dns --snapshot DIR' },
  ];

  static override args = { node: Args.string({ description: 'The node (a directory under nodes/ in the snapshot)', required: false }) };
  static override flags = { ...clusterFlags, ...nodeCommandFlags };

  protected async execute(): Promise<NodeReport<IpvsNodeResult>> {
    const { flags } = this;
    // A node's rules and flows are for the Services of every namespace: read them all, live as in a snapshot.
    const opened = await openCluster({ ...flags, allNamespaces: true });
    const filter = filterFromFlags(opened, flags);
    const failed: FailedNode[] | undefined = flags['all-nodes'] ? [] : undefined;
    const nodes: IpvsNodeResult[] = await presentEachNode(opened, { node: this.args.node, isAllNodes: flags['all-nodes'], isRaw: flags.raw, command: 'ipvs', concurrency: flags.concurrency, ...(failed ? { failed } : {}) }, ['ipvsadm'], (text, source, node) => {
      const ipvs = parseIpvsadm(text, { mode: 'lenient' });
      const virtualServers = viewIpvs(ipvs, filter);
      return { node, source, virtualServerCount: ipvs.virtualServers.length, virtualServers, findings: [...ipvs.findings, ...virtualServers.flatMap(findEmptyVirtualServer)] };
    });
    return { kind: 'ipvs', ...(filter.description ? { filter: filter.description } : {}), nodes, ...(failed ? { failedNodes: failed } : {}) };
  }

  protected renderText(result: NodeReport<IpvsNodeResult>, ctx: RenderContext): string {
    return renderNodeReport(result, ctx.style, (r) => renderIpvsNode(r, ctx.style, result.filter));
  }

  protected override exitCodeOf(result: NodeReport<IpvsNodeResult>): ExitCode {
    return nodeReportExitCode(result);
  }
}
