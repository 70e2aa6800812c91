// Port-forward for the test API server (its `subresources` option), as kube-apiserver and the kubelet
// speak it over WebSocket with v4.channel.k8s.io: for the i-th port of `?ports=`, channel 2i carries data
// and 2i+1 errors; the server's first frame on each channel is the port as 2 bytes, little-endian; one
// WebSocket is one TCP connection. Each connection is relayed to a real local TCP port the test chooses
// (a bind9 on 127.0.0.1), standing in for the pod's network namespace, which cannot exist here.
import { connect, type Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import type { RecordedRequest, SubresourceHandler } from './api-server.js';

/** Where the connection to `port` of the pod `req` names really goes; undefined: nothing listens there. */
export type RelayTarget = (req: RecordedRequest, port: number) => { host: string; port: number } | undefined;

function frame(channel: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([channel]), payload]);
}

function portBytes(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port, 0);
  return b;
}

export interface PortForwardLog {
  /** Every connection relayed, as `NS/POD:PORT`. */
  connections: string[];
}

export function portForwardHandler(relay: RelayTarget, log: PortForwardLog = { connections: [] }): SubresourceHandler {
  return (req: RecordedRequest, ws: WebSocket) => {
    const ports = (req.query.get('ports') ?? '').split(',').filter(Boolean).map(Number);
    if (!ports.length || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
      ws.close(1011, 'invalid ports');
      return;
    }
    const conns: (Socket | undefined)[] = ports.map((port, i) => {
      ws.send(frame(2 * i, portBytes(port)));
      ws.send(frame(2 * i + 1, portBytes(port)));
      const target = relay(req, port);
      log.connections.push(`${req.namespace}/${req.name}:${port}`);
      if (!target) {
        ws.send(frame(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${req.name}: connection refused`)));
        return undefined;
      }
      const sock = connect(target);
      sock.on('data', (d: Buffer) => ws.send(frame(2 * i, d)));
      sock.on('error', (err: NodeJS.ErrnoException) => ws.send(frame(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${req.name}: ${err.code ?? err.message}`))));
      sock.on('close', () => ws.close());
      return sock;
    });
    ws.on('message', (raw: RawData) => {
      const data = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
      const channel = data[0];
      if (channel === undefined || channel % 2 !== 0) return;
      conns[channel / 2]?.write(data.subarray(1));
    });
    ws.on('close', () => conns.forEach((c) => c?.destroy()));
  };
}
