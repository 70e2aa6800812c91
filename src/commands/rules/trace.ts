import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../../cli/base.js';
import { EXIT, inputError, type ExitCode } from '../../model/errors.js';
import { isIP } from '../../model/ip.js';
import { detectRulesFormat } from '../../netfilter/detect.js';
import { explainTrace } from '../../netfilter/iptables/explain.js';
import { IptablesParseError, parseIptablesSave } from '../../netfilter/iptables/parse.js';
import { SimulateInputError, simulateIptables } from '../../netfilter/iptables/simulate.js';
import { IpsetParseError, ipsetLookup, parseIpset } from '../../netfilter/ipset/index.js';
import { IpvsParseError, parseIpvsadm, simulateIpvs } from '../../netfilter/ipvs/index.js';
import { NftParseError, parseNftRuleset, simulateNft } from '../../netfilter/nft/index.js';
import { parseIpAddr, parseIpRoute, type NodeRouting } from '../../netfilter/routes/index.js';
import type { Packet, SimulateOptions, TraceResult } from '../../netfilter/types.js';
import type { Finding } from '../../model/finding.js';
import { renderRulesTrace, type RulesTraceReport } from '../../render/rules.js';
import { readInputFile } from '../../sources/files.js';
import { paragraphs } from '../../cli/prose.js';

const CT_STATES = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED'] as const;

function readInput(flag: string, path: string): Promise<string> {
  return readInputFile(path, flag, 'Check the path; --file is the output of iptables-save or nft list ruleset, --ipvs of ipvsadm -Ln, --ipset of ipset list.');
}

/**
 * The node's routes and addresses: the files given, or a snapshot's `ip-route.txt` and `ip-addr.txt`
 * beside the dump. undefined when there are no routes to go by.
 */
async function readRouting(file: string, routesPath: string | undefined, addressesPath: string | undefined): Promise<{ routing: NodeRouting; findings: Finding[]; sources: string[] } | undefined> {
  const beside = (name: string): string | undefined => {
    const path = join(dirname(file), name);
    return existsSync(path) ? path : undefined;
  };
  const routeFile = routesPath ?? beside('ip-route.txt');
  if (routeFile === undefined) return undefined;
  const addrFile = addressesPath ?? (routesPath === undefined ? beside('ip-addr.txt') : undefined);
  const route = parseIpRoute(await readInput('--routes', routeFile));
  const addr = addrFile === undefined ? { interfaces: [], findings: [] } : parseIpAddr(await readInput('--addresses', addrFile));
  return { routing: { routes: route.routes, interfaces: addr.interfaces }, findings: [...route.findings, ...addr.findings], sources: [routeFile, ...(addrFile === undefined ? [] : [addrFile])] };
}

export default class RulesTrace extends KnetCommand<typeof RulesTrace, RulesTraceReport> {
  static override summary = 'Simulate one packet through a dump of netfilter rules (iptables-save or nft list ruleset)';

  static override description = paragraphs(`Walks the packet through the rules in the kernel's order (raw, mangle, nat, routing decision, filter,
POSTROUTING), follows every random branch of kube-proxy's load balancing as an outcome of its own, and says
where it goes: each endpoint it may reach with its probability, whether it is masqueraded, and the rules that
decided it. The dump format is detected. Exit 0 when the packet is accepted, 1 when it is dropped or rejected
(or its fate depends on something knet does not model), 2 on bad input.`);

  static override examples = [
    { description: 'A pod calls a ClusterIP', command: '<%= config.bin %> rules trace --file iptables-save.txt --src 10.244.1.5 --dst 10.96.0.10 --dport 53 --proto udp' },
    { description: 'An outside client calls a NodePort on the node 192.168.0.2', command: '<%= config.bin %> rules trace --file iptables-save.txt --src 203.0.113.2 --dst 192.168.0.2 --dport 31401 --local-ip 192.168.0.2' },
    { description: 'The node itself calls a Service', command: '<%= config.bin %> rules trace --file iptables-save.txt --hook output --src 192.168.0.2 --dst 10.96.0.1 --dport 443 --local-ip 192.168.0.2' },
  ];

