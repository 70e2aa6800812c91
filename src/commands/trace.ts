import { Args, Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../cli/base.js';
import { clusterFlags } from '../cli/flags.js';
import { runTrace } from '../cli/trace-run.js';
import { EXIT, type ExitCode } from '../model/errors.js';
import { renderTraceDot, renderTraceMermaid, renderTraceText } from '../render/trace.js';
import type { TraceReport } from '../trace/types.js';

export default class Trace extends KnetCommand<typeof Trace, TraceReport> {
  static override summary = 'Walk one connection hop by hop and name the first hop where it stops';

  static override description = `Follows the connection the way the packet goes: resolve (the reference, or a DNS name as the source
pod would resolve it), service (port, targetPort, type), endpoints (what kube-proxy may pick), policy-egress
(the source's NetworkPolicies), node-rules (kube-proxy's iptables, nftables or IPVS rules on the source's
node, simulated), route (to the endpoint's node), policy-ingress (the endpoint's NetworkPolicies, at its
target port), conntrack (entries that would capture the flow). A Service with several endpoints branches:
each endpoint is judged on its own, weighted by kube-proxy's probability. A hop whose state was not read is
skipped and says what would fill it. Exit 0 when delivered, 1 when dropped, rejected or undecided.`;

  static override examples = [
    { description: 'Why does pod-a not reach the xecho Service?', command: '<%= config.bin %> trace pod-a svc/xecho --snapshot examples/demo' },
    { description: 'With every hop\'s evidence (rules, lines, policies)', command: '<%= config.bin %> trace shop/frontend svc/shop/backend --port 8080 -o wide --snapshot examples/demo' },
    { description: 'A picture of the path', command: '<%= config.bin %> trace pod-a svc/xecho --snapshot examples/demo -o dot | dot -Tsvg > path.svg' },
  ];

  static override args = {
    src: Args.string({ description: 'Source: pod/NAME, NS/NAME, NAME, node/NAME or an IP', required: true }),
    dst: Args.string({ description: 'Destination: svc/NAME, svc/NS/NAME, svc/NAME.NS, a pod, node/NAME, IP, IP:PORT or a DNS name', required: true }),
  };

  static override flags = {
    ...clusterFlags,
    output: Flags.option({ char: 'o', options: ['table', 'wide', 'json', 'yaml', 'dot', 'mermaid'] as const, description: 'Output format (dot: Graphviz; mermaid: a Mermaid flowchart).', helpGroup: 'OUTPUT' })(),
    port: Flags.integer({ char: 'p', description: 'Destination port: a Service port, a NodePort (with node/NAME) or a pod port (default: the Service\'s only port).', min: 1, max: 65535 }),
    protocol: Flags.option({ options: ['TCP', 'UDP', 'SCTP', 'tcp', 'udp', 'sctp'] as const, default: 'TCP', description: 'Protocol of the connection.' })(),
  };

  protected async execute(): Promise<TraceReport> {
    const { flags, args } = this;
    return runTrace(flags, { src: args.src, dst: args.dst, ...(flags.port !== undefined ? { port: flags.port } : {}), protocol: flags.protocol });
  }

  protected renderText(result: TraceReport, ctx: RenderContext): string {
    if (this.flags.output === 'dot') return renderTraceDot(result);
    if (this.flags.output === 'mermaid') return renderTraceMermaid(result);
    return renderTraceText(result, ctx.style, ctx.isWide);
  }

  protected override exitCodeOf(result: TraceReport): ExitCode {
    return result.verdict === 'delivered' ? EXIT.ok : EXIT.problem;
  }
}
