import type { TestPki } from './certs.js';
import { freePort } from './free-port.js';
import { startDataNode, tempRoot, type RedisProcess } from './redis-process.js';

// A redis-server serving TLS (Debian's build has it) on a port of its own, with its plain
// port kept for the helpers' readiness check and for inspection. Its certificate is signed
// by the test CA; with `authClients` it demands a client certificate signed by that CA.

export interface TlsRedis {
  /** rediss://127.0.0.1:<tls port> */
  url: string;
  node: RedisProcess;
  close(): Promise<void>;
}

export async function startTlsRedis(pki: TestPki, opts: { authClients: boolean }): Promise<TlsRedis> {
  const root = tempRoot('bff-redis-tls-');
  const server = pki.issue(`redis-${Date.now()}`);
  const tlsPort = await freePort();
  const node = await startDataNode(root.dir, [
    '--tls-port', String(tlsPort),
    '--tls-cert-file', server.cert,
    '--tls-key-file', server.key,
    '--tls-ca-cert-file', pki.ca,
    '--tls-auth-clients', opts.authClients ? 'yes' : 'no',
  ]);
  return {
    url: `rediss://127.0.0.1:${tlsPort}`,
    node,
    async close() {
      await node.kill();
      root.remove();
    },
  };
}