  static override flags = {
    file: Flags.string({ char: 'f', description: 'The dump: iptables-save / ip6tables-save output, or nft list ruleset (text or -j JSON).', required: true }),
    src: Flags.string({ description: 'Source IP of the packet.', required: true }),
    dst: Flags.string({ description: 'Destination IP of the packet.', required: true }),
    dport: Flags.integer({ description: 'Destination port (required: tcp, udp and sctp packets always have one).', min: 0, max: 65535 }),
    sport: Flags.integer({ description: 'Source port (default: unspecified; rules testing it do not match).', min: 0, max: 65535 }),
    // --protocol as trace and explain-policy spell it, and upper case as they take it.
    proto: Flags.option({ description: 'Protocol (also --protocol).', options: ['tcp', 'udp', 'sctp', 'TCP', 'UDP', 'SCTP'] as const, default: 'tcp', aliases: ['protocol'] })(),
    hook: Flags.option({ description: 'Where the packet enters: from a pod or the wire (prerouting), or sent by the node (output).', options: ['prerouting', 'output'] as const, default: 'prerouting' })(),
    'local-ip': Flags.string({ description: "One of the node's own addresses (repeatable), for -m addrtype LOCAL and the routing decision.", multiple: true }),
    'in-interface': Flags.string({ description: 'Interface the packet arrives on (for -i rules); default: from the route back to the source when the routes are known.' }),
    'out-interface': Flags.string({ description: 'Interface the packet leaves by (for -o rules, oifname); default: from the route to the destination after DNAT when the routes are known.' }),
    routes: Flags.string({ description: "The node's ip route output, for the interfaces; default: ip-route.txt beside --file (a snapshot's node directory), when there." }),
    addresses: Flags.string({ description: "The node's ip addr output, for the interfaces; default: ip-addr.txt beside --file, when there." }),
    mark: Flags.string({ description: 'Initial packet mark, e.g. 0x4000.' }),
    ctstate: Flags.option({ description: 'Connection state assumed (default NEW).', options: CT_STATES })(),
    affinity: Flags.string({ description: 'An endpoint (IP:PORT) the client already has ClientIP session affinity to (repeatable); default: a new client.', multiple: true }),
    ipvs: Flags.string({ description: "IPVS mode: the node's ipvsadm -Ln (or -Sn) output; --file is then its iptables-save." }),
    ipset: Flags.string({ description: "The node's ipset list (or ipset save) output, for -m set rules (IPVS mode, Calico)." }),
    lenient: Flags.boolean({ description: 'Read past malformed lines (each becomes a finding) instead of failing.' }),
  };

