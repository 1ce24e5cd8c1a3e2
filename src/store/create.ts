import type { FastifyBaseLogger } from 'fastify';
import type { StoreConfig } from '../config/types.js';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import { connectRedis } from './redis-connect.js';
import type { SessionStore } from './store.js';

/** The store the configuration names. */
export function createStore(config: StoreConfig, log: FastifyBaseLogger): SessionStore {
  if (config.url === 'memory') {
    log.warn('store.url is "memory": sessions live in this process only; run a single instance');
    return new MemoryStore();
  }
  // with Sentinel a replica is there to take over: refreshed tokens wait until it has them
  return new RedisStore(connectRedis(config), config.keyPrefix, config.sentinel ? 3_000 : 0);
}
