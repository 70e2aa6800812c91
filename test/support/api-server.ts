import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Cluster } from '../../src/model/cluster.js';
import { loadSnapshot } from '../../src/sources/snapshot.js';
import { makeTestCerts, type TestCerts } from './certs.js';

/**
 * A Kubernetes API server for tests, over HTTPS, that the real @kubernetes/client-node talks to:
 * list (namespaced and cluster-wide, labelSelector, fieldSelector, limit/continue/remainingItemCount),
 * get, create and delete of pods (with scripted status changes and events, Pod Security admission
 * from namespace labels), DaemonSets (their pods made and removed as the controllers would),
 * SelfSubjectAccessReviews answered from a test's RBAC, errors as `kind: Status` with the right HTTP code, bearer-token authentication,
 * and faults injected per request (401, 403 with the RBAC message a real server writes, 404, 409,
 * 410, 429 with Retry-After, 5xx, slow answers). Listens on 127.0.0.1 only.
 */

interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  isNamespaced: boolean;
}

// The REST layout of the kinds knet reads (and Secrets, which it must never ask for).
const RESOURCES: Record<string, ResourceInfo> = {
  pods: { group: '', version: 'v1', kind: 'Pod', isNamespaced: true },
  services: { group: '', version: 'v1', kind: 'Service', isNamespaced: true },
  endpoints: { group: '', version: 'v1', kind: 'Endpoints', isNamespaced: true },
  configmaps: { group: '', version: 'v1', kind: 'ConfigMap', isNamespaced: true },
  secrets: { group: '', version: 'v1', kind: 'Secret', isNamespaced: true },
  namespaces: { group: '', version: 'v1', kind: 'Namespace', isNamespaced: false },
  nodes: { group: '', version: 'v1', kind: 'Node', isNamespaced: false },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', isNamespaced: true },
  networkpolicies: { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', isNamespaced: true },
  servicecidrs: { group: 'networking.k8s.io', version: 'v1', kind: 'ServiceCIDR', isNamespaced: false },
  adminnetworkpolicies: { group: 'policy.networking.k8s.io', version: 'v1alpha1', kind: 'AdminNetworkPolicy', isNamespaced: false },
  baselineadminnetworkpolicies: { group: 'policy.networking.k8s.io', version: 'v1alpha1', kind: 'BaselineAdminNetworkPolicy', isNamespaced: false },
  // What knet's debug pods need: its own DaemonSets, their events, and access reviews.
  daemonsets: { group: 'apps', version: 'v1', kind: 'DaemonSet', isNamespaced: true },
  events: { group: '', version: 'v1', kind: 'Event', isNamespaced: true },
  selfsubjectaccessreviews: { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview', isNamespaced: false },
};

const COLLECTION_OF: Record<string, keyof Omit<Cluster, 'meta'>> = {
  Pod: 'pods',
  Service: 'services',
  Endpoints: 'endpoints',
  ConfigMap: 'configMaps',
  Namespace: 'namespaces',
  Node: 'nodes',
  EndpointSlice: 'endpointSlices',
  NetworkPolicy: 'networkPolicies',
  AdminNetworkPolicy: 'adminNetworkPolicies',
  BaselineAdminNetworkPolicy: 'baselineAdminNetworkPolicies',
};

type StoredObject = Record<string, unknown> & { metadata: { name: string; namespace?: string; labels?: Record<string, string>; managedFields?: unknown[] } };

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The plural resource asked for (`pods`, `endpointslices`), if the path names one. */
  resource?: string;
  namespace?: string;
  name?: string;
  /** The subresource after the name (`exec`, `portforward`, `status`), if any. */
  subresource?: string;
  verb: 'list' | 'get' | 'delete' | 'create' | 'other';
  /** The parsed JSON body of a create. */
  body?: StoredObject;
}

/** What the test API server does with a debug pod it is asked to create (see `setPodBehaviour`). */
export interface PodBehaviour {
  /** Refuse the create with this status code and message (an admission webhook, a quota). */
  reject?: { code: number; message: string };
  /** Status changes, each applied `afterMs` after the create (default: Running at once). */
  transitions?: { afterMs: number; status: Record<string, unknown> }[];
  /** Events about the pod, as `kubectl describe pod` shows them. */
  events?: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
}

/** A pod status as the kubelet writes it once the container runs. */
export const RUNNING_STATUS = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'debug', ready: true, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }] };