  protected async execute(): Promise<RulesTraceReport> {
    const { flags } = this;
    for (const [name, value] of [['--src', flags.src], ['--dst', flags.dst], ...(flags['local-ip'] ?? []).map((ip) => ['--local-ip', ip])] as const) {
      if (isIP(value)) continue;
      const isNetwork = value.includes('/') && isIP(value.slice(0, value.indexOf('/')));
      throw inputError(`${name} "${value}" is ${isNetwork ? 'a network, not one address' : 'not an IP address'}`, 'bad-ip', [`Give an IPv4 or IPv6 address, e.g. ${name} ${isNetwork ? value.slice(0, value.indexOf('/')) : '10.244.1.5'}.`]);
    }
    const protocol = flags.proto.toLowerCase() as Packet['protocol'];
    if (flags.dport === undefined) {
      // Every kube-proxy rule for a Service matches on the port: without one, no Service rule matches
      // and the packet falls through to "accepted", an answer about nothing.
      throw inputError(`--dport is required for ${protocol}: Service rules match on the destination port`, 'dport-required', [
        `For example: --dport 80 (the Service port, or the NodePort with --dst a node address).`,
      ]);
    }
    let mark: number | undefined;
    if (flags.mark !== undefined) {
      mark = Number(flags.mark);
      if (!Number.isInteger(mark) || mark < 0 || mark > 0xffffffff) throw inputError(`--mark "${flags.mark}" is not a 32-bit number`, 'bad-mark', ['Give it as decimal or hex, e.g. --mark 0x4000.']);
    }
    const text = await readInput('--file', flags.file);
    const ipvsText = flags.ipvs === undefined ? undefined : await readInput('--ipvs', flags.ipvs);
    const ipsetText = flags.ipset === undefined ? undefined : await readInput('--ipset', flags.ipset);
    const packet: Packet = { src: flags.src, dst: flags.dst, protocol, hook: flags.hook };
    if (flags.dport !== undefined) packet.dport = flags.dport;
    if (flags.sport !== undefined) packet.sport = flags.sport;
    if (flags['in-interface'] !== undefined) packet.inInterface = flags['in-interface'];
    if (flags['out-interface'] !== undefined) packet.outInterface = flags['out-interface'];
    const routing = await readRouting(flags.file, flags.routes, flags.addresses);
    if (mark !== undefined) packet.mark = mark;
    if (flags.ctstate !== undefined) packet.ctState = flags.ctstate;
    const localIPs = flags['local-ip'] ?? [];
    const mode = flags.lenient ? 'lenient' : 'strict';
    const format = detectRulesFormat(text);
    try {
      const ipsets = ipsetText === undefined ? undefined : parseIpset(ipsetText, { mode });
      const options: SimulateOptions = {
        localIPs,
        ...(ipsets ? { ipsets: ipsetLookup(ipsets.sets) } : {}),
        ...(flags.affinity ? { affinity: flags.affinity } : {}),
        ...(routing ? { routing: routing.routing } : {}),
      };
      let result: TraceResult;
      if (format === 'ipvsadm' || ipvsText !== undefined) {
        // IPVS mode: the virtual server table decides the destination, iptables (with ipsets) the rest.
        if (format !== 'ipvsadm' && format !== 'iptables') throw inputError(`with --ipvs, --file must be the node's iptables-save (${flags.file} looks like ${format})`, 'unsupported-format');
        const ipvs = parseIpvsadm(format === 'ipvsadm' ? text : ipvsText!, { mode });
        const dump = format === 'iptables' ? parseIptablesSave(text, { mode, isLazy: true }) : undefined;
        result = simulateIpvs({ ipvs, ...(dump ? { iptables: dump } : {}), ...(options.ipsets ? { ipsets: options.ipsets } : {}) }, packet, options);
        if (dump) result.findings.unshift(...dump.findings);
      } else if (format === 'iptables') {
        const dump = parseIptablesSave(text, { mode, isLazy: true });
        result = simulateIptables(dump, packet, options);
        result.findings.unshift(...dump.findings);
      } else if (format === 'nftables' || format === 'nft-json') {
        result = simulateNft(parseNftRuleset(text, { mode, isLazy: true }), packet, options);
      } else {
        throw inputError(`${flags.file} is neither iptables-save nor nft list ruleset output`, 'unknown-format', ['Capture it with: iptables-save > FILE, or nft list ruleset > FILE (nft -j list ruleset for JSON).']);
      }
      if (ipsets !== undefined) result.findings.push(...ipsets.findings);
      if (routing) {
        result.findings.push(...routing.findings);
        result.assumptions.push(`the node's routes and addresses: ${routing.sources.join(', ')}`);
      } else if (packet.inInterface === undefined || packet.outInterface === undefined) {
        result.assumptions.push("the node's routes are not known (no --routes, no ip-route.txt beside the dump): interfaces not given were left unknown");
      }
      return { ...result, file: flags.file, explanation: explainTrace(result) };
    } catch (err) {
      if (err instanceof IpvsParseError || err instanceof IpsetParseError) {
        throw inputError(`${err instanceof IpvsParseError ? flags.ipvs ?? flags.file : flags.ipset}: ${err.message}`, 'malformed-dump', ['Fix or re-capture it, or pass --lenient to read past bad lines.']);
      }
      if (err instanceof IptablesParseError || err instanceof NftParseError) {
        throw inputError(`${flags.file}: ${err.message}`, 'malformed-dump', ['Fix or re-capture the dump, or pass --lenient to read past bad lines.']);
      }
      if (err instanceof SimulateInputError) throw inputError(err.message, 'bad-packet');
      throw err;
    }
  }

  protected renderText(result: RulesTraceReport, ctx: RenderContext): string {
    return renderRulesTrace(result, ctx.style, ctx.isWide);
  }

  protected override exitCodeOf(result: RulesTraceReport): ExitCode {
    return result.verdict === 'accept' ? EXIT.ok : EXIT.problem;
  }
}
