import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { StoreConfig } from '../config/types.js';
import { redisTls } from '../tls/redis-tls.js';

// The ioredis client for each store mode: standalone URL, Sentinel, or Cluster.
//
// Everywhere: fail fast while Redis is away, recover by itself. No offline queue (a command
// sent while disconnected is refused at once), a command timeout, no per-request retries:
// callers get a 503 within about a second instead of piling up. Reconnection goes on in the
// background for ever, with a capped backoff.

const COMMAND_TIMEOUT_MS = 1_000;
const CONNECT_TIMEOUT_MS = 2_000;
// capped at 250 ms: after an outage every instance is back within it (see RedisStore's settling)
const backoff = (times: number): number => Math.min(times * 50, 250);

const failFast: RedisOptions = {
  enableOfflineQueue: false,
  commandTimeout: COMMAND_TIMEOUT_MS,
  connectTimeout: CONNECT_TIMEOUT_MS,
  maxRetriesPerRequest: 0,
  retryStrategy: backoff,
  // A node that turned replica (a Sentinel failover, or a DNS name that moved to a new
  // primary) answers writes with READONLY: drop the connection so the next one finds the
  // primary. The failed command is rejected (→ 503), not resent: it did not run.
  reconnectOnError: (error) => error.message.includes('READONLY'),
};

export function connectRedis(config: StoreConfig): Redis | Cluster {
  if (config.tls === undefined) return connect(config, undefined);
  // store.tls: every connection (sentinels, primary, replicas, cluster nodes) over TLS
  const tls = redisTls(config.tls);
  const client = connect(config, tls.options);
  client.once('end', () => tls.release());
  return client;
}

function connect(config: StoreConfig, tls: ConnectionOptions | undefined): Redis | Cluster {
  const withTls = tls === undefined ? {} : { tls };
  if (config.cluster) {
    const options = clusterOptions(config.cluster.password);
    options.redisOptions = { ...options.redisOptions, ...withTls };
    return new Cluster(config.cluster.nodes.map(parseHostPort), options);
  }
  if (config.sentinel) {
    const { name, nodes, password, sentinelPassword } = config.sentinel;
    return new Redis({
      ...failFast,
      sentinels: nodes.map(parseHostPort),
      name,
      password,
      sentinelPassword,
      sentinelRetryStrategy: backoff,
      sentinelCommandTimeout: COMMAND_TIMEOUT_MS,
      // Subscribe to +switch-master on the sentinels and reconnect as soon as one announces a
      // failover. Without it a client stays on the old primary, which keeps accepting (and
      // later loses) writes until Sentinel demotes it seconds later.
      failoverDetector: true,
      sentinelReconnectStrategy: () => 2_000,
      ...(tls === undefined ? {} : { tls, sentinelTLS: tls, enableTLSForSentinelMode: true }),
    });
  }
  return new Redis(config.url ?? 'redis://127.0.0.1:6379', { ...failFast, ...withTls });
}

function clusterOptions(password: string | undefined): ClusterOptions {
  return {
    enableOfflineQueue: false,
    scaleReads: 'master', // the session read slides the TTL: it writes
    clusterRetryStrategy: backoff,
    // MOVED and ASK are followed by ioredis. CLUSTERDOWN and TRYAGAIN are retried briefly
    // (they last while a slot migrates or a failover settles), then fail as store-unavailable;
    // all of them count against maxRedirections, so a command gives up within ~1 s.
    maxRedirections: 8,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    retryDelayOnFailover: 100,
    slotsRefreshTimeout: COMMAND_TIMEOUT_MS,
    // Per-node connections. ioredis forces their offline queue on and their retryStrategy off
    // (a lost node is dropped and the slot map refreshed), so only these apply.
    redisOptions: {
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      password,
    },
  };
}

function parseHostPort(node: string): { host: string; port: number } {
  const i = node.lastIndexOf(':');
  return { host: node.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(node.slice(i + 1)) };
}
