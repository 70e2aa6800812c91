import { Args, Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../cli/base.js';
import { clusterFlags, debugPodFlags, dnsServerFlag } from '../cli/flags.js';
import { runTrace } from '../cli/trace-run.js';
import { EXIT, inputError, type ExitCode } from '../model/errors.js';
import { renderTraceDot, renderTraceMermaid, renderTraceText } from '../render/trace.js';
import type { TraceReport } from '../trace/types.js';
import { paragraphs } from '../cli/prose.js';

export default class Trace extends KnetCommand<typeof Trace, TraceReport> {
  static override summary = 'Walk one connection hop by hop and name the first hop where it stops';

  static override description = paragraphs(`Follows the connection the way the packet goes: resolve (the reference, or a DNS name as the source
pod would resolve it), service (port, targetPort, type), endpoints (what kube-proxy may pick), policy-egress
(the source's NetworkPolicies), node-rules (kube-proxy's iptables, nftables or IPVS rules on the source's
node, simulated), route (to the endpoint's node), policy-ingress (the endpoint's NetworkPolicies, at its
target port), conntrack (entries that would capture the flow). A Service with several endpoints branches:
each endpoint is judged on its own, weighted by kube-proxy's probability. A hop whose state was not read is
skipped and says what would fill it. Exit 0 when delivered, 1 when dropped, rejected or undecided.

A DNS name as DST is asked of real DNS servers as the source pod's resolver would ask (live: each ready
kube-dns pod through a port-forward; or each --server), and each answer is compared with the records the
API implies: the resolve hop shows both and fails (dns-record-missing, dns-record-stale, ...) when they
differ. On a snapshot without --server, the name is judged from the API's records alone.

--probe (live only) also makes a real TCP connection attempt from inside the source pod, to the address
the client dials and to each endpoint, and compares what happened with the trace: the probe hop fails
with trace-probe-disagrees when reality contradicts the simulation (a CNI's own policy, a node firewall,
an application that does not listen). knet adds an ephemeral container named knet-probe-<random> to the
source pod for it (it needs RBAC patch pods/ephemeralcontainers and create pods/exec): only a container
of the pod shares its network namespace, address and NetworkPolicy identity. Ephemeral containers cannot
be removed from a pod: it exits once the attempts are made, and stays listed in the pod's spec.`);

  static override examples = [
    { description: 'Why does pod-a not reach the xecho Service?', command: '<%= config.bin %> trace pod-a svc/xecho --snapshot examples/demo' },
    { description: 'With every hop\'s evidence (rules, lines, policies)', command: '<%= config.bin %> trace shop/frontend svc/shop/backend --port 8080 -o wide --snapshot examples/demo' },
    { description: 'The same, live, with a real connection attempt from pod-a compared with the judgement', command: '<%= config.bin %> trace pod-a svc/xecho --probe' },
    { description: 'A DNS name, asked of a DNS server that serves the snapshot\'s records (knet dns --zones)', command: '<%= config.bin %> trace shop/frontend backend.shop --snapshot examples/demo --server 127.0.0.1:5353' },
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
    ...dnsServerFlag,
    probe: Flags.boolean({ description: 'Also connect for real from inside the source pod (live only; an ephemeral container, which cannot be removed afterwards) and compare with the trace.', helpGroup: 'PROBE' }),
    'probe-timeout': Flags.string({ default: '3s', description: 'With --probe: how long one connect may take before it counts as dropped (e.g. 3s).', helpGroup: 'PROBE' }),
    image: debugPodFlags.image,
    'pod-timeout': debugPodFlags['pod-timeout'],
    'exec-timeout': debugPodFlags['exec-timeout'],
  };

  protected async execute(): Promise<TraceReport> {
    const { flags, args } = this;
    const probe = flags.probe ? { connectTimeoutSeconds: probeSeconds(flags['probe-timeout']) } : undefined;
    return runTrace(flags, { src: args.src, dst: args.dst, ...(flags.port !== undefined ? { port: flags.port } : {}), protocol: flags.protocol, ...(probe ? { probe } : {}), ...(flags.server ? { servers: flags.server } : {}) });
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

/** `--probe-timeout` in whole seconds, as timeout(1) in the probe container takes it. */
function probeSeconds(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000) : NaN;
  if (!(ms >= 1) || ms > 300_000) throw inputError(`--probe-timeout "${text}" is not a duration between 1s and 5m`, 'bad-duration', ['Give e.g. --probe-timeout 3s.']);
  return Math.max(1, Math.ceil(ms / 1000));
}
