import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TestCerts {
  /** A temporary directory for the files a test writes beside them (kubeconfigs). */
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** A second CA that did not sign the server certificate: for the "wrong CA" case. */
  otherCaCert: string;
  remove(): Promise<void>;
}

/** test/fixtures/tls, found upwards from this module: it also runs bundled into bench/.data (bench/lib.mjs). */
function fixturesDir(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'test/fixtures/tls');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`test/fixtures/tls not found above ${import.meta.dirname}`);
  }
}

const read = (file: string): string => readFileSync(join(fixturesDir(), file), 'utf8');

/**
 * A CA and a server certificate for 127.0.0.1 signed by it, as a kubeadm cluster's apiserver
 * certificate is (SAN IP:127.0.0.1), and a second CA. They are made once and kept in
 * test/fixtures/tls (its README says how), so that the tests need no openssl.
 */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'knet-certs-'));
  return {
    dir,
    caCert: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    otherCaCert: read('other-ca.crt'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