/** Scripted behaviours for the ways a debug pod never runs, with what a real cluster reports. */
export const POD_BEHAVIOURS = {
  running: { transitions: [{ afterMs: 0, status: RUNNING_STATUS }] },
  imagePullBackOff: (image: string): PodBehaviour => ({
    transitions: [
      { afterMs: 0, status: { phase: 'Pending', containerStatuses: [{ name: 'debug', ready: false, state: { waiting: { reason: 'ContainerCreating' } } }] } },
      { afterMs: 150, status: { phase: 'Pending', containerStatuses: [{ name: 'debug', ready: false, state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } } }] } },
    ],
    events: [
      { type: 'Normal', reason: 'Pulling', message: `Pulling image "${image}"` },
      { type: 'Warning', reason: 'Failed', message: `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found` },
    ],
  }),
  unschedulable: {
    transitions: [{ afterMs: 0, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 1 Insufficient cpu.' }] } }],
    events: [{ type: 'Warning', reason: 'FailedScheduling', message: '0/3 nodes are available: 1 Insufficient cpu.' }],
  },
  webhook: { reject: { code: 400, message: 'admission webhook "validate.kyverno.svc-fail" denied the request: policy Pod/knet/knet-debug for resource violation: disallow-host-namespaces' } },
  /** Never leaves Pending, says nothing: for start timeouts. */
  pending: { transitions: [{ afterMs: 0, status: { phase: 'Pending' } }] },
} satisfies Record<string, PodBehaviour | ((image: string) => PodBehaviour)>;

/** `verb resource[/subresource]` as RBAC names it, e.g. `create pods/exec`; the test's RBAC allows unless told. */
export type AccessCheck = (attributes: { verb: string; resource: string; subresource?: string; namespace?: string }) => boolean;

/**
 * Serves one upgraded WebSocket connection of a pod subresource (`exec`, `portforward`). `protocol` is
 * the channel subprotocol the server chose from the client's offer (`v5.channel.k8s.io`, `v4…`).
 */
export type SubresourceHandler = (req: RecordedRequest, socket: WebSocket, protocol: string) => void;

export interface Fault {
  /** Which requests it applies to. */
  match: (req: RecordedRequest) => boolean;
  /** Answer with this status (a `kind: Status` body); none: answer normally, after `delayMs`. */
  status?: number;
  /** Seconds, sent as the Retry-After header. */
  retryAfter?: number;
  delayMs?: number;
  message?: string;
  /** Answer with this raw body (and `status`, default 200) instead of a Status object. */
  body?: string;
  /** How many matching requests it applies to; default: all. */
  times?: number;
}

export interface KubeconfigOptions {
  token?: string;
  /** PEM of the CA the kubeconfig trusts; default: the CA that signed the server. */
  caCert?: string;
  namespace?: string;
  contextName?: string;
  server?: string;
  file?: string;
}

export interface TestApiServer {
  url: string;
  token: string;
  certs: TestCerts;
  /** Every request, in order of arrival. */
  requests: RecordedRequest[];
  /** The objects served, by collection; tests may change them. */
  store: Map<string, StoredObject[]>;
  addFault(fault: Fault): void;
  clearFaults(): void;
  /** How created pods behave from now on (default: Running at once). */
  setPodBehaviour(behaviour: (pod: StoredObject) => PodBehaviour): void;
  /** Which verbs the user may use, for access reviews, creates and exec (default: all). */
  setAccess(check: AccessCheck): void;
  /**
   * The status the kubelet reports for an ephemeral container added to a pod (default: running at
   * once). The container itself never runs here: exec into it runs whatever the test's handler runs.
   */
  setEphemeralBehaviour(behaviour: (pod: StoredObject, container: Record<string, unknown>) => Record<string, unknown>): void;
  /** Writes a kubeconfig for this server into the certs directory and returns its path. */
  writeKubeconfig(options?: KubeconfigOptions): Promise<string>;
  close(): Promise<void>;
}

export interface TestApiServerOptions {
  /** A snapshot path to serve (read with knet's own snapshot loader). */
  snapshot?: string;
  cluster?: Cluster;
  /** The most items one page may hold, whatever `limit` the client asks for. */
  maxPageSize?: number;
  /** Serve policy.networking.k8s.io even with no objects of it; default: only when it has objects. */
  servesAdminNetworkPolicies?: boolean;
  /**
   * WebSocket pod subresources by name (`exec`, `portforward`), with the channel subprotocols each
   * accepts, best first. A subresource not named here is answered 404, as for a pod that does not exist.
   */
  subresources?: Record<string, { protocols: string[]; handle: SubresourceHandler }>;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

function status(code: number, message: string, details?: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? 'Unknown', ...(details ? { details } : {}), code };
}

/** The message kube-apiserver's RBAC authorizer writes, word for word. */
export function forbiddenMessage(req: RecordedRequest, user = 'system:serviceaccount:default:knet'): string {
  const info = req.resource !== undefined ? RESOURCES[req.resource] : undefined;
  const full = info && info.group !== '' ? `${req.resource}.${info.group}` : (req.resource ?? 'unknown');
  const what = req.name !== undefined ? `${full} "${req.name}"` : full;
  const scope = req.namespace !== undefined ? `in the namespace "${req.namespace}"` : 'at the cluster scope';
  return `${what} is forbidden: User "${user}" cannot ${req.verb} resource "${req.resource}" in API group "${info?.group ?? ''}" ${scope}`;
}

function parsePath(method: string, url: URL): RecordedRequest {
  const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  const req: RecordedRequest = { method, path: url.pathname, query: url.searchParams, verb: 'other' };
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts.length >= 3) rest = parts.slice(3);
  else return req;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    req.namespace = rest[1];
    rest = rest.slice(2);
  }
  req.resource = rest[0];
  req.name = rest[1];
  req.subresource = rest[2];
  req.verb = method === 'DELETE' ? 'delete' : method === 'GET' ? (req.name === undefined ? 'list' : 'get') : method === 'POST' && req.name === undefined ? 'create' : 'other';
  return req;
}

