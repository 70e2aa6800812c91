import type { ContainerPort, Pod, Protocol } from './k8s.js';

/**
 * The pod's IPs: status.podIPs, else status.podIP. A fresh list, made by push (map() makes packed or
 * holey arrays depending on whether its caller is optimized yet, and the hot diff loops that take these
 * lists are recompiled each time the kind changes).
 */
export function podIPs(pod: Pod): string[] {
  const ips: string[] = [];
  const list = pod.status?.podIPs;
  if (list?.length) {
    for (const p of list) ips.push(p.ip);
    return ips;
  }
  if (pod.status?.podIP) ips.push(pod.status.podIP);
  return ips;
}

/** Ready as the EndpointSlice controller sees it: the Ready condition is True and the pod is not being deleted. */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function isPodTerminating(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
}

/** Finished pods (Succeeded/Failed) never back a Service. */
export function isPodFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Every port the pod's containers declare, sidecar init containers included, with the protocol defaulted. */
export function podPorts(pod: Pod): (ContainerPort & { protocol: Protocol; container: string })[] {
  const containers = [
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
  ];
  return containers.flatMap((c) =>
    (c.ports ?? []).map((p) => ({ ...p, protocol: p.protocol ?? 'TCP', container: c.name })),
  );
}

/** Resolve a named port on a pod for a protocol, as kube-proxy and the endpoints controller do. */
export function resolveNamedPort(pod: Pod, name: string, protocol: Protocol): number | undefined {
  // Called for every selected pod of every Service: no copies of the port lists.
  const spec = pod.spec;
  for (const c of spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === name && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  for (const c of spec?.initContainers ?? []) {
    if (c.restartPolicy !== 'Always') continue;
    for (const p of c.ports ?? []) if (p.name === name && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}
