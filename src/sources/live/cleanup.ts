import type { LiveSession } from './cluster.js';
import { DEBUG_RESOURCES, RESOURCES } from './resources.js';

/** The label every debug pod knet creates carries; cleanup touches nothing else. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'knet';

export interface DebugPod {
  namespace: string;
  name: string;
  node: string | null;
  phase: string | null;
  createdAt: string | null;
  /** The DaemonSet that owns it (a --daemonset run), if any. */
  ownerDaemonSet?: string;
}

/** Debug pods knet left behind, in one namespace or all; listed by label, checked again here. */
export async function findDebugPods(session: LiveSession, namespace: string | undefined): Promise<DebugPod[]> {
  const pods = await session.api.list(RESOURCES.pods, namespace, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}` });
  return pods
    .filter((p) => (p.metadata?.labels as Record<string, string> | undefined)?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE)
    .map((p) => {
      const spec = p.spec as { nodeName?: string } | undefined;
      const status = p.status as { phase?: string } | undefined;
      const metadata = p.metadata as { namespace?: string; name?: string; ownerReferences?: { kind?: string; name?: string }[] } | undefined;
      const owner = metadata?.ownerReferences?.find((o) => o.kind === 'DaemonSet')?.name;
      return {
        ...(owner !== undefined ? { ownerDaemonSet: owner } : {}),
        namespace: metadata?.namespace ?? '',
        name: metadata?.name ?? '',
        node: spec?.nodeName ?? null,
        phase: status?.phase ?? null,
        createdAt: typeof p.metadata?.creationTimestamp === 'string' ? p.metadata.creationTimestamp : null,
      };
    });
}

/** Delete one debug pod now (a one-second grace, as `kubectl delete --now`); `gone` if it already was. */
export function deleteDebugPod(session: LiveSession, pod: DebugPod): Promise<'deleted' | 'gone'> {
  return session.api.delete(RESOURCES.pods, pod.namespace, pod.name, { gracePeriodSeconds: '1' });
}

export interface DebugDaemonSet {
  namespace: string;
  name: string;
  createdAt: string | null;
}

/** DaemonSets of `--daemonset` runs knet left behind (they have no deadline of their own). */
export async function findDebugDaemonSets(session: LiveSession, namespace: string | undefined): Promise<DebugDaemonSet[]> {
  const sets = await session.api.list(DEBUG_RESOURCES.daemonSets, namespace, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}` });
  return sets
    .filter((d) => (d.metadata?.labels as Record<string, string> | undefined)?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE)
    .map((d) => {
      const metadata = d.metadata as { namespace?: string; name?: string } | undefined;
      return { namespace: metadata?.namespace ?? '', name: metadata?.name ?? '', createdAt: typeof d.metadata?.creationTimestamp === 'string' ? d.metadata.creationTimestamp : null };
    });
}

/** Delete one DaemonSet; the garbage collector removes its pods. */
export function deleteDebugDaemonSet(session: LiveSession, set: DebugDaemonSet): Promise<'deleted' | 'gone'> {
  return session.api.delete(DEBUG_RESOURCES.daemonSets, set.namespace, set.name, { propagationPolicy: 'Background' });
}

/** An ephemeral container `knet trace --probe` added to a pod: it cannot be removed, only reported. */
export interface ProbeContainer {
  namespace: string;
  pod: string;
  container: string;
  /** `running`, `exited` (with its exit code), `waiting`, or `unknown` when the kubelet has not reported it. */
  state: string;
}

/**
 * knet's probe containers in the pods of one namespace or all: named knet-probe-… and marked with
 * KNET_MANAGED_BY=knet in their environment (ephemeral containers carry no labels of their own, and
 * knet does not label the user's pod). Every pod is listed, since nothing selects them by label.
 */
export async function findProbeContainers(session: LiveSession, namespace: string | undefined): Promise<ProbeContainer[]> {
  const { PROBE_CONTAINER_PREFIX, PROBE_MARKER_ENV } = await import('./probe.js');
  const pods = await session.api.list(RESOURCES.pods, namespace);
  const out: ProbeContainer[] = [];
  for (const p of pods) {
    const spec = p.spec as { ephemeralContainers?: { name?: string; env?: { name?: string; value?: string }[] }[] } | undefined;
    const statuses = (p.status as { ephemeralContainerStatuses?: { name?: string; state?: { running?: unknown; waiting?: unknown; terminated?: { exitCode?: number } } }[] } | undefined)?.ephemeralContainerStatuses ?? [];
    for (const c of spec?.ephemeralContainers ?? []) {
      if (!c.name?.startsWith(PROBE_CONTAINER_PREFIX) || !(c.env ?? []).some((e) => e.name === PROBE_MARKER_ENV && e.value === MANAGED_BY_VALUE)) continue;
      const state = statuses.find((s) => s.name === c.name)?.state;
      out.push({
        namespace: typeof p.metadata?.namespace === 'string' ? p.metadata.namespace : '',
        pod: typeof p.metadata?.name === 'string' ? p.metadata.name : '',
        container: c.name,
        state: state?.running !== undefined ? 'running' : state?.terminated ? `exited (${state.terminated.exitCode ?? '?'})` : state?.waiting !== undefined ? 'waiting' : 'unknown',
      });
    }
  }
  return out;
}
