import type { Cluster } from '../model/cluster.js';
import type { Node, Pod, Service } from '../model/k8s.js';
import { closest, inputError } from '../model/errors.js';
import type { NamedRef } from './refs.js';

type Named = Pod | Service;

function find<T extends Named>(items: readonly T[], ref: NamedRef, namespace: string, noun: string, flag: string): T {
  const ns = ref.namespace ?? namespace;
  const hit = items.find((o) => o.metadata.namespace === ns && o.metadata.name === ref.name);
  if (hit) return hit;
  const suggestions: string[] = [];
  const elsewhere = items.filter((o) => o.metadata.name === ref.name).map((o) => o.metadata.namespace!);
  if (elsewhere.length) {
    suggestions.push(`There is a ${noun} "${ref.name}" in namespace ${elsewhere.slice(0, 3).join(', ')}: add -n ${elsewhere[0]} or write ${flag}${elsewhere[0]}/${ref.name}.`);
  }
  const near = closest(ref.name, items.filter((o) => o.metadata.namespace === ns).map((o) => o.metadata.name));
  if (near.length) suggestions.push(`Did you mean ${near.map((n) => `${flag}${n}`).join(', ')}?`);
  if (!suggestions.length) {
    const count = items.filter((o) => o.metadata.namespace === ns).length;
    suggestions.push(count ? `Namespace ${ns} has ${count} ${noun}s; list them with kubectl get ${noun}s -n ${ns}.` : `Namespace ${ns} has no ${noun}s; check -n, or use -A where the command takes it.`);
  }
  throw inputError(`${noun} "${ref.name}" not found in namespace ${ns}`, `${noun === 'service' ? 'service' : 'pod'}-not-found`, suggestions);
}

export function resolveService(cluster: Cluster, ref: NamedRef, namespace: string): Service {
  return find(cluster.services, ref, namespace, 'service', 'svc/');
}

export function resolvePod(cluster: Cluster, ref: NamedRef, namespace: string): Pod {
  return find(cluster.pods, ref, namespace, 'pod', 'pod/');
}

export function resolveNode(cluster: Cluster, name: string): Node {
  const node = cluster.nodes.find((n) => n.metadata.name === name);
  if (node) return node;
  const near = closest(name, cluster.nodes.map((n) => n.metadata.name));
  throw inputError(`node "${name}" not found`, 'node-not-found', near.length ? [`Did you mean ${near.map((n) => `node/${n}`).join(', ')}?`] : ['List nodes with kubectl get nodes.']);
}
