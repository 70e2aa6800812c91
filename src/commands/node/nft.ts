import { Args } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../../cli/base.js';
import { inputError, type ExitCode } from '../../model/errors.js';
import { clusterFlags } from '../../cli/flags.js';
import { NftParseError, parseNftRuleset } from '../../netfilter/nft/index.js';
import { viewNft } from '../../netfilter/nft/view.js';
import { renderNftNode, renderNodeReport, type NftNodeResult, type FailedNode, type NodeReport } from '../../render/node.js';
import { openCluster } from '../../sources/cluster.js';
import { filterFromFlags, nodeCommandFlags, nodeReportExitCode, presentEachNode } from '../../cli/node-read.js';
import { paragraphs } from '../../cli/prose.js';

export default class NodeNft extends KnetCommand<typeof NodeNft, NodeReport<NftNodeResult>> {
  static override summary = "Show a node's nftables ruleset (kube-proxy's nftables mode), filtered by Service, IP or port";

  static override description = paragraphs(`Reads nodes/NODE/nft-ruleset.json (\`nft -j list ruleset\`) or nodes/NODE/nft-ruleset.txt
(\`nft list ruleset\`) and shows tables, base chains with their hooks and priorities, rules with line
numbers, and sets and maps with their elements. With --service, the chains kube-proxy named after the
Service (service-…, endpoint-…, external-…, firewall-…) and the set elements that send traffic to them.`);

  static override examples = [
    { description: 'What kube-proxy programmed for one Service', command: '<%= config.bin %> node nft kind-worker --service default/xecho --snapshot DIR' },
    { description: 'Every map element for a ClusterIP', command: '<%= config.bin %> node nft kind-worker --ip 10.96.0.10 --snapshot DIR' },
  ];

  static override args = { node: Args.string({ description: 'The node (a directory under nodes/ in the snapshot)', required: false }) };
  static override flags = { ...clusterFlags, ...nodeCommandFlags };

  protected async execute(): Promise<NodeReport<NftNodeResult>> {
    const { flags } = this;
    // A node's rules and flows are for the Services of every namespace: read them all, live as in a snapshot.
    const opened = await openCluster({ ...flags, allNamespaces: true });
    const filter = filterFromFlags(opened, flags);
    const failed: FailedNode[] | undefined = flags['all-nodes'] ? [] : undefined;
    const nodes: NftNodeResult[] = await presentEachNode(opened, { node: this.args.node, isAllNodes: flags['all-nodes'], isRaw: flags.raw, command: 'nft', concurrency: flags.concurrency, ...(failed ? { failed } : {}) }, ['nft-ruleset-json', 'nft-ruleset'], (text, source, node) => {
      let ruleset;
      try {
        ruleset = parseNftRuleset(text, { mode: 'lenient' });
      } catch (err) {
        if (!(err instanceof NftParseError)) throw err;
        throw inputError(`${source}: ${err.message}`, 'nft-malformed', ['Capture it again with `nft -j list ruleset` (or `nft list ruleset`) on the node.']);
      }
      const view = viewNft(ruleset, filter);
      return { node, source, format: ruleset.format, ...view, findings: view.findings };
    });
    return { kind: 'nft', ...(filter.description ? { filter: filter.description } : {}), nodes, ...(failed ? { failedNodes: failed } : {}) };
  }

  protected renderText(result: NodeReport<NftNodeResult>, ctx: RenderContext): string {
    return renderNodeReport(result, ctx.style, (r) => renderNftNode(r, ctx.style, result.filter, ctx.isWide));
  }

  protected override exitCodeOf(result: NodeReport<NftNodeResult>): ExitCode {
    return nodeReportExitCode(result);
  }
}
