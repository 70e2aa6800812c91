// Human output of the `knet node …` commands. Each node gets a header (where its state came from,
// what the filter kept), then its state in the form operators know from the tool that printed it.
import type { Finding } from '../model/finding.js';
import type { ConntrackEntry } from '../netfilter/conntrack/index.js';
import type { IpsetView } from '../netfilter/ipset/view.js';
import type { VirtualServer } from '../netfilter/ipvs/index.js';
import type { IptablesView } from '../netfilter/node-filter.js';
import type { NftView } from '../netfilter/nft/view.js';
import type { RoutesView } from '../netfilter/routes/index.js';
import { renderFindings } from './findings.js';
import type { Style } from './style.js';
import { renderTable } from './table.js';
import { joinHostPort } from '../model/ip.js';

/** What every `knet node KIND` result holds per node. */
export interface NodeResultBase {
  node: string;
  /** The file (or debug pod) the state came from. */
  source: string;
  /** With --raw: the command output, unchanged. */
  raw?: string;
  findings: Finding[];
}

/** A node --all-nodes could not read (its debug pod never ran, an exec failed or timed out): the others are still read. */
export interface FailedNode {
  node: string;
  /** The error's code, e.g. `debug-pod-failed`, `debug-exec-timeout`. */
  code: string;
  reason: string;
  suggestions: string[];
}

export interface NodeReport<T extends NodeResultBase> {
  kind: string;
  /** The --service/--ip/--port filter in words; absent when nothing is filtered. */
  filter?: string;
  nodes: T[];
  /** With --all-nodes: the nodes that could not be read, with why (empty when every node was read). */
  failedNodes?: FailedNode[];
}

export type IptablesNodeResult = NodeResultBase & Partial<IptablesView> & { format?: 'iptables' };
export type NftNodeResult = NodeResultBase & Partial<NftView> & { format?: 'text' | 'json' };
export type IpvsNodeResult = NodeResultBase & { virtualServers?: VirtualServer[]; virtualServerCount?: number };
export type IpsetNodeResult = NodeResultBase & { sets?: IpsetView[] };
export type ConntrackNodeResult = NodeResultBase & {
  lines?: number;
  matched?: number;
  dnatMatched?: number;
  isTruncated?: boolean;
  entries?: ConntrackEntry[];
};
export type RoutesNodeResult = NodeResultBase & RoutesView;

function header(r: NodeResultBase, style: Style, what: string, filter: string | undefined): string {
  return `${style.c.bold(`Node ${r.node}`)} ${style.c.dim(`— ${r.source}`)}\n${what}${filter ? ` (filter: ${filter})` : ''}`;
}

function withFindings(body: string, r: NodeResultBase, style: Style): string {
  return r.findings.length ? `${body}\n\n${renderFindings(r.findings, style, '  ')}` : body;
}

/** Renders every node; with --raw, only the command outputs, one after the other. */
export function renderNodeReport<T extends NodeResultBase>(report: NodeReport<T>, style: Style, renderOne: (r: T) => string): string {
  // Raw output is the nodes' command output only; the failed nodes were named on stderr.
  if (report.nodes.length > 0 && report.nodes.every((n) => n.raw !== undefined)) return report.nodes.map((n) => n.raw ?? '').join('');
  const parts = report.nodes.map((n) => withFindings(renderOne(n), n, style));
  const failed = report.failedNodes ?? [];
  if (failed.length > 0) {
    parts.push([style.c.red(`Not read: ${failed.length} node${failed.length === 1 ? '' : 's'}`), ...failed.map((f) => `  ${style.c.bold(f.node)}: ${f.reason}`)].join('\n'));
  }
  return parts.join('\n\n');
}

export function renderIptablesNode(r: IptablesNodeResult, style: Style, filter: string | undefined): string {
  const lines = [header(r, style, `${r.shownCount ?? 0} of ${r.ruleCount ?? 0} rules`, filter)];
  for (const t of r.tables ?? []) {
    lines.push('', style.c.bold(`*${t.name}`));
    for (const c of t.chains) {
      const shownNote = c.rules.length < c.ruleCount ? style.c.dim(` (${c.rules.length} of ${c.ruleCount} rules)`) : '';
      lines.push(`:${c.name} ${c.policy ?? '-'}${shownNote}`);
      for (const rule of c.rules) lines.push(`  ${style.c.dim(`L${rule.line}`.padEnd(7))} ${rule.rule}`);
    }
  }
  return lines.join('\n');
}

export function renderNftNode(r: NftNodeResult, style: Style, filter: string | undefined, isWide: boolean): string {
  const lines = [header(r, style, `${r.shownCount ?? 0} of ${r.ruleCount ?? 0} rules`, filter)];
  for (const t of r.tables ?? []) {
    lines.push('', style.c.bold(`table ${t.family} ${t.name}`));
    for (const s of t.sets) {
      lines.push(`  ${s.kind} ${s.name} ${style.c.dim(`{ ${s.type} }`)} ${s.elements.length < s.elementCount ? `${s.elements.length} of ${s.elementCount}` : s.elementCount} elements`);
      const limit = isWide || filter ? s.elements.length : 10;
      for (const e of s.elements.slice(0, limit)) lines.push(`    ${e.key}${e.comment ? style.c.dim(` "${e.comment}"`) : ''}${e.value ? ` : ${e.value}` : ''}`);
      if (s.elements.length > limit) lines.push(style.c.dim(`    … ${s.elements.length - limit} more (-o wide shows all)`));
    }
    for (const c of t.chains) {
      const base = c.hook ? style.c.dim(` (type ${c.type ?? 'filter'} hook ${c.hook} priority ${c.priority ?? 0}; policy ${c.policy ?? 'accept'})`) : '';
      lines.push(`  chain ${c.name}${base}`);
      for (const rule of c.rules) lines.push(`    ${style.c.dim(`L${rule.line}`.padEnd(7))} ${rule.rule}`);
    }
  }
  return lines.join('\n');
}

