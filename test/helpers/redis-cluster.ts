import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { parseInfo, tempRoot, startDataNode, waitFor, type RedisProcess } from './redis-process.js';

// A real Redis Cluster on loopback: three masters (no replicas), each a redis-server with
// cluster-enabled on a free port, joined by `redis-cli --cluster create`. close() kills them.

export interface TestCluster {
  /** "127.0.0.1:<port>" of every master, as store.cluster.nodes takes them */
  nodes: string[];
  /** a plain (non-cluster) client on each master, in the order of `nodes` */
  clients(): Redis[];
  /** SIGKILL the master at this index of `nodes` (its slots are lost: the cluster goes down) */
  killNode(index: number): Promise<void>;
  close(): Promise<void>;
}

const run = promisify(execFile);

export async function startCluster(): Promise<TestCluster> {
  const { dir: root, remove } = tempRoot('bff-cluster-');
  const processes: RedisProcess[] = [];
  const close = async () => {
    await Promise.all(processes.map((p) => p.kill()));
    remove();
  };
  try {
    for (let i = 0; i < 3; i++) {
      processes.push(
        await startDataNode(root, ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000']),
      );
    }
    const nodes = processes.map((p) => p.address);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 20_000,
    });
    const clients = processes.map((p) => p.client());
    for (const client of clients) {
      await waitFor('cluster_state:ok on every node', 15_000, async () =>
        parseInfo(String(await client.call('CLUSTER', 'INFO')))['cluster_state'] === 'ok' ? true : undefined,
      );
    }
    return { nodes, clients: () => clients, killNode: (index) => processes[index]!.kill(), close };
  } catch (e) {
    await close();
    throw e;
  }
}
