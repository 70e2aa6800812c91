// TCP DNS to each cluster DNS replica through the API server's port-forward, as `kubectl port-forward`
// reaches a pod: a WebSocket to pods/NAME/portforward speaking v4.channel.k8s.io. Channel 0 carries the
// port's data and channel 1 its errors; the server's first frame on each is the port as 2 bytes,
// little-endian. One WebSocket is one TCP connection, so each query opens its own.
import type { ClientOptions, RawData, WebSocket as WsSocket } from 'ws';
import { performance } from 'node:perf_hooks';
import type { DnsExchange, DnsTransport, TransportReply } from '../../dns/wire.js';
import type { Cluster } from '../../model/cluster.js';
import type { EndpointSlice } from '../../model/k8s.js';
import type { SourceOptions } from '../cluster.js';
import { loadKubeConfig, type ResolvedKubeConfig } from './kubeconfig.js';

interface Target {
  namespace: string;
  pod: string;
  port: number;
}

/** The ready endpoints of kube-system/kube-dns that are pods, with the TCP port DNS listens on there. */
export function kubeDnsTargets(cluster: Cluster): { server: string; target: Target }[] {
  const slices: EndpointSlice[] = cluster.endpointSlices.filter(
    (s) => s.metadata.namespace === 'kube-system' && s.metadata.labels?.['kubernetes.io/service-name'] === 'kube-dns',
  );
  const out = new Map<string, { server: string; target: Target }>();
  for (const slice of slices) {
    const port = slice.ports?.find((p) => p.protocol === 'TCP' && (p.name === 'dns-tcp' || p.port === 53))?.port ?? 53;
    for (const e of slice.endpoints ?? []) {
      if (e.conditions?.ready === false || e.targetRef?.kind !== 'Pod' || !e.targetRef.name) continue;
      const namespace = e.targetRef.namespace ?? 'kube-system';
      const server = `${namespace}/${e.targetRef.name}:${port}`;
      out.set(server, { server, target: { namespace, pod: e.targetRef.name, port } });
    }
  }
  return [...out.values()].sort((a, b) => a.server.localeCompare(b.server));
}

function toBuffer(data: RawData): Buffer {
  return Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

export class PortForwardDnsTransport implements DnsTransport {
  private nextQueryId = Math.floor(Math.random() * 65536);

  constructor(
    private readonly kube: ResolvedKubeConfig,
    private readonly targets: ReadonlyMap<string, Target>,
    private readonly timeoutMs: number,
  ) {}

  nextId = (): number => (this.nextQueryId = (this.nextQueryId + 1) % 65536);

  async exchange(q: DnsExchange): Promise<TransportReply> {
    const start = performance.now();
    const target = this.targets.get(q.server);
    if (!target) return { kind: 'error', ms: 0, detail: `no port-forward target ${q.server}` };
    const { WebSocket } = await import('ws');
    const options: ClientOptions = { handshakeTimeout: this.timeoutMs };
    // Credentials and TLS exactly as the kubeconfig says (tokens, client certificates, exec plugins).
    await this.kube.kubeConfig.applyToHTTPSOptions(options);
    const base = this.kube.cluster.server.replace(/^http/, 'ws').replace(/\/$/, '');
    const url = `${base}/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/portforward?ports=${target.port}`;
    return new Promise<TransportReply>((resolve) => {
      let settled = false;
      const ws: WsSocket = new WebSocket(url, ['v4.channel.k8s.io'], options);
      const seenPort = [false, false];
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (r: TransportReply): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        resolve({ ...r, ms: performance.now() - start });
      };
      const timer = setTimeout(() => finish({ kind: 'timeout', ms: 0, detail: `no reply through the port-forward within ${this.timeoutMs} ms` }), this.timeoutMs);
      ws.on('open', () => {
        const frame = Buffer.alloc(3 + q.message.length);
        frame[0] = 0;
        frame.writeUInt16BE(q.message.length, 1);
        frame.set(q.message, 3);
        ws.send(frame);
      });
      ws.on('message', (raw: RawData) => {
        const data = toBuffer(raw);
        if (data.length < 1) return;
        const channel = data[0]!;
        let payload = data.subarray(1);
        if (channel > 1) return;
        if (!seenPort[channel]) {
          // The first frame on each channel names the port: skip its two bytes.
          seenPort[channel] = true;
          payload = payload.subarray(2);
        }
        if (!payload.length) return;
        if (channel === 1) return finish({ kind: 'error', ms: 0, detail: `port-forward to ${q.server}: ${payload.toString('utf8').trim()}` });
        chunks.push(payload);
        size += payload.length;
        if (size < 2) return;
        const all = Buffer.concat(chunks);
        const length = all.readUInt16BE(0);
        if (all.length >= 2 + length) finish({ kind: 'reply', ms: 0, message: new Uint8Array(all.subarray(2, 2 + length)) });
      });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString('utf8')));
        res.on('end', () => {
          let message = body.trim();
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? message;
          } catch {
            // Not a Status object: keep the text.
          }
          finish({ kind: 'error', ms: 0, detail: `port-forward to ${q.server} refused (HTTP ${res.statusCode ?? '?'})${message ? `: ${message}` : ''}${res.statusCode === 403 ? ' (needs RBAC create pods/portforward, and get on older API servers)' : ''}` });
        });
      });
      ws.on('error', (err) => finish({ kind: 'error', ms: 0, detail: `port-forward to ${q.server}: ${err.message}` }));
      ws.on('close', () => finish({ kind: 'error', ms: 0, detail: `port-forward to ${q.server} closed after ${size} bytes, before a whole reply` }));
    });
  }
}

export async function openKubeDnsPortForward(
  source: SourceOptions,
  cluster: Cluster,
  o: { timeoutMs: number },
): Promise<{ transport: DnsTransport; servers: string[]; nextId: () => number; close: () => void }> {
  const kube = await loadKubeConfig({ kubeconfig: source.kubeconfig, context: source.context });
  const targets = kubeDnsTargets(cluster);
  const transport = new PortForwardDnsTransport(kube, new Map(targets.map((t) => [t.server, t.target])), o.timeoutMs);
  return { transport, servers: targets.map((t) => t.server), nextId: transport.nextId, close: () => undefined };
}
