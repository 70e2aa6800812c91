import { Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../../cli/base.js';
import { EXIT, closest, inputError, type ExitCode } from '../../model/errors.js';
import { detectRulesFormat } from '../../netfilter/detect.js';
import { buildKubeView } from '../../netfilter/iptables/kube-view.js';
import { IptablesParseError, parseIptablesSave } from '../../netfilter/iptables/parse.js';
import { renderRulesShow, type RulesShowReport } from '../../render/rules.js';
import { openCluster } from '../../sources/cluster.js';
import { readInputFile } from '../../sources/files.js';
import { paragraphs } from '../../cli/prose.js';

export default class RulesShow extends KnetCommand<typeof RulesShow, RulesShowReport> {
  static override summary = 'Show the Services kube-proxy programmed in an iptables dump';

  static override description = paragraphs(`Reads kube-proxy's chains back into Service terms: each Service port with its ClusterIP, NodePorts,
external and load-balancer IPs, endpoints with the probability a new connection picks each, session
affinity, internal/external traffic policies, load-balancer source ranges, and the REJECT/DROP rules of
Service ports without (local) endpoints. Chains are named from kube-proxy's comments and checked against
its chain-name hashes. Exit 1 when a Service port in the output has no endpoints.`);

  static override examples = [
    { description: 'Every Service port in a node dump', command: '<%= config.bin %> rules show --file examples/demo/nodes/kind-worker/iptables-save.txt' },
    { description: 'One Service', command: '<%= config.bin %> rules show --file iptables-save.txt --service default/xecho' },
  ];

  static override flags = {
    file: Flags.string({ char: 'f', description: 'The dump: iptables-save or ip6tables-save output.', required: true }),
    service: Flags.string({ description: 'Only this Service: NS/NAME.' }),
    lenient: Flags.boolean({ description: 'Read past malformed lines (each becomes a finding) instead of failing.' }),
    snapshot: Flags.string({ description: "A cluster snapshot whose Services name chains that carry no comment (matched by kube-proxy's chain-name hash)." }),
  };

  protected async execute(): Promise<RulesShowReport> {
    const { flags } = this;
    const text = await readInputFile(flags.file, '--file', 'Check the path; the file is the output of iptables-save.');
    const format = detectRulesFormat(text);
    if (format !== 'iptables') {
      throw inputError(`${flags.file} is not iptables-save output (it looks like ${format})`, 'unsupported-format', ['rules show reads iptables-save / ip6tables-save dumps.']);
    }
    if (flags.service !== undefined && !/^[a-z0-9.-]+\/[a-z0-9.-]+$/i.test(flags.service)) {
      throw inputError(`--service "${flags.service}" is not NS/NAME`, 'bad-service-ref', ['For example: --service default/xecho.']);
    }
    let dump;
    try {
      dump = parseIptablesSave(text, { mode: flags.lenient ? 'lenient' : 'strict' });
    } catch (err) {
      if (err instanceof IptablesParseError) throw inputError(`${flags.file}: ${err.message}`, 'malformed-dump', ['Fix or re-capture the dump, or pass --lenient to read past bad lines.']);
      throw err;
    }
    // Service port names from the API, so that chains without comments are named by their hash.
    const knownServicePorts = flags.snapshot === undefined ? undefined : (await openCluster({ snapshot: flags.snapshot })).cluster.services.flatMap((svc) =>
      (svc.spec?.ports ?? []).map((p) => ({ servicePortName: `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}${p.name ? `:${p.name}` : ''}`, protocol: (p.protocol ?? 'TCP').toLowerCase() })),
    );
    const view = buildKubeView(dump, knownServicePorts === undefined ? {} : { knownServicePorts });
    let servicePorts = view.servicePorts;
    if (flags.service !== undefined) {
      const wanted = flags.service;
      servicePorts = servicePorts.filter((sp) => `${sp.namespace}/${sp.name}` === wanted);
      if (servicePorts.length === 0) {
        const names = view.servicePorts.map((sp) => `${sp.namespace}/${sp.name}`);
        const near = closest(wanted, names);
        throw inputError(`no rules for Service ${wanted} in ${flags.file}`, 'service-not-found', near.length > 0 ? [`Did you mean ${near.join(', ')}?`] : ['kube-proxy writes rules only for Services with a ClusterIP; headless Services have none.']);
      }
    }
    return { file: flags.file, format, servicePorts, findings: [...dump.findings, ...view.findings] };
  }

  protected renderText(result: RulesShowReport, ctx: RenderContext): string {
    return renderRulesShow(result, ctx.style, ctx.isWide);
  }

  protected override exitCodeOf(result: RulesShowReport): ExitCode {
    return result.servicePorts.some((sp) => sp.endpoints.length === 0) ? EXIT.problem : EXIT.ok;
  }
}
