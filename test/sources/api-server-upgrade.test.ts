// The test API server's WebSocket plumbing, which exec and port-forward tests build on: bearer token,
// subprotocol choice from the client's offer, 404 for an unknown pod or subresource.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestApiServer, type TestApiServer } from '../support/api-server.js';
import { examplesDir } from '../support/cli.js';

let server: TestApiServer;

beforeAll(async () => {
  server = await startTestApiServer({
    snapshot: join(examplesDir, 'demo'),
    subresources: { exec: { protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io'], handle: (_req, ws) => ws.send(Buffer.from([1, 0x68, 0x69])) } },
  });
});
afterAll(() => server.close());

function open(path: string, token: string, protocols: string[]): Promise<{ protocol?: string; data?: Buffer; error?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss${server.url.slice('https'.length)}${path}`, protocols, { ca: server.certs.caCert, headers: { authorization: `Bearer ${token}` } });
    ws.on('message', (data: Buffer) => {
      resolve({ protocol: ws.protocol, data });
      ws.close();
    });
    ws.on('error', (err) => resolve({ error: err.message }));
  });
}

describe('WebSocket subresources of the test API server', () => {
  const pod = '/api/v1/namespaces/default/pods/POD/exec?command=true&stdout=true';
  let name: string;
  beforeAll(() => {
    name = server.store.get('pods')!.find((p) => p.metadata.namespace === 'default')!.metadata.name;
  });

  it('chooses the best subprotocol both sides know and hands the socket to the handler', async () => {
    const got = await open(pod.replace('POD', name), server.token, ['v4.channel.k8s.io', 'v5.channel.k8s.io', 'channel.k8s.io']);
    expect(got.protocol).toBe('v5.channel.k8s.io');
    expect([...got.data!]).toEqual([1, 0x68, 0x69]);
  });

  it.each([
    ['a wrong token', pod, 'nope', '401'],
    ['a pod that does not exist', pod.replace('POD', 'no-such-pod'), undefined, '404'],
    ['a subresource not served', pod.replace('POD/exec', 'POD/attach'), undefined, '404'],
  ])('refuses %s', async (_what, path, token, code) => {
    const got = await open(path.replace('POD', name), token ?? server.token, ['v4.channel.k8s.io']);
    expect(got.error).toContain(code);
  });
});
