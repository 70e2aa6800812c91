import { Args } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../../cli/base.js';
import { inputError, type ExitCode } from '../../model/errors.js';
import { clusterFlags } from '../../cli/flags.js';
import { parseIpAddr, parseIpRoute, viewRoutes } from '../../netfilter/routes/index.js';
import { renderNodeReport, renderRoutesNode, type FailedNode, type NodeReport, type RoutesNodeResult } from '../../render/node.js';
import { openCluster } from '../../sources/cluster.js';
import { captureHint, filterFromFlags, forEachNode, nodeCommandFlags, nodeReportExitCode, selectNodes } from '../../cli/node-read.js';
import { paragraphs } from '../../cli/prose.js';

export default class NodeRoutes extends KnetCommand<typeof NodeRoutes, NodeReport<RoutesNodeResult>> {
  static override summary = "Show a node's routes and addresses, and where it sends a given IP";

  static override description = paragraphs(`Reads nodes/NODE/ip-route.txt (\`ip route\`, \`ip -6 route\` or \`ip route show table all\`) and
nodes/NODE/ip-addr.txt (\`ip addr\` or \`ip -o addr\`). With --ip (or --service: its endpoints), says which
route the node would use for that address (longest prefix), or that the address is the node's own.`);

  static override examples = [
    { description: 'Where the node sends a pod IP', command: '<%= config.bin %> node routes kind-worker --ip 10.244.0.2 --snapshot examples/demo' },
  ];

  static override args = { node: Args.string({ description: 'The node (a directory under nodes/ in the snapshot)', required: false }) };
  static override flags = { ...clusterFlags, ...nodeCommandFlags };

  protected async execute(): Promise<NodeReport<RoutesNodeResult>> {
    const { flags } = this;
    // A node's rules and flows are for the Services of every namespace: read them all, live as in a snapshot.
    const opened = await openCluster({ ...flags, allNamespaces: true });
    const filter = filterFromFlags(opened, flags);
    const targets = [...(filter.service?.endpointIPs ?? []), ...(flags.ip !== undefined ? [flags.ip] : [])];
    const selected = await selectNodes(opened, this.args.node, flags['all-nodes'], 'routes', ['ip-route', 'ip-addr']);
    const failed: FailedNode[] | undefined = flags['all-nodes'] ? [] : undefined;
    const nodes: RoutesNodeResult[] = await forEachNode(selected, flags.concurrency, async (node): Promise<RoutesNodeResult> => {
      const routeText = await opened.nodeState.read(node, 'ip-route');
      const addrText = await opened.nodeState.read(node, 'ip-addr');
      if (routeText === null && addrText === null) {
        throw inputError(`node ${node} has neither ip-route.txt nor ip-addr.txt in ${opened.origin}`, 'node-state-missing', [captureHint(node, 'ip-route'), captureHint(node, 'ip-addr')]);
      }
      const source = [routeText !== null ? opened.nodeState.describe(node, 'ip-route') : null, addrText !== null ? opened.nodeState.describe(node, 'ip-addr') : null].filter(Boolean).join(', ');
      if (flags.raw) return { node, source, raw: `${routeText ?? ''}${addrText ?? ''}`, findings: [] };
      const r = routeText === null ? null : parseIpRoute(routeText);
      const a = addrText === null ? null : parseIpAddr(addrText);
      return { node, source, findings: [...(r?.findings ?? []), ...(a?.findings ?? [])], ...viewRoutes(r, a, targets, filter.groups.length > 0) };
    }, failed);
    return { kind: 'routes', ...(filter.description ? { filter: filter.description } : {}), nodes, ...(failed ? { failedNodes: failed } : {}) };
  }

  protected renderText(result: NodeReport<RoutesNodeResult>, ctx: RenderContext): string {
    return renderNodeReport(result, ctx.style, (r) => renderRoutesNode(r, ctx.style, result.filter));
  }

  protected override exitCodeOf(result: NodeReport<RoutesNodeResult>): ExitCode {
    return nodeReportExitCode(result);
  }
}
