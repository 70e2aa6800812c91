import type { LiveSession } from './cluster.js';
import { RESOURCES } from './resources.js';

/** The label every debug pod knet creates carries; cleanup touches nothing else. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'knet';

export interface DebugPod {
  namespace: string;
  name: string;
  node: string | null;
  phase: string | null;
  createdAt: string | null;
}

/** Debug pods knet left behind, in one namespace or all; listed by label, checked again here. */
export async function findDebugPods(session: LiveSession, namespace: string | undefined): Promise<DebugPod[]> {
  const pods = await session.api.list(RESOURCES.pods, namespace, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}` });
  return pods
    .filter((p) => (p.metadata?.labels as Record<string, string> | undefined)?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE)
    .map((p) => {
      const spec = p.spec as { nodeName?: string } | undefined;
      const status = p.status as { phase?: string } | undefined;
      const metadata = p.metadata as { namespace?: string; name?: string } | undefined;
      return {
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
