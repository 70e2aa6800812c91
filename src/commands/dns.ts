import { Args, Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../cli/base.js';
import { allNamespacesFlag, clusterFlags } from '../cli/flags.js';
import { checkDnsName, parseRef } from '../cli/refs.js';
import { resolvePod } from '../cli/resolve.js';
import { buildDnsIndex, defaultSourcePod, formatZones, planResolver, recordTypes, resolveAll, resolveName, reverseName, type DnsAllReport, type DnsReport, type RecordType } from '../dns/index.js';
import { EXIT, inputError, type ExitCode } from '../model/errors.js';
import { hasErrors } from '../model/finding.js';
import { isIP } from '../model/ip.js';
import { renderDnsAll, renderDnsReport } from '../render/dns.js';
import { openCluster } from '../sources/cluster.js';
import { openDnsServers, parseQueryTimeout } from '../sources/dns-servers.js';
import { checkSomeServerAnswered } from '../cli/dns-ask.js';
import { writeZones, type WrittenZones } from '../sources/dns-zones.js';
import { paragraphs } from '../cli/prose.js';

type Result = DnsReport | DnsAllReport | WrittenZones;
const isAll = (r: Result): r is DnsAllReport => 'names' in r && Array.isArray(r.names);
const isZones = (r: Result): r is WrittenZones => 'zones' in r;

export default class Dns extends KnetCommand<typeof Dns, Result> {
  static override summary = 'Resolve a name as a pod would, ask every DNS replica, and check each answer against the API';

  static override description = paragraphs(`knet follows the pod's resolver (dnsPolicy, dnsConfig, search list, ndots) through every name it
would try, asks each cluster DNS replica (live: each ready kube-dns endpoint through a port-forward) or each
--server, and compares every answer with the records the API implies: ClusterIP and headless Services,
hostname.subdomain names, SRV for named ports, PTR, ExternalName CNAMEs, pod names. With --all, every Service
and hostname.subdomain name in scope is checked once per server. On a snapshot without --server, the names
are judged from the API's records alone and the output says that no server was asked.
Exit 1 on any error finding, 3 when no server answers at all.`);

  static override examples = [
    { description: 'What myhost.headless resolves to from a pod in default, from the demo snapshot alone', command: '<%= config.bin %> dns myhost.headless --snapshot examples/demo' },
    { description: 'The same, asking a DNS server that serves the zone', command: '<%= config.bin %> dns myhost.headless --snapshot examples/demo --server 127.0.0.1:5353' },
    { description: 'SRV records of a named port, from a given pod', command: '<%= config.bin %> dns _http._tcp.headless --type SRV --from default/web-5f7b9c6d84-lq2rt --snapshot examples/demo' },
    { description: 'Which Service owns an address', command: '<%= config.bin %> dns 10.96.45.20 --type PTR --snapshot examples/demo' },
    { description: 'Every Service name, against two replicas', command: '<%= config.bin %> dns --all -A --server 10.244.0.2:53 --server 10.244.0.3:53' },
  ];

  static override args = {
    name: Args.string({ description: 'A DNS name as a pod would write it (web, web.shop, myhost.headless, an FQDN with a trailing dot), or an IP with --type PTR', required: false }),
  };

  static override flags = {
    ...clusterFlags,
    ...allNamespacesFlag,
    // Upper or lower case, as dig takes them.
    type: Flags.string({ char: 't', options: [...recordTypes, ...recordTypes.map((t) => t.toLowerCase())], default: 'A', description: 'Record type to ask for.' }),
    from: Flags.string({ description: 'The pod whose resolver to follow: pod/NAME, NS/NAME or NAME (default: a running ClusterFirst pod in -n).' }),
    server: Flags.string({ char: 's', multiple: true, description: 'A DNS server to ask, IP[:PORT] (repeatable: each is a replica). Default, live: every ready kube-dns endpoint.' }),
    tcp: Flags.boolean({ description: 'Ask over TCP (UDP is the default; a truncated UDP answer is asked again over TCP).' }),
    all: Flags.boolean({ description: 'Check every Service and hostname.subdomain name in scope (-n or -A), once per server.' }),
    timeout: Flags.string({ default: '2s', description: 'Time to wait for each answer (e.g. 500ms, 2s).' }),
    retries: Flags.integer({ default: 1, min: 0, max: 5, description: 'UDP retries after a timeout.' }),
    concurrency: Flags.integer({ default: 64, min: 1, max: 1024, description: 'With --all: names in flight at once.' }),
    zones: Flags.string({ description: 'Write the records the API implies (every namespace) as zone files and a bind9 named.conf into DIR, and ask nothing.' }),
    'zones-port': Flags.integer({ default: 5353, min: 1, max: 65535, description: 'With --zones: the port named.conf listens on (127.0.0.1).' }),
  };

  protected async execute(): Promise<Result> {
    const { flags, args } = this;
    const type = flags.type.toUpperCase() as RecordType;
    if (flags.zones !== undefined) {
      const opened = await openCluster({ ...flags, allNamespaces: true });
      const index = buildDnsIndex(opened.cluster, { clusterDomain: opened.clusterDomain });
      return writeZones(flags.zones, formatZones(index), { port: flags['zones-port'] });
    }
    if (flags.all && args.name !== undefined) throw inputError('give a NAME or --all, not both', 'conflicting-flags');
    if (!flags.all && args.name === undefined) {
      // -s takes every word after it: `knet dns -s 10.96.0.10 web` gave it two servers and no NAME.
      const swallowed = (flags.server ?? []).find((s) => !/^[\d.:[\]]+$/.test(s));
      throw inputError(
        swallowed === undefined ? 'knet dns needs a NAME, or --all' : `knet dns needs a NAME, or --all ("${swallowed}" was read as a --server)`,
        'missing-argument',
        [
          ...(swallowed === undefined ? [] : [`--server takes every value after it: write the NAME first (${this.config.bin} dns ${swallowed} --server …), or end its values with --.`]),
          `For example: ${this.config.bin} dns web.shop, or ${this.config.bin} dns --all -A`,
        ],
      );
    }
    let name = args.name?.trim() ?? '';
    if (!flags.all && name === '') throw inputError('the NAME given to knet dns is empty', 'bad-name', [`For example: ${this.config.bin} dns web.shop`]);
    if (name && isIP(name)) {
      if (type !== 'PTR') throw inputError(`"${name}" is an address: ask for its name with --type PTR`, 'bad-name', [`${this.config.bin} dns ${name} --type PTR`]);
      name = `${reverseName(name)!}.`;
    } else if (name) checkDnsName(name);
    const timeoutMs = parseQueryTimeout(flags.timeout);
    const fromRef = flags.from === undefined ? undefined : parseRef(flags.from, { what: '--from' });
    if (fromRef && fromRef.kind !== 'pod') throw inputError(`--from "${flags.from}" is not a pod`, 'bad-reference', ['Give pod/NAME, NS/NAME or NAME.']);
    const isLive = flags.snapshot === undefined;
    const namespaces = ['kube-system', ...(fromRef?.namespace ? [fromRef.namespace] : [])];
    const opened = await openCluster({ ...flags, allNamespaces: flags['all-namespaces'] || (!flags.all && !fromRef), namespaces });
    const namespace = flags.namespace ?? opened.namespace;
    const pod = fromRef ? resolvePod(opened.cluster, fromRef, namespace) : defaultSourcePod(opened.cluster, namespace);
    const index = buildDnsIndex(opened.cluster, { clusterDomain: opened.clusterDomain });
    const plan = planResolver(opened.cluster, { clusterDomain: opened.clusterDomain, namespace, ...(pod ? { pod } : {}) });
    const servers = await openDnsServers({
      servers: flags.server ?? [],
      isTcp: flags.tcp,
      timeoutMs,
      retries: flags.retries,
      ...(isLive ? { live: { source: flags, cluster: opened.cluster } } : {}),
    });
    try {
      const ask = servers.ask ? { ask: servers.ask } : {};
      const inScope = (ns: string): boolean => flags['all-namespaces'] || ns === namespace;
      const result = flags.all ? await resolveAll({ index, plan, inScope, concurrency: flags.concurrency, ...ask }) : await resolveName({ name, type, plan, index, ...ask });
      if (servers.ask) checkSomeServerAnswered(result, servers.ask.servers);
      return result;
    } finally {
      servers.close();
    }
  }

  protected renderText(result: Result, ctx: RenderContext): string {
    if (isZones(result)) {
      return [...result.zones.map((z) => `wrote ${z.file} (${z.origin}, ${z.records} records)`), `wrote ${result.config}`, `Start it with: named -g -c ${result.config}`, `Then ask it: ${this.config.bin} dns NAME --server ${result.server} …`].join('\n');
    }
    return isAll(result) ? renderDnsAll(result, ctx.style, ctx.isWide) : renderDnsReport(result, ctx.style, ctx.isWide);
  }

  protected override exitCodeOf(result: Result): ExitCode {
    if (isZones(result)) return EXIT.ok;
    const reports = isAll(result) ? result.names : [result];
    return reports.some((r) => hasErrors(r.findings)) ? EXIT.problem : EXIT.ok;
  }
}

