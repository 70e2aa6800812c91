import { Args, Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../../cli/base.js';
import { clusterFlags, debugPodFlags } from '../../cli/flags.js';
import { readKubeProxyState } from '../../cli/kube-proxy-state.js';
import { selectNodes } from '../../cli/node-read.js';
import { parseServiceRef } from '../../cli/refs.js';
import { resolveService } from '../../cli/resolve.js';
import { EXIT, type ExitCode } from '../../model/errors.js';
import { hasErrors } from '../../model/finding.js';
import { diffRules } from '../../netfilter/rules-diff/index.js';
import { renderRulesDiff, type RulesDiffResult } from '../../render/rules-diff.js';
import { openCluster } from '../../sources/cluster.js';
import { paragraphs } from '../../cli/prose.js';

export default class RulesDiff extends KnetCommand<typeof RulesDiff, RulesDiffResult> {
  static override summary = 'Compare what kube-proxy programmed on a node with the Services and EndpointSlices of the API';

  static override description = paragraphs(`Reads kube-proxy's rules on the node (iptables, nftables or IPVS mode, from kube-proxy's configuration,
else from the node state there is) and compares each Service port with what kube-proxy programs for the
API's objects: its ClusterIPs, external and load-balancer IPs and NodePort, the endpoints of its chains
(ready ones; serving-and-terminating ones when none is ready; this node's for traffic policy Local) with the
probability each is picked, the REJECT/DROP rules of ports without endpoints, ClientIP session affinity and
its timeout, and the load-balancer firewall of loadBalancerSourceRanges. Headless and ExternalName
Services need no rules. Exit 0 when the node is in sync (warnings allowed), 1 on any error finding.`);

  static override examples = [
    { description: 'Every Service port on one node', command: '<%= config.bin %> rules diff kind-worker --snapshot examples/demo' },
    { description: 'One Service, live', command: '<%= config.bin %> rules diff kind-worker kube-system/kube-dns' },
  ];

  static override args = {
    node: Args.string({ description: 'The node whose rules to compare', required: true }),
    service: Args.string({ description: 'Only this Service (NS/NAME, svc/NAME or NAME with -n)', required: false }),
  };

  static override flags = {
    ...clusterFlags,
    ...debugPodFlags,
    mode: Flags.option({ description: "kube-proxy's mode (default: from its configuration, else from the node state present).", options: ['iptables', 'nftables', 'ipvs'] as const })(),
  };

  protected async execute(): Promise<RulesDiffResult> {
    const { args, flags } = this;
    // kube-proxy programs the Services of every namespace: read them all, live as in a snapshot.
    const opened = await openCluster({ ...flags, allNamespaces: true });
    const [node] = await selectNodes(opened, args.node, false, 'rules diff');
    let service: { namespace: string; name: string } | undefined;
    let notFound: Error | undefined;
    if (args.service !== undefined) {
      const ref = parseServiceRef(args.service);
      service = { namespace: ref.namespace ?? opened.namespace, name: ref.name };
      try {
        resolveService(opened.cluster, ref, opened.namespace);
      } catch (err) {
        // A Service deleted from the API may still have rules: that is what the diff reports.
        if (!(err instanceof Error)) throw err;
        notFound = err;
      }
    }
    const loaded = await readKubeProxyState(opened, node!, flags.mode);
    const report = diffRules({ cluster: opened.cluster, node: node!, state: loaded.state, ...(service ? { service } : {}) });
    if (notFound !== undefined && report.services.length === 0) throw notFound;
    return { ...report, findings: [...loaded.findings, ...report.findings], sources: loaded.sources };
  }

  protected renderText(result: RulesDiffResult, ctx: RenderContext): string {
    return renderRulesDiff(result, ctx.style, ctx.isWide);
  }

  protected override exitCodeOf(result: RulesDiffResult): ExitCode {
    return hasErrors(result.findings) ? EXIT.problem : EXIT.ok;
  }
}
