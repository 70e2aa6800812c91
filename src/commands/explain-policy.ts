import { Args, Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../cli/base.js';
import { EXIT, closest, inputError, type ExitCode } from '../model/errors.js';
import { allNamespacesFlag, clusterFlags } from '../cli/flags.js';
import { connectionPort, parseRef, type Ref } from '../cli/refs.js';
import { resolveNode, resolvePod, resolveService } from '../cli/resolve.js';
import type { Cluster } from '../model/cluster.js';
import type { LabelSelector, Protocol } from '../model/k8s.js';
import { canonicalIP } from '../model/ip.js';
import { stripControlDeep } from '../model/text.js';
import { podPorts } from '../model/pod.js';
import { buildPolicyEngine, evaluateConnection, type ConnectionEnd } from '../policy/evaluate.js';
import { evaluatePolicyFindings } from '../policy/findings.js';
import { computeMatrix, matrixCells, selectMatrixPods } from '../policy/matrix.js';
import { parseLabelSelector } from '../policy/selector.js';
import type { PolicyVerdict } from '../policy/types.js';
import { renderPolicyDot } from '../render/dot.js';
import { renderYaml } from '../render/document.js';
import { renderPolicyMatrix, renderPolicyMatrixJsonBytes, renderPolicyMatrixYaml, renderPolicyVerdict, type PolicyMatrixReport } from '../render/policy.js';
import { openCluster } from '../sources/cluster.js';
import { paragraphs } from '../cli/prose.js';

type Result = PolicyVerdict | PolicyMatrixReport;

const isMatrix = (r: Result): r is PolicyMatrixReport => 'allowed' in r && Array.isArray(r.allowed);

export default class ExplainPolicy extends KnetCommand<typeof ExplainPolicy, Result> {
  static override summary = 'Say whether NetworkPolicies allow a connection, and why; or show who can reach whom';

  static override description = paragraphs(`Evaluates networking.k8s.io/v1 NetworkPolicies (and AdminNetworkPolicy / BaselineAdminNetworkPolicy
when the cluster has them) for one connection: the source's egress and the destination's ingress, the
policies that select each side, the rule, peer and port that matched or why none did, and when denied the
nearest rule that would have allowed it. A Service destination is evaluated on each endpoint pod at its
own target port. With --matrix, every pair of pods in scope. Exit 1 when the connection is denied.`);

  static override examples = [
    { description: 'Why can the frontend reach the backend?', command: '<%= config.bin %> explain-policy --snapshot examples/demo shop/frontend shop/backend --port 8080' },
    { description: 'Why can it not reach the database, and what would fix it?', command: '<%= config.bin %> explain-policy --snapshot examples/demo shop/frontend shop/db --port 5432' },
    { description: 'Through a Service, each endpoint pod on its own target port', command: '<%= config.bin %> explain-policy --snapshot examples/demo shop/frontend svc/shop/backend --port 80' },
    { description: 'Who can reach whom in a namespace', command: '<%= config.bin %> explain-policy --snapshot examples/demo --matrix -n shop --port 8080 --port 5432' },
    { description: 'A picture of it', command: '<%= config.bin %> explain-policy --snapshot examples/demo --matrix -n shop --port 8080 -o dot | dot -Tsvg > shop.svg' },
  ];

  static override args = {
    src: Args.string({ description: 'Source: pod/NAME, NS/NAME, NAME, node/NAME or an IP', required: false }),
    dst: Args.string({ description: 'Destination: pod/NAME, NS/NAME, NAME, svc/NAME, svc/NS/NAME, node/NAME, IP or IP:PORT', required: false }),
  };

  static override flags = {
    ...clusterFlags,
    ...allNamespacesFlag,
    // The base -o with `dot` added: a picture of the matrix.
    output: Flags.option({ char: 'o', options: ['table', 'wide', 'json', 'yaml', 'dot'] as const, description: 'Output format (dot: Graphviz, with --matrix).', helpGroup: 'OUTPUT' })(),
    port: Flags.integer({ char: 'p', description: 'Destination port (repeatable with --matrix).', multiple: true, min: 1, max: 65535 }),
    protocol: Flags.option({ options: ['TCP', 'UDP', 'SCTP', 'tcp', 'udp', 'sctp'] as const, default: 'TCP', description: 'Protocol of the connection.' })(),
    matrix: Flags.boolean({ description: 'Evaluate every pair of pods in scope (-n, -A, --selector) instead of one connection.' }),
    selector: Flags.string({ char: 'l', description: 'With --matrix: only pods matching this label selector (kubectl syntax).' }),
  };

  // Policies are read cluster-wide (live, that is a cluster-wide list): a peer's namespaceSelector and the
  // pods it picks may be anywhere, and the verdict must not depend on how much a source happened to read.
  // -n and -A only choose which pods a matrix shows.
  protected async execute(): Promise<Result> {
    const { flags, args } = this;
    const protocol = flags.protocol.toUpperCase() as Protocol;
    if (flags.output === 'dot' && !flags.matrix) {
      throw inputError('-o dot draws the reachability matrix', 'conflicting-flags', ['Add --matrix, or use -o table|wide|json|yaml for one connection.']);
    }
    if (flags.matrix) {
      if (args.src !== undefined) throw inputError('--matrix takes no SRC or DST', 'conflicting-flags', ['Scope it with -n, -A or --selector instead.']);
      const opened = await openCluster({ ...flags, allNamespaces: true });
      return this.matrix(opened.cluster, flags.namespace ?? opened.namespace, protocol);
    }
    if (args.src === undefined || args.dst === undefined) {
      throw inputError('explain-policy needs SRC and DST, or --matrix', 'missing-argument', [
        `For example: ${this.config.bin} explain-policy shop/frontend shop/backend --port 8080`,
        `Or: ${this.config.bin} explain-policy --matrix -n shop --port 8080`,
      ]);
    }
    if (flags.selector !== undefined) throw inputError('--selector applies to --matrix only', 'conflicting-flags');
    const srcRef = parseRef(args.src, { what: 'SRC' });
    const dstRef = parseRef(args.dst, { what: 'DST' });
    if (srcRef.kind === 'service') {
      throw inputError(`SRC "${args.src}" is a Service: traffic leaves from a pod, never from a Service`, 'bad-reference', ['Name one of its pods as SRC.']);
    }
    if ((flags.port?.length ?? 0) > 1) throw inputError('one connection takes one --port', 'conflicting-flags', ['Use --matrix to evaluate several ports.']);
    const given = connectionPort(args.dst, dstRef, flags.port?.[0]);
    const opened = await openCluster({ ...flags, allNamespaces: true });
    const namespace = flags.namespace ?? opened.namespace;
    const cluster = opened.cluster;
    const source = this.resolveEnd(cluster, srcRef, namespace, false);
    const destination = this.resolveEnd(cluster, dstRef, namespace, true);
    const port = given ?? this.defaultPort(destination, args.dst);
    const verdict = evaluateConnection(cluster, { source, destination, port, protocol });
    const namespaces = [source, destination].flatMap((e) =>
      e.kind === 'pod' ? [e.pod.metadata.namespace ?? 'default'] : e.kind === 'service' ? [e.service.metadata.namespace ?? 'default'] : [],
    );
    const findings = evaluatePolicyFindings(cluster, { namespaces: [...new Set(namespaces)] });
    return { ...verdict, findings };
  }

  private matrix(cluster: Cluster, namespace: string, protocol: Protocol): PolicyMatrixReport {
    const { flags } = this;
    let selector: LabelSelector | undefined;
    if (flags.selector !== undefined) {
      const parsed = parseLabelSelector(flags.selector);
      if (!parsed.ok) throw inputError(`--selector ${flags.selector}: ${parsed.problem}`, 'bad-selector', ['Use kubectl syntax: app=web,tier!=db,env in (a,b),!legacy']);
      selector = parsed.selector;
    }
    if (!flags.port?.length) throw inputError('--matrix needs at least one --port', 'missing-port', ['For example: --port 80 (repeat --port for more).']);
    const all = flags['all-namespaces'];
    if (!all && !cluster.namespaces.some((n) => n.metadata.name === namespace) && !cluster.pods.some((p) => p.metadata.namespace === namespace)) {
      const near = closest(namespace, cluster.namespaces.map((n) => n.metadata.name));
      throw inputError(`namespace "${namespace}" not found`, 'namespace-not-found', near.length ? [`Did you mean -n ${near.join(', -n ')}?`] : ['Use -A for all namespaces.']);
    }
    const pods = selectMatrixPods(cluster, { ...(all ? {} : { namespace }), ...(selector ? { selector } : {}) });
    const engine = buildPolicyEngine(cluster);
    const m = computeMatrix(cluster, { pods, ports: flags.port.map((port) => ({ port, protocol })) }, { engine });
    const findings = evaluatePolicyFindings(cluster, all ? {} : { namespaces: [namespace] });
    return { ...m, findings, toJSON: () => ({ pods: m.pods, ports: m.ports, cells: matrixCells(m), findings }) };
  }

  private resolveEnd(cluster: Cluster, ref: Ref, namespace: string, isDestination: boolean): ConnectionEnd {
    switch (ref.kind) {
      case 'pod':
        return { kind: 'pod', pod: resolvePod(cluster, ref, namespace) };
      case 'service':
        return { kind: 'service', service: resolveService(cluster, ref, namespace) };
      case 'node':
        return { kind: 'node', name: resolveNode(cluster, ref.name).metadata.name };
      case 'ip': {
        // A Service's cluster IP as DST is the Service: evaluate its endpoints, as the packet is DNATed to one.
        const ip = canonicalIP(ref.ip);
        if (!isDestination) return { kind: 'ip', ip: ref.ip };
        const service = cluster.services.find((s) => [s.spec?.clusterIP, ...(s.spec?.clusterIPs ?? [])].some((c) => c && c !== 'None' && canonicalIP(c) === ip));
        return service ? { kind: 'service', service } : { kind: 'ip', ip: ref.ip };
      }
      case 'dns':
        throw inputError(`"${ref.name}" is a DNS name; explain-policy needs a pod, Service, node or IP`, 'bad-reference', ['Resolve it first, e.g. with knet dns NAME.']);
    }
  }

  /** No --port: a Service with one port, or a pod that declares exactly one, is unambiguous. */
  private defaultPort(end: ConnectionEnd, text: string): number {
    const ports = end.kind === 'service' ? (end.service.spec?.ports ?? []).map((p) => p.port) : end.kind === 'pod' ? podPorts(end.pod).map((p) => p.containerPort) : [];
    const unique = [...new Set(ports)];
    if (unique.length === 1) return unique[0]!;
    throw inputError(`which port of ${text}? Give --port`, 'missing-port', unique.length ? [`${text} has ports ${unique.join(', ')}.`] : ['For example: --port 80.']);
  }

  /** A matrix as JSON or YAML can hold a million cells: written in chunks rather than as one string. */
  public override async run(): Promise<Result> {
    const format = this.format;
    if (!this.flags.matrix || (format !== 'json' && format !== 'yaml')) return super.run();
    const result = await this.execute();
    if (!isMatrix(result)) return result;
    const chunks = format === 'json' ? renderPolicyMatrixJsonBytes(result) : renderPolicyMatrixYaml(result);
    // A pod name the YAML layout leaves to the yaml package: the whole document is the package's.
    if (chunks === null) process.stdout.write(`${renderYaml(stripControlDeep(result))}\n`);
    else for (const chunk of chunks) process.stdout.write(chunk);
    this.setExitCode(result);
    return result;
  }

  protected renderText(result: Result, ctx: RenderContext): string {
    if (isMatrix(result)) return this.flags.output === 'dot' ? renderPolicyDot(result) : renderPolicyMatrix(result, ctx.style);
    return renderPolicyVerdict(result, ctx.style, ctx.isWide);
  }

  protected override exitCodeOf(result: Result): ExitCode {
    if (isMatrix(result)) return EXIT.ok;
    return result.allowed ? EXIT.ok : EXIT.problem;
  }
}
