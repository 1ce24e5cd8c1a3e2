import type { Redis } from 'ioredis';
import { parseInfo, tempRoot, startDataNode, startSentinelNode, waitFor, type RedisProcess } from './redis-process.js';

// A real Sentinel deployment on loopback: a master, one replica and one or three sentinels,
// each a redis-server on a free port in one temp dir. failover() forces a failover and
// waits until every sentinel names the new master; close() kills everything.

export const SENTINEL_MASTER_NAME = 'mymaster';

export interface TestSentinel {
  name: string;
  /** the sentinels, "127.0.0.1:<port>", as store.sentinel.nodes takes them */
  nodes: string[];
  /** the master's port, as the first sentinel reports it */
  masterPort(): Promise<number>;
  /** a plain client on the current master (disconnected on close) */
  masterClient(): Promise<Redis>;
  /** Block until the replica has acknowledged every write made so far (WAIT), or throw. */
  syncReplica(): Promise<void>;
  /** Force a failover; resolves when every sentinel reports the promoted replica as master. */
  failover(): Promise<{ from: number; to: number }>;
  close(): Promise<void>;
}

export async function startSentinel(opts: { sentinels?: 1 | 3 } = {}): Promise<TestSentinel> {
  const { dir: root, remove } = tempRoot('bff-sentinel-');
  const processes: RedisProcess[] = [];
  const close = async () => {
    await Promise.all(processes.map((p) => p.kill()));
    remove();
  };
  try {
    const master = await startDataNode(root);
    processes.push(master);
    const replica = await startDataNode(root, ['--replicaof', '127.0.0.1', String(master.port)]);
    processes.push(replica);
    const dataNodes = [master, replica];
    const replicaClient = replica.client();
    await waitFor('the replica to sync', 10_000, async () =>
      parseInfo(await replicaClient.info('replication'))['master_link_status'] === 'up' ? true : undefined,
    );

    const count = opts.sentinels ?? 1;
    const quorum = count === 1 ? 1 : 2;
    const sentinels: RedisProcess[] = [];
    for (let i = 0; i < count; i++) {
      const s = await startSentinelNode(root, [
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${master.port} ${quorum}`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 2000`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
      ]);
      processes.push(s);
      sentinels.push(s);
    }
    const sentinelClients = sentinels.map((s) => s.client());
    // A failover needs a replica the sentinels have seen, connected and in sync.
    for (const client of sentinelClients) {
      await waitFor('the sentinels to see the replica', 15_000, async () => (await goodReplica(client)) ? true : undefined);
    }

    const masterPort = async (client = sentinelClients[0]!) => {
      const addr = (await client.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER_NAME)) as string[] | null;
      if (!addr?.[1]) throw new Error('no master known to the sentinel');
      return Number(addr[1]);
    };
    const clientOf = async () => {
      const port = await masterPort();
      const node = dataNodes.find((n) => n.port === port);
      if (!node) throw new Error(`the sentinel names an unknown master on port ${port}`);
      return node.client();
    };

    return {
      name: SENTINEL_MASTER_NAME,
      nodes: sentinels.map((s) => s.address),
      masterPort: () => masterPort(),
      masterClient: clientOf,
      async syncReplica() {
        const client = await clientOf();
        // after a failover the demoted master rejoins as a replica only once the sentinels
        // reconfigure it: wait for an online replica first
        await waitFor('a replica online at the master', 20_000, async () =>
          /slave0:.*state=online/.test(await client.info('replication')) ? true : undefined,
        );
        // WAIT counts the acknowledgements of this connection's own writes, so write first:
        // the replication stream is ordered, so this one acked means every earlier one is.
        await client.set('test:replication-marker', String(Date.now()));
        const acked = Number(await client.call('WAIT', '1', '5000'));
        if (acked < 1) throw new Error('the replica did not acknowledge the writes within 5 s');
      },
      async failover() {
        const from = await masterPort();
        const switched = async () => {
          const ports = await Promise.all(sentinelClients.map((c) => masterPort(c)));
          return ports.every((p) => p !== from && p === ports[0]) ? ports[0] : undefined;
        };
        let to: number | undefined;
        // a failover Sentinel aborts (its failover-timeout is 10 s) is asked for once more
        for (let attempt = 1; to === undefined; attempt++) {
          await waitFor('the sentinel to accept SENTINEL FAILOVER', 15_000, async () => {
            // the first try may have gone through late: never ask for a second switch
            if (attempt > 1 && (to = await switched()) !== undefined) return true;
            try {
              return await sentinelClients[0]!.call('SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME);
            } catch (e) {
              // NOGOODSLAVE / INPROG: not yet; anything else is a real failure
              if (/NOGOODSLAVE|INPROG/.test(String(e))) return undefined;
              throw e;
            }
          });
          to ??= await waitFor('every sentinel to report the new master', 15_000, switched).catch((e: unknown) => {
            if (attempt >= 2) throw e;
            return undefined;
          });
        }
        const promoted = dataNodes.find((n) => n.port === to)!.client();
        await waitFor('the promoted replica to be master', 10_000, async () =>
          parseInfo(await promoted.info('replication'))['role'] === 'master' ? true : undefined,
        );
        return { from, to };
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** True when the sentinel lists a replica that is up, linked to its master and recently seen. */
async function goodReplica(sentinel: Redis): Promise<boolean> {
  const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)) as string[][];
  return replicas.some((flat) => {
    const r = Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : [])));
    return r['flags'] === 'slave' && r['master-link-status'] === 'ok';
  });
}