/** Label selectors as the API server reads them: `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma-joined. */
function matchesLabelSelector(selector: string, labels: Record<string, string> = {}): boolean {
  return selector
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .every((term) => {
      let m: RegExpExecArray | null;
      if ((m = /^([^!=]+)!=(.*)$/.exec(term))) return labels[m[1]!.trim()] !== m[2]!.trim();
      if ((m = /^([^!=]+)==?(.*)$/.exec(term))) return labels[m[1]!.trim()] === m[2]!.trim();
      if (term.startsWith('!')) return !(term.slice(1) in labels);
      return term in labels;
    });
}

/** Field selectors (`a.b=c`, comma-joined) on any field path, which is enough for the ones knet sends. */
function matchesFieldSelector(selector: string, obj: Record<string, unknown>): boolean {
  return selector.split(',').every((term) => {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term.trim());
    if (!m) return true;
    let value: unknown = obj;
    for (const part of m[1]!.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
    const isEqual = (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '') === m[3];
    return m[2] === '!=' ? !isEqual : isEqual;
  });
}

async function readBody(raw: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of raw) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTestApiServer(options: TestApiServerOptions = {}): Promise<TestApiServer> {
  const cluster = options.cluster ?? (options.snapshot !== undefined ? (await loadSnapshot(options.snapshot)).cluster : undefined);
  const store = new Map<string, StoredObject[]>();
  for (const plural of Object.keys(RESOURCES)) store.set(plural, []);
  if (cluster) {
    for (const [plural, info] of Object.entries(RESOURCES)) {
      const collection = COLLECTION_OF[info.kind];
      if (collection) store.set(plural, structuredClone(cluster[collection]) as unknown as StoredObject[]);
    }
  }
  const servesAnp = options.servesAdminNetworkPolicies ?? ((store.get('adminnetworkpolicies')?.length ?? 0) + (store.get('baselineadminnetworkpolicies')?.length ?? 0) > 0);
  const certs = await makeTestCerts();
  const token = 'knet-test-token';
  const requests: RecordedRequest[] = [];
  let faults: Fault[] = [];
  let podBehaviour: (pod: StoredObject) => PodBehaviour = () => POD_BEHAVIOURS.running;
  let access: AccessCheck = () => true;
  let ephemeralState: (pod: StoredObject, container: Record<string, unknown>) => Record<string, unknown> = () => ({ running: { startedAt: '2026-01-01T00:00:00Z' } });
  const timers = new Set<NodeJS.Timeout>();
  let created = 0;
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  /** Creates a pod as the API server and kubelet would, then plays its scripted behaviour. */
  const createPod = (pod: StoredObject, namespace: string): StoredObject | { code: number; message: string } => {
    pod.metadata.namespace = namespace;
    const behaviour = podBehaviour(pod);
    if (behaviour.reject) return behaviour.reject;
    const stored = { ...pod, metadata: { ...pod.metadata, uid: `uid-${++created}`, creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }, status: { phase: 'Pending' } } as StoredObject;
    store.get('pods')!.push(stored);
    for (const t of behaviour.transitions ?? [{ afterMs: 0, status: RUNNING_STATUS }]) {
      const apply = (): void => {
        (stored as Record<string, unknown>).status = t.status;
      };
      if (t.afterMs === 0) apply();
      else later(t.afterMs, apply);
    }
    for (const e of behaviour.events ?? []) {
      store.get('events')!.push({ metadata: { name: `${stored.metadata.name}.${++created}`, namespace }, involvedObject: { kind: 'Pod', name: stored.metadata.name, namespace }, ...e });
    }
    return stored;
  };
  /** Pod Security admission as kube-apiserver enforces it from the namespace's label (hostNetwork and capabilities only). */
  const podSecurity = (pod: StoredObject, namespace: string): string | undefined => {
    const ns = store.get('namespaces')!.find((n) => n.metadata.name === namespace);
    const level = ns?.metadata.labels?.['pod-security.kubernetes.io/enforce'];
    if (level !== 'baseline' && level !== 'restricted') return undefined;
    const spec = (pod as { spec?: { hostNetwork?: boolean; containers?: { name: string; securityContext?: { capabilities?: { add?: string[] } } }[] } }).spec;
    const problems: string[] = [];
    if (spec?.hostNetwork) problems.push('host namespaces (hostNetwork=true)');
    const added = (spec?.containers ?? []).flatMap((c) => (c.securityContext?.capabilities?.add ?? []).filter((cap) => cap !== 'NET_RAW' || level === 'restricted').map((cap) => `container "${c.name}" must not include "${cap}" in securityContext.capabilities.add`));
    if (added.length) problems.push(`non-default capabilities (${added.join(', ')})`);
    return problems.length ? `pods "${pod.metadata.name}" is forbidden: violates PodSecurity "${level}:latest": ${problems.join(', ')}` : undefined;
  };

  const send = (res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const apiVersionOf = (info: ResourceInfo): string => (info.group === '' ? info.version : `${info.group}/${info.version}`);
  // A real API server sends server-side apply bookkeeping with every object (kubectl hides it).
  const withManagedFields = (info: ResourceInfo, obj: StoredObject): StoredObject => ({
    ...obj,
    metadata: {
      ...obj.metadata,
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: apiVersionOf(info), fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {} } }],
    },
  });
  const objectFor = (info: ResourceInfo, obj: StoredObject): StoredObject => ({
    ...withManagedFields(info, obj),
    apiVersion: apiVersionOf(info),
    kind: info.kind,
  });

  const handle = async (raw: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(raw.url ?? '/', 'https://127.0.0.1');
    const req = parsePath(raw.method ?? 'GET', url);
    requests.push(req);
    if (raw.headers.authorization !== `Bearer ${token}`) return send(res, 401, status(401, 'Unauthorized'));

    const fault = faults.find((f) => f.match(req) && (f.times === undefined || f.times > 0));
    if (fault) {
      if (fault.times !== undefined) fault.times--;
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.body !== undefined) {
        res.writeHead(fault.status ?? 200, { 'content-type': 'text/html' });
        res.end(fault.body);
        return;
      }
      if (fault.status !== undefined) {
        const message = fault.message ?? (fault.status === 403 ? forbiddenMessage(req) : `injected ${fault.status}`);
        const details = fault.retryAfter !== undefined ? { retryAfterSeconds: fault.retryAfter } : undefined;
        return send(res, fault.status, status(fault.status, message, details), fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {});
      }
    }

    const info = req.resource !== undefined ? RESOURCES[req.resource] : undefined;
    const isAnp = info?.group === 'policy.networking.k8s.io';
    if (!info || (isAnp && !servesAnp)) return send(res, 404, status(404, 'the server could not find the requested resource'));
    // A real RBAC setup for knet never grants Secrets; a test asserts nobody asked.
    if (req.resource === 'secrets') return send(res, 403, status(403, forbiddenMessage(req)));
    if (raw.method === 'PATCH') {
      if (req.resource !== 'pods' || req.subresource !== 'ephemeralcontainers' || req.name === undefined) return send(res, 405, status(405, 'only pods/NAME/ephemeralcontainers can be patched here'));
      if (!access({ verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: req.namespace! })) {
        return send(res, 403, status(403, `pods "${req.name}" is forbidden: User "system:serviceaccount:default:knet" cannot patch resource "pods/ephemeralcontainers" in API group "" in the namespace "${req.namespace!}"`));
      }
      // As kube-apiserver: a PATCH names its patch type, and plain JSON is not one.
      const type = String(raw.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (!['application/strategic-merge-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'].includes(type)) return send(res, 415, status(415, `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml; got ${type}`));
      const pod = store.get('pods')!.find((o) => o.metadata.name === req.name && o.metadata.namespace === req.namespace);
      if (!pod) return send(res, 404, status(404, `pods "${req.name}" not found`, { name: req.name, kind: 'pods' }));
      let patch: { spec?: { ephemeralContainers?: Record<string, unknown>[] } };
      try {
        patch = JSON.parse(await readBody(raw)) as typeof patch;
      } catch {
        return send(res, 400, status(400, 'the body is not JSON'));
      }
      req.body = patch as unknown as StoredObject;
      // Strategic merge: ephemeralContainers merge by name; existing ones cannot change or go away.
      const spec = ((pod as Record<string, unknown>).spec ??= {}) as { ephemeralContainers?: Record<string, unknown>[] };
      const list = (spec.ephemeralContainers ??= []);
      const podStatus = ((pod as Record<string, unknown>).status ??= {}) as { ephemeralContainerStatuses?: Record<string, unknown>[] };
      for (const c of patch.spec?.ephemeralContainers ?? []) {
        if (list.some((e) => e.name === c.name)) continue;
        list.push(c);
        // The kubelet's part, which cannot run here: it starts the container and reports its state.
        (podStatus.ephemeralContainerStatuses ??= []).push({ name: c.name, image: c.image, ready: false, state: ephemeralState(pod, c) });
      }
      return send(res, 200, objectFor(info, pod));
    }
    if (req.verb === 'create') {
      let body: StoredObject;
      try {
        body = JSON.parse(await readBody(raw)) as StoredObject;
      } catch {
        return send(res, 400, status(400, 'the body is not JSON'));
      }
      req.body = body;
      if (req.resource === 'selfsubjectaccessreviews') {
        const attrs = (body as { spec?: { resourceAttributes?: { verb: string; resource: string; subresource?: string; namespace?: string } } }).spec?.resourceAttributes;
        const allowed = attrs ? access(attrs) : false;
        return send(res, 201, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: body.spec, status: { allowed, ...(allowed ? {} : { reason: '' }) } });
      }
      if (!access({ verb: 'create', resource: req.resource!, ...(req.namespace !== undefined ? { namespace: req.namespace } : {}) })) return send(res, 403, status(403, forbiddenMessage({ ...req, verb: 'create' as const })));
      if (req.resource === 'pods') {
        const refused = podSecurity(body, req.namespace!);
        if (refused) return send(res, 403, status(403, refused));
        const made = createPod(body, req.namespace!);
        if (!('metadata' in made)) return send(res, made.code, status(made.code, made.message));
        return send(res, 201, objectFor(info, made));
      }
      if (req.resource === 'daemonsets') {
        // The DaemonSet controller's part: one pod per node, owned by the DaemonSet.
        body.metadata.namespace = req.namespace!;
        store.get('daemonsets')!.push(body);
        const template = (body as unknown as { spec: { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } } }).spec.template;
        for (const node of store.get('nodes')!) {
          const pod = { metadata: { name: `${body.metadata.name}-${node.metadata.name}`, labels: { ...template.metadata.labels }, ownerReferences: [{ kind: 'DaemonSet', name: body.metadata.name }] }, spec: { ...template.spec, nodeName: node.metadata.name } } as StoredObject;
          createPod(pod, req.namespace!);
        }
        return send(res, 201, objectFor(info, body));
      }
      return send(res, 405, status(405, `create ${req.resource!} is not served here`));
    }
    const all = store.get(req.resource!)!;
    const inScope = all.filter((o) => !info.isNamespaced || req.namespace === undefined || o.metadata.namespace === req.namespace);

    if (req.verb === 'get' || req.verb === 'delete') {
      // GET /api/v1/namespaces/NAME has no namespace segment before the resource: it is a cluster-scoped get.
      const at = all.findIndex((o) => o.metadata.name === req.name && (!info.isNamespaced || o.metadata.namespace === req.namespace));
      if (at < 0) {
        const gr = info.group === '' ? req.resource! : `${req.resource!}.${info.group}`;
        return send(res, 404, status(404, `${gr} "${req.name!}" not found`, { name: req.name, kind: req.resource }));
      }
      const obj = objectFor(info, all[at]!);
      if (req.verb === 'delete') {
        if (req.resource !== 'pods' && req.resource !== 'daemonsets') return send(res, 405, status(405, 'only pods and DaemonSets can be deleted here'));
        all.splice(at, 1);
        if (req.resource === 'daemonsets') {
          // The garbage collector's part: the DaemonSet's pods go with it.
          const pods = store.get('pods')!;
          for (let i = pods.length - 1; i >= 0; i--) {
            const owners = (pods[i]!.metadata as { ownerReferences?: { kind: string; name: string }[] }).ownerReferences ?? [];
            if (pods[i]!.metadata.namespace === req.namespace && owners.some((o) => o.kind === 'DaemonSet' && o.name === req.name)) pods.splice(i, 1);
          }
        }
      }
      return send(res, 200, obj);
    }
    if (req.verb !== 'list') return send(res, 405, status(405, 'method not allowed'));

    const selector = req.query.get('labelSelector');
    const fields = req.query.get('fieldSelector');
    const matching = inScope.filter((o) => (!selector || matchesLabelSelector(selector, o.metadata.labels)) && (!fields || matchesFieldSelector(fields, o)));
    const asked = Number(req.query.get('limit') ?? '0');
    const limit = Math.min(asked > 0 ? asked : Infinity, options.maxPageSize ?? Infinity);
    let offset = 0;
    const cont = req.query.get('continue');
    if (cont) {
      let parsed: { path?: string; offset?: number } = {};
      try {
        parsed = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as typeof parsed;
      } catch {
        // fall through to the check below
      }
      if (parsed.path !== req.path || typeof parsed.offset !== 'number') return send(res, 400, status(400, 'invalid continue token'));
      offset = parsed.offset;
    }
    const end = Math.min(offset + limit, matching.length);
    const metadata: Record<string, unknown> = { resourceVersion: '4242' };
    if (end < matching.length) {
      metadata.continue = Buffer.from(JSON.stringify({ path: req.path, offset: end })).toString('base64url');
      metadata.remainingItemCount = matching.length - end;
    }
    // Items of a list carry no apiVersion and kind, as the real API server sends them.
    const items = matching.slice(offset, end).map((o) => {
      const { apiVersion: _a, kind: _k, ...rest } = withManagedFields(info, o);
      return rest;
    });
    return send(res, 200, { kind: `${info.kind}List`, apiVersion: apiVersionOf(info), metadata, items });
  };

  const server: Server = createServer({ key: certs.serverKey, cert: certs.serverCert }, (req, res) => {
    handle(req, res).catch((err: Error) => send(res, 500, status(500, `test server: ${err.message}`)));
  });
  // Exec and port-forward: the client upgrades to a WebSocket and offers channel subprotocols.
  const chosen = new WeakMap<IncomingMessage, string>();
  const sockets = new WebSocketServer({ noServer: true, handleProtocols: (_offered, raw) => chosen.get(raw) ?? false });
  server.on('upgrade', (raw: IncomingMessage, socket, head) => {
    const url = new URL(raw.url ?? '/', 'https://127.0.0.1');
    const req = parsePath(raw.method ?? 'GET', url);
    requests.push(req);
    const refuse = (code: number): void => {
      socket.end(`HTTP/1.1 ${code} ${REASONS[code] ?? 'Error'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    if (raw.headers.authorization !== `Bearer ${token}`) return refuse(401);
    const fault = faults.find((f) => f.match(req) && (f.times === undefined || f.times > 0));
    if (fault?.status !== undefined) {
      if (fault.times !== undefined) fault.times--;
      return refuse(fault.status);
    }
    const sub = req.subresource !== undefined ? options.subresources?.[req.subresource] : undefined;
    const pod = store.get('pods')!.find((o) => o.metadata.name === req.name && o.metadata.namespace === req.namespace);
    if (req.resource !== 'pods' || !sub || !pod) return refuse(404);
    // A WebSocket exec is authorized as `create pods/exec` by newer API servers, `get` by older ones.
    const subAccess = (verb: string): boolean => access({ verb, resource: 'pods', subresource: req.subresource!, namespace: req.namespace! });
    if (!subAccess('create') && !subAccess('get')) return refuse(403);
    const offered = String(raw.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const protocol = sub.protocols.find((p) => offered.includes(p));
    if (protocol === undefined) return refuse(400);
    chosen.set(raw, protocol);
    sockets.handleUpgrade(raw, socket, head, (ws) => sub.handle(req, ws, protocol));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let kubeconfigCount = 0;

  return {
    url,
    token,
    certs,
    requests,
    store,
    addFault: (fault) => faults.push(fault),
    setPodBehaviour: (behaviour) => {
      podBehaviour = behaviour;
    },
    setAccess: (check) => {
      access = check;
    },
    setEphemeralBehaviour: (behaviour) => {
      ephemeralState = behaviour;
    },
    clearFaults: () => {
      faults = [];
    },
    async writeKubeconfig(o: KubeconfigOptions = {}) {
      const name = o.contextName ?? 'knet-test';
      const file = o.file ?? join(certs.dir, `kubeconfig-${++kubeconfigCount}.yaml`);
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: `${name}-cluster`, cluster: { server: o.server ?? url, 'certificate-authority-data': Buffer.from(o.caCert ?? certs.caCert).toString('base64') } }],
        users: [{ name: `${name}-user`, user: { token: o.token ?? token } }],
        contexts: [{ name, context: { cluster: `${name}-cluster`, user: `${name}-user`, ...(o.namespace ? { namespace: o.namespace } : {}) } }],
        'current-context': name,
      };
      await writeFile(file, stringify(config));
      return file;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const client of sockets.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await certs.remove();
    },
  };
}
