import { Args } from '@oclif/core';
import { KnetCommand, type RenderContext, type StreamedResult } from '../cli/base.js';
import { EXIT, inputError, type ExitCode } from '../model/errors.js';
import { allNamespacesFlag, clusterFlags } from '../cli/flags.js';
import { parseServiceRef } from '../cli/refs.js';
import { resolveService } from '../cli/resolve.js';
import { diffEndpoints, streamEndpoints, type EndpointsOptions, type EndpointsReport } from '../endpoints/diff.js';
import type { Cluster } from '../model/cluster.js';
import { renderEndpoints } from '../render/endpoints.js';
import { openCluster } from '../sources/cluster.js';
import { paragraphs } from '../cli/prose.js';

export default class Endpoints extends KnetCommand<typeof Endpoints, EndpointsReport> {
  static override summary = "Diff each Service's EndpointSlices and Endpoints against the ready pods its selector picks";

  static override description = paragraphs(`For every Service in scope, knet works out what the endpoint controllers should have written
(from the selector, pod readiness, named target ports, publishNotReadyAddresses) and compares it with the
EndpointSlices and the legacy Endpoints object, and with what kube-proxy will therefore do. Each finding
names the pod, IP and port and says what to do. Exit 1 when any finding is an error.`);

  static override examples = [
    { description: 'Check every Service in the demo snapshot', command: '<%= config.bin %> endpoints -A --snapshot examples/demo' },
    { description: 'One Service, with its endpoint IPs', command: '<%= config.bin %> endpoints svc/xecho -n default -o wide --snapshot examples/demo' },
    { description: 'In CI: fail the job on any error finding (exit 1), and keep the report', command: '<%= config.bin %> endpoints -A --json > endpoints.json' },
    { description: 'In CI, through jq: -e makes jq fail when nothing matches, pipefail keeps knet\'s own exit code', command: 'set -o pipefail; <%= config.bin %> endpoints -A --json | jq -e \'[.services[].findings[] | select(.code == "no-ready-endpoints")] | length == 0\'' },
  ];

  static override args = {
    service: Args.string({ description: 'A Service: NAME, svc/NAME, svc/NS/NAME or NAME.NS (default: every Service in scope)', required: false }),
  };

  static override flags = { ...clusterFlags, ...allNamespacesFlag };

  protected async execute(): Promise<EndpointsReport> {
    const { cluster, options } = await this.open();
    return diffEndpoints(cluster, options);
  }

  /** --json and -o yaml write each Service's entry as it is made: on 10,000 Services, keeping them all costs more than making them. */
  protected override async executeStreamed(): Promise<StreamedResult<EndpointsReport>> {
    const { cluster, options } = await this.open();
    const diff = streamEndpoints(cluster, options);
    return { key: 'services', items: diff.services, rest: () => diff.rest() };
  }

  private async open(): Promise<{ cluster: Cluster; options: EndpointsOptions }> {
    const { flags, args } = this;
    const ref = args.service === undefined ? undefined : parseServiceRef(args.service);
    // -A with svc/NS/NAME is no conflict: the reference names its namespace.
    if (ref && !ref.namespace && flags['all-namespaces']) {
      throw inputError('a Service name and -A (all namespaces) cannot be used together', 'conflicting-flags', [
        `Name the namespace instead: ${this.config.bin} endpoints ${ref.name} -n NAMESPACE.`,
      ]);
    }
    // A reference into another namespace (svc/NS/NAME) must be read there too: a live source lists only what it is asked for.
    const allNamespaces = flags['all-namespaces'] && ref === undefined;
    const opened = await openCluster({ ...flags, allNamespaces, ...(ref?.namespace ? { namespaces: [ref.namespace] } : {}) });
    const namespace = flags.namespace ?? opened.namespace;
    const service = ref ? resolveService(opened.cluster, ref, namespace) : undefined;
    return {
      cluster: opened.cluster,
      options: {
        namespace,
        allNamespaces,
        ...(service ? { service: { namespace: service.metadata.namespace ?? namespace, name: service.metadata.name } } : {}),
      },
    };
  }

  protected renderText(result: EndpointsReport, ctx: RenderContext): string {
    return renderEndpoints(result, ctx.style, ctx.isWide);
  }

  protected override exitCodeOf(result: EndpointsReport): ExitCode {
    return result.summary.errors > 0 ? EXIT.problem : EXIT.ok;
  }
}
