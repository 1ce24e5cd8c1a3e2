import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestPki } from './certs.js';
import { freePort } from './free-port.js';
import { parseInfo, startDataNode, startSentinelNode, tempRoot, waitFor, type RedisProcess } from './redis-process.js';

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

/** A Sentinel deployment over TLS: a master, a replica and one sentinel, each with a TLS port. */
export interface TlsSentinel {
  /** the sentinel's TLS address, for store.sentinel.nodes */
  nodes: string[];
  name: string;
  close(): Promise<void>;
}

export async function startTlsSentinel(pki: TestPki): Promise<TlsSentinel> {
  const root = tempRoot('bff-sentinel-tls-');
  const processes: RedisProcess[] = [];
  const server = pki.issue(`redis-sentinel-${Date.now()}`);
  const tlsArgs = ['--tls-cert-file', server.cert, '--tls-key-file', server.key, '--tls-ca-cert-file', pki.ca, '--tls-auth-clients', 'no', '--tls-replication', 'yes'];
  const close = async () => {
    await Promise.all(processes.map((p) => p.kill()));
    root.remove();
  };
  try {
    const masterTls = await freePort();
    processes.push(await startDataNode(root.dir, ['--tls-port', String(masterTls), ...tlsArgs]));
    const replicaTls = await freePort();
    processes.push(await startDataNode(root.dir, ['--tls-port', String(replicaTls), ...tlsArgs, '--replicaof', '127.0.0.1', String(masterTls)]));
    const sentinelTls = await freePort();
    const conf = [];
    for (let i = 0; i < tlsArgs.length; i += 2) conf.push(`${tlsArgs[i]!.slice(2)} ${tlsArgs[i + 1]}`);
    const sentinel = await startSentinelNode(root.dir, [
      `tls-port ${sentinelTls}`,
      ...conf,
      `sentinel monitor mymaster 127.0.0.1 ${masterTls} 1`,
      'sentinel down-after-milliseconds mymaster 2000',
    ]);
    processes.push(sentinel);
    return { nodes: [`127.0.0.1:${sentinelTls}`], name: 'mymaster', close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A Redis Cluster over TLS (tls-cluster: the bus too): three masters, created through their TLS ports. */
export async function startTlsCluster(pki: TestPki): Promise<{ nodes: string[]; close(): Promise<void> }> {
  const root = tempRoot('bff-cluster-tls-');
  const processes: RedisProcess[] = [];
  const server = pki.issue(`redis-cluster-${Date.now()}`, { usage: 'both' });
  const close = async () => {
    await Promise.all(processes.map((p) => p.kill()));
    root.remove();
  };
  try {
    const nodes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const tlsPort = await freePort();
      processes.push(await startDataNode(root.dir, [
        '--tls-port', String(tlsPort), '--tls-cert-file', server.cert, '--tls-key-file', server.key, '--tls-ca-cert-file', pki.ca,
        '--tls-auth-clients', 'no', '--tls-replication', 'yes', '--tls-cluster', 'yes',
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000',
      ]));
      nodes.push(`127.0.0.1:${tlsPort}`);
    }
    // created through the plain ports (the bus port is the plain port + 10000); with
    // tls-cluster the nodes then announce their TLS ports to TLS clients
    const plain = processes.map((p) => p.address);
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...plain, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 });
    const clients = processes.map((p) => p.client());
    for (const client of clients) {
      await waitFor('cluster_state:ok on every node', 15_000, async () =>
        parseInfo(String(await client.call('CLUSTER', 'INFO')))['cluster_state'] === 'ok' ? true : undefined,
      );
    }
    return { nodes, close };
  } catch (e) {
    await close();
    throw e;
  }
}