export function renderIpvsNode(r: IpvsNodeResult, style: Style, filter: string | undefined): string {
  const vss = r.virtualServers ?? [];
  const rows: string[][] = [];
  for (const vs of vss) {
    const name = vs.protocol === 'FWM' ? `FWM ${vs.fwmark ?? 0}` : `${vs.protocol} ${joinHostPort(vs.address, vs.port)}`;
    const sched = `${vs.scheduler}${vs.persistent ? ` persistent ${vs.persistent}` : ''}`;
    if (vs.realServers.length === 0) rows.push([name, sched, style.c.yellow('(no real servers)'), '', '', '', '']);
    vs.realServers.forEach((rs, i) => {
      rows.push([i === 0 ? name : '', i === 0 ? sched : '', joinHostPort(rs.address, rs.port), rs.forward, rs.weight === 0 ? style.c.yellow('0') : String(rs.weight), String(rs.activeConn ?? ''), String(rs.inActConn ?? '')]);
    });
  }
  const table = rows.length ? renderTable(['virtual server', 'scheduler', 'real server', 'forward', 'weight', 'active', 'inactive'], rows, style) : style.c.dim('no virtual servers');
  return `${header(r, style, `${vss.length} of ${r.virtualServerCount ?? vss.length} virtual servers`, filter)}\n\n${table}`;
}

export function renderIpsetNode(r: IpsetNodeResult, style: Style, filter: string | undefined, isWide: boolean): string {
  const sets = r.sets ?? [];
  const lines = [header(r, style, `${sets.length} sets`, filter)];
  for (const s of sets) {
    lines.push('', `${style.c.bold(s.name)} ${style.c.dim(`${s.type} family ${s.family}`)} ${s.members.length < s.memberCount ? `${s.members.length} of ${s.memberCount}` : s.memberCount} members`);
    const limit = isWide || filter ? s.members.length : 20;
    for (const m of s.members.slice(0, limit)) lines.push(`  ${m}`);
    if (s.members.length > limit) lines.push(style.c.dim(`  … ${s.members.length - limit} more (-o wide shows all)`));
  }
  return lines.join('\n');
}

function tuple(addr: string, port: number | undefined): string {
  return port === undefined ? addr : joinHostPort(addr, port);
}

export function renderConntrackNode(r: ConntrackNodeResult, style: Style, filter: string | undefined, isWide: boolean): string {
  const entries = r.entries ?? [];
  const head = header(r, style, `${r.matched ?? 0} of ${r.lines ?? 0} entries match, ${r.dnatMatched ?? 0} DNATed (to a Service backend)`, filter);
  const hasServices = entries.some((e) => e.service !== undefined);
  const rows = entries.map((e) => {
    const row = [
      e.protocol,
      e.state ?? '',
      `${tuple(e.original.src, e.original.sport)} → ${tuple(e.original.dst, e.original.dport)}`,
      ...(hasServices ? [e.service ?? ''] : []),
      e.isDnat ? style.c.cyan(tuple(e.reply.src, e.reply.sport)) : '',
      e.flags.join(','),
      `${e.timeout}s`,
    ];
    if (isWide) row.push(e.isSnat ? tuple(e.reply.dst, e.reply.dport) : '', String(e.mark ?? ''), String(e.zone ?? ''), `L${e.line}`);
    return row;
  });
  const headers = ['proto', 'state', 'original', ...(hasServices ? ['service'] : []), 'dnat to', 'flags', 'timeout'];
  if (isWide) headers.push('snat as', 'mark', 'zone', 'line');
  const table = rows.length ? renderTable(headers, rows, style) : style.c.dim('no matching entries');
  const more = r.isTruncated ? `\n${style.c.dim(`… ${(r.matched ?? 0) - entries.length} more matched (use --limit, or filter with --ip/--port/--protocol)`)}` : '';
  return `${head}\n\n${table}${more}`;
}

export function renderRoutesNode(r: RoutesNodeResult, style: Style, filter: string | undefined): string {
  const lines = [header(r, style, `${r.routes?.length ?? 0} routes, ${r.interfaces?.length ?? 0} interfaces`, filter)];
  if (r.lookups?.length) lines.push('');
  for (const l of r.lookups ?? []) {
    lines.push(l.isLocal ? `${l.ip} is an address of this node (delivered locally).` : l.route ? `${l.ip} goes by: ${style.c.bold(l.route.raw)}` : style.c.yellow(`${l.ip}: no route (the node answers "network unreachable")`));
  }
  if (r.routes) {
    const rows = r.routes.map((rt) => [rt.destination, rt.type, rt.via ?? '', rt.dev ?? '', rt.src ?? '', rt.proto ?? '', rt.table ?? '']);
    lines.push('', rows.length ? renderTable(['destination', 'type', 'via', 'dev', 'src', 'proto', 'table'], rows, style) : style.c.dim('no routes'));
  }
  if (r.interfaces) {
    const rows = r.interfaces.map((i) => [i.name, i.state ?? '', i.addresses.map((a) => `${a.address}/${a.prefix}`).join(' ')]);
    lines.push('', rows.length ? renderTable(['interface', 'state', 'addresses'], rows, style) : style.c.dim('no interfaces'));
  }
  return lines.join('\n');
}
