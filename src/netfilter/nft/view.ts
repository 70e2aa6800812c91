// The ruleset as `knet node nft` shows it, filtered by a Service, IP or port: rules and set/map
// elements that mention them, and for a Service every chain named after it (kube-proxy names chains
// `service-HASH-ns/name/proto/port`, `endpoint-…`, `external-…`, `firewall-…`).
import type { Finding } from '../../model/finding.js';
import { textMatches, type NodeFilter } from '../node-filter.js';
import type { NftRuleset } from './model.js';

export interface NftChainView {
  name: string;
  hook?: string;
  priority?: number;
  policy?: string;
  type?: string;
  ruleCount: number;
  rules: { line: number; rule: string }[];
}

export interface NftSetView {
  name: string;
  kind: 'set' | 'map';
  type: string;
  elementCount: number;
  elements: { key: string; value?: string; comment?: string }[];
}

export interface NftView {
  tables: { family: string; name: string; chains: NftChainView[]; sets: NftSetView[] }[];
  ruleCount: number;
  shownCount: number;
  findings: Finding[];
}

export function viewNft(ruleset: NftRuleset, filter: NodeFilter): NftView {
  const isAll = filter.groups.length === 0;
  const svc = filter.service ? `${filter.service.namespace}/${filter.service.name}/` : null;
  let ruleCount = 0;
  let shown = 0;
  const tables = ruleset.tables.map((t) => {
    const chains: NftChainView[] = [];
    for (const c of t.chains.values()) {
      ruleCount += c.rules.length;
      const isServiceChain = svc !== null && c.name.includes(svc);
      const rules = c.rules.filter((r) => isAll || isServiceChain || textMatches(filter, r.raw)).map((r) => ({ line: r.line, rule: r.raw }));
      if (!isAll && rules.length === 0) continue;
      shown += rules.length;
      const view: NftChainView = { name: c.name, ruleCount: c.rules.length, rules };
      if (c.base) Object.assign(view, { type: c.base.type, hook: c.base.hook, priority: c.base.priority, policy: c.base.policy });
      chains.push(view);
    }
    const sets: NftSetView[] = [];
    for (const s of t.sets.values()) {
      const elements = s.elements
        .map((e) => {
          const value = e.verdict ? ('target' in e.verdict ? `${e.verdict.kind} ${e.verdict.target}` : e.verdict.kind) : e.data;
          return { key: e.key.join(' . '), ...(value ? { value } : {}), ...(e.comment ? { comment: e.comment } : {}) };
        })
        .filter((e) => isAll || textMatches(filter, `${e.key} : ${e.value ?? ''} "${e.comment ?? ''}`));
      if (!isAll && elements.length === 0) continue;
      sets.push({ name: s.name, kind: s.kind, type: `${s.keyTypes.join(' . ')}${s.dataType ? ` : ${s.dataType}` : ''}`, elementCount: s.elements.length, elements });
    }
    return { family: t.family, name: t.name, chains, sets };
  });
  return {
    tables: tables.filter((t) => isAll || t.chains.length > 0 || t.sets.length > 0),
    ruleCount,
    shownCount: shown,
    findings: [...ruleset.findings, ...noEndpointFindings(tables)],
  };
}

/**
 * kube-proxy's nftables mode lists Services without (local) endpoints in the `no-endpoint-services` and
 * `no-endpoint-nodeports` verdict maps: traffic to them is rejected (no endpoints) or dropped
 * (externalTrafficPolicy=Local without a local endpoint). Each shown element is worth saying.
 */
function noEndpointFindings(tables: NftView['tables']): Finding[] {
  const out: Finding[] = [];
  for (const t of tables) {
    if (t.name !== 'kube-proxy') continue;
    for (const s of t.sets) {
      if (s.name !== 'no-endpoint-services' && s.name !== 'no-endpoint-nodeports') continue;
      for (const e of s.elements) {
        const isDrop = e.value === 'drop';
        const what = s.name === 'no-endpoint-nodeports' ? `NodePort ${e.key}` : e.key;
        out.push({
          code: 'nft-service-no-endpoints',
          severity: 'warning',
          message: `kube-proxy ${isDrop ? 'drops' : 'rejects'} new connections to ${what}${e.comment ? ` (${e.comment})` : ''}: the Service has no ${isDrop ? 'endpoint on this node (externalTrafficPolicy: Local)' : 'ready endpoints'}`,
          hint: e.comment ? `see why: knet endpoints svc/${e.comment.split(':')[0]!}` : 'see why: knet endpoints -A',
          ...(e.comment ? { service: e.comment } : {}),
        });
      }
    }
  }
  return out;
}
