import type { Configuration, KubeConfig, RequestContext, ServerConfiguration } from '@kubernetes/client-node';
import { environmentError, type KnetError } from '../../model/errors.js';
import { formatDuration } from './duration.js';
import type { ResolvedKubeConfig } from './kubeconfig.js';
import { apiVersionOf, resourceName, resourcePath, type ResourceSpec } from './resources.js';

/** Objects as the API wrote them: plain JSON, never client-node's model classes. */
export type ApiObject = Record<string, unknown> & { metadata?: Record<string, unknown> };

/** The `kind: Status` body the API server sends with every error. */
interface ApiStatus {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { retryAfterSeconds?: number };
}

export type HttpVerb = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** What a request is for, so that a failure can say which verb on which resource failed. */
export interface RequestIntent {
  verb: 'get' | 'list' | 'delete' | 'create' | 'patch';
  spec: ResourceSpec;
  /** A subresource (`ephemeralcontainers`), as RBAC names it after a slash. */
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface ApiClientOptions {
  /** Per request, headers and body included; undefined: no limit. */
  timeoutMs?: number;
  /** How many times a 429 (or a 5xx with Retry-After) is retried before giving up. */
  maxRetries?: number;
  /** Upper bound of one wait between retries. */
  maxRetryWaitMs?: number;
  /** Items per page of a list (the API server may return fewer). */
  pageSize?: number;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

function describeIntent(intent: RequestIntent): string {
  const what = intent.subresource !== undefined
    ? `${intent.verb} ${resourceName(intent.spec)}/${intent.subresource}${intent.name !== undefined ? ` of ${intent.spec.kind} ${intent.name}` : ''}`
    : `${intent.verb} ${resourceName(intent.spec)}${intent.name !== undefined ? `/${intent.name}` : ''}`;
  if (!intent.spec.isNamespaced) return what;
  return intent.namespace === undefined ? `${what} cluster-wide` : `${what} in namespace ${intent.namespace}`;
}

function parseStatus(text: string): ApiStatus | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds from a Retry-After header (or the Status details), as client-go reads it. */
function retryAfterMs(headers: Record<string, string>, status: ApiStatus | undefined): number | undefined {
  const header = headers['retry-after'];
  if (header !== undefined && /^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const fromBody = status?.details?.retryAfterSeconds;
  return typeof fromBody === 'number' ? fromBody * 1000 : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Talks to the API server through @kubernetes/client-node: its kubeconfig handling, authentication
 * (tokens, client certificates, exec plugins) and HTTP transport. Bodies are read as JSON here rather
 * than through the generated model classes, which turn timestamps into Date objects and drop fields
 * they do not know: knet needs the objects exactly as `kubectl get -o json` shows them, so that the
 * live path and a snapshot of the same cluster give the same answers.
 */
export class ApiClient {
  private agent: ReturnType<RequestContext['getAgent']>;

  private constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly configuration: Configuration,
    private readonly server: ServerConfiguration<Record<string, string>>,
    readonly serverUrl: string,
    readonly contextName: string,
    private readonly options: Required<Omit<ApiClientOptions, 'timeoutMs'>> & { timeoutMs?: number },
  ) {}

  static async create(resolved: ResolvedKubeConfig, options: ApiClientOptions = {}): Promise<ApiClient> {
    const client = await import('@kubernetes/client-node');
    const server = new client.ServerConfiguration<Record<string, string>>(resolved.cluster.server, {});
    const configuration = client.createConfiguration({ baseServer: server, authMethods: { default: resolved.kubeConfig } });
    return new ApiClient(
      resolved.kubeConfig,
      configuration,
      server,
      resolved.cluster.server,
      resolved.contextName,
      { maxRetries: 3, maxRetryWaitMs: 30_000, pageSize: 500, ...options },
    );
  }

  /** One HTTP exchange through client-node, bounded by the request timeout. */
  private async send(method: HttpVerb, path: string, query: Record<string, string | undefined>, intent: RequestIntent, body?: unknown, contentType = 'application/json'): Promise<RawResponse> {
    const client = await import('@kubernetes/client-node');
    const ctx = this.server.makeRequestContext(path, client.HttpMethod[method]);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) ctx.setQueryParam(k, v);
    ctx.setHeaderParam('Accept', 'application/json');
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', contentType);
      ctx.setBody(JSON.stringify(body));
    }
    try {
      await this.kubeConfig.applySecurityAuthentication(ctx);
    } catch (err) {
      // An exec credential plugin that fails or is not installed, a client key or CA file that is gone.
      throw environmentError(`cannot get credentials for context "${this.contextName}": ${(err as Error).message}`, 'kubeconfig-credentials', [
        'Check the user of that context in the kubeconfig: its exec plugin (is the command installed and logged in?), token or certificate files.',
      ], err);
    }
    // client-node makes a new agent for every request, and with it a new TLS context and a full
    // handshake; keeping the first agent lets every later request resume its cached TLS session.
    this.agent ??= ctx.getAgent();
    if (this.agent !== undefined) ctx.setAgent(this.agent);
    const controller = new AbortController();
    const timeoutMs = this.options.timeoutMs;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(), timeoutMs);
    ctx.setSignal(controller.signal);
    try {
      const response = await this.configuration.httpApi.send(ctx).toPromise();
      const text = await response.body.text();
      return { status: response.httpStatusCode, headers: response.headers, text };
    } catch (err) {
      throw this.transportError(err, intent, controller.signal.aborted);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  private transportError(err: unknown, intent: RequestIntent, isTimeout: boolean): KnetError {
    const what = describeIntent(intent);
    const e = err as Error & { code?: string; errno?: string; type?: string; cause?: { code?: string } };
    const code = e.code ?? e.errno ?? e.cause?.code;
    if (isTimeout || e.name === 'AbortError' || e.type === 'aborted') {
      return environmentError(
        `${what}: the API server at ${this.serverUrl} did not answer within --request-timeout ${formatDuration(this.options.timeoutMs ?? 0)}`,
        'api-timeout',
        ['Raise --request-timeout (e.g. 2m) for a large or busy cluster, or narrow the scope with -n.', `Check the server is healthy: kubectl --context ${this.contextName} get --raw /readyz`],
        err,
      );
    }
    if (code !== undefined && TLS_CODES.has(code)) {
      const isCa = code !== 'CERT_HAS_EXPIRED' && code !== 'CERT_NOT_YET_VALID' && code !== 'ERR_TLS_CERT_ALTNAME_INVALID';
      return environmentError(
        `${what}: the TLS certificate of ${this.serverUrl} was refused (${code})`,
        'api-tls',
        isCa
          ? [`The server's certificate is not signed by the CA of context "${this.contextName}": check certificate-authority(-data) in the kubeconfig, or that it points at the right cluster.`]
          : [`The server's certificate is expired or names another host: check the server address of context "${this.contextName}" and the cluster's certificates.`],
        err,
      );
    }
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
      return environmentError(`${what}: cannot connect to the API server at ${this.serverUrl} (${code})`, 'api-unreachable', [
        `Is the cluster running, and is ${this.serverUrl} the right address for context "${this.contextName}"? Try: kubectl --context ${this.contextName} cluster-info`,
      ], err);
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return environmentError(`${what}: the API server's host name in ${this.serverUrl} does not resolve (${code})`, 'api-unreachable', [
        `Check the server address of context "${this.contextName}", and your DNS or VPN.`,
      ], err);
    }
    return environmentError(`${what}: request to ${this.serverUrl} failed: ${e.message ?? String(err)}`, 'api-unreachable', [
      `Check that the cluster of context "${this.contextName}" is reachable: kubectl --context ${this.contextName} cluster-info`,
    ], err);
  }

  private httpError(response: RawResponse, intent: RequestIntent): KnetError {
    const status = parseStatus(response.text);
    const said = status?.message ? `: ${status.message}` : '';
    const what = describeIntent(intent);
    const name = `${resourceName(intent.spec)}${intent.subresource !== undefined ? `/${intent.subresource}` : ''}`;
    switch (response.status) {
      case 401:
        return environmentError(`${what}: the API server rejected the credentials of context "${this.contextName}" (401 Unauthorized)${said}`, 'api-unauthorized', [
          'Log in again or refresh the token / client certificate of that context, e.g. with your cloud CLI.',
          `Check with: kubectl --context ${this.contextName} auth whoami`,
        ]);
      case 403: {
        const scope = intent.spec.isNamespaced && intent.namespace === undefined;
        const rule = `apiGroups: ["${intent.spec.group}"], resources: ["${intent.spec.plural}${intent.subresource !== undefined ? `/${intent.subresource}` : ''}"], verbs: ["${intent.verb}"]`;
        return environmentError(`RBAC forbids "${intent.verb} ${name}"${intent.spec.isNamespaced ? (scope ? ' cluster-wide' : ` in namespace ${intent.namespace}`) : ''} (403 Forbidden)${said}`, 'api-forbidden', [
          ...(scope ? ['Run with -n NAMESPACE instead of -A to read one namespace only.'] : []),
          `Or ask for a ${scope || !intent.spec.isNamespaced ? 'ClusterRole (with a ClusterRoleBinding)' : `Role in namespace ${intent.namespace}`} with the rule { ${rule} }.`,
          `Check with: kubectl --context ${this.contextName} auth can-i ${intent.verb} ${name}${scope ? ' -A' : intent.namespace !== undefined ? ` -n ${intent.namespace}` : ''}`,
        ]);
      }
      case 404:
        return environmentError(`${what}: not found (404)${said}`, 'api-not-found', [
          `The API server at ${this.serverUrl} does not serve ${apiVersionOf(intent.spec)} ${name}, or the object is gone.`,
        ]);
      case 409:
        return environmentError(`${what}: conflict (409)${said}`, 'api-conflict', ['The object changed while knet worked on it: run the command again.']);
      case 410:
        return environmentError(`${what}: the list's continue token expired (410 Gone)${said}`, 'api-expired', ['Run the command again.']);
      case 429:
        return environmentError(`${what}: the API server is still throttling after ${this.options.maxRetries} retries (429 Too Many Requests)${said}`, 'api-throttled', [
          'Wait a minute and run again, or narrow the scope with -n; API Priority and Fairness is limiting this user.',
        ]);
      default:
        if (response.status >= 500) {
          return environmentError(`${what}: the API server failed (${response.status}${status?.reason ? ` ${status.reason}` : ''})${said}`, 'api-server-error', [
            `The API server or one of its backends (etcd, an aggregated API) is unhealthy: kubectl --context ${this.contextName} get --raw '/readyz?verbose'`,
          ]);
        }
        return environmentError(`${what}: unexpected answer ${response.status}${said}`, 'api-error', []);
    }
  }

  /**
   * A request with kubectl's retry rule: 429, and 5xx answers that carry Retry-After, are retried
   * after the time the server asks for (bounded), a bounded number of times.
   */
  async request(method: HttpVerb, path: string, query: Record<string, string | undefined>, intent: RequestIntent, body?: unknown, contentType?: string): Promise<RawResponse> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.send(method, path, query, intent, body, contentType);
      if (response.status >= 200 && response.status < 300) return response;
      const status = parseStatus(response.text);
      const wait = retryAfterMs(response.headers, status);
      const isRetryable = response.status === 429 || (response.status >= 500 && wait !== undefined);
      if (!isRetryable || attempt >= this.options.maxRetries) throw this.httpError(response, intent);
      await sleep(Math.min(wait ?? 2 ** attempt * 500, this.options.maxRetryWaitMs));
    }
  }

  /** A 2xx body as JSON; anything else (an HTML login page of a proxy, say) is not the API server talking. */
  private parseBody<T>(response: RawResponse, intent: RequestIntent): T {
    try {
      return JSON.parse(response.text) as T;
    } catch {
      const start = response.text.slice(0, 60).replace(/\s+/g, ' ');
      throw environmentError(`${describeIntent(intent)}: ${this.serverUrl} answered with something that is not JSON ("${start}…")`, 'api-bad-response', [
        `Is ${this.serverUrl} the API server of context "${this.contextName}", and not a proxy or a web page in front of it?`,
      ]);
    }
  }

  /** GET one object; undefined when it does not exist. */
  async get(spec: ResourceSpec, namespace: string | undefined, name: string): Promise<ApiObject | undefined> {
    const intent: RequestIntent = { verb: 'get', spec, namespace, name };
    try {
      const response = await this.request('GET', resourcePath(spec, namespace, name), {}, intent);
      return withKind(spec, this.parseBody<ApiObject>(response, intent));
    } catch (err) {
      if ((err as KnetError).code === 'api-not-found') return undefined;
      throw err;
    }
  }

  /**
   * Every object of a resource, in one namespace or cluster-wide, page by page (`limit` and
   * `continue`). When the continue token expires (410 Gone: the list outlived etcd's compaction
   * window), the list starts again once from the beginning, as client-go's pager does.
   */
  async list(spec: ResourceSpec, namespace: string | undefined, options: { labelSelector?: string; fieldSelector?: string; onPage?: (items: number) => void } = {}): Promise<ApiObject[]> {
    const intent: RequestIntent = { verb: 'list', spec, namespace };
    const path = resourcePath(spec, namespace);
    let restarts = 0;
    for (;;) {
      const items: ApiObject[] = [];
      let token: string | undefined;
      let isExpired = false;
      do {
        const query = { limit: String(this.options.pageSize), continue: token, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
        let response: RawResponse;
        try {
          response = await this.request('GET', path, query, intent);
        } catch (err) {
          if (token !== undefined && restarts === 0 && (err as KnetError).code === 'api-expired') {
            isExpired = true;
            break;
          }
          throw err;
        }
        const page = this.parseBody<{ items?: ApiObject[] | null; metadata?: { continue?: string } }>(response, intent);
        for (const item of page.items ?? []) items.push(withKind(spec, item));
        options.onPage?.(page.items?.length ?? 0);
        token = page.metadata?.continue || undefined;
      } while (token !== undefined);
      if (!isExpired) return items;
      restarts++;
    }
  }

  /**
   * POST one object (knet creates only its own debug pods and DaemonSets, and access reviews). The
   * error keeps the API server's Status message, which for an admission rejection is the only reason.
   */
  async create(spec: ResourceSpec, namespace: string | undefined, body: unknown): Promise<ApiObject> {
    const intent: RequestIntent = { verb: 'create', spec, namespace };
    const response = await this.request('POST', resourcePath(spec, namespace), {}, intent, body);
    return this.parseBody<ApiObject>(response, intent);
  }

  /**
   * A strategic merge patch of one object's subresource; knet patches only `pods/NAME/ephemeralcontainers`
   * (the connection probe of `knet trace --probe`), the one way to add a container to a running pod.
   */
  async patchSubresource(spec: ResourceSpec, namespace: string, name: string, subresource: string, patch: unknown): Promise<ApiObject> {
    const intent: RequestIntent = { verb: 'patch', spec, namespace, name, subresource };
    const response = await this.request('PATCH', `${resourcePath(spec, namespace, name)}/${subresource}`, {}, intent, patch, 'application/strategic-merge-patch+json');
    return this.parseBody<ApiObject>(response, intent);
  }

  async delete(spec: ResourceSpec, namespace: string, name: string, query: Record<string, string | undefined> = {}): Promise<'deleted' | 'gone'> {
    const intent: RequestIntent = { verb: 'delete', spec, namespace, name };
    try {
      await this.request('DELETE', resourcePath(spec, namespace, name), query, intent);
      return 'deleted';
    } catch (err) {
      if ((err as KnetError).code === 'api-not-found') return 'gone';
      throw err;
    }
  }
}

/**
 * An object as `kubectl get -o yaml` prints it: list items come without apiVersion and kind, and
 * kubectl puts them back, first; it also leaves out metadata.managedFields (server-side apply
 * bookkeeping). knet does the same, so that a live object equals the same object in a snapshot.
 */
export function withKind(spec: ResourceSpec, item: ApiObject): ApiObject {
  const { apiVersion: _a, kind: _k, ...rest } = item;
  if (rest.metadata && 'managedFields' in rest.metadata) {
    const { managedFields: _m, ...metadata } = rest.metadata;
    rest.metadata = metadata;
  }
  return { apiVersion: apiVersionOf(spec), kind: spec.kind, ...rest };
}
