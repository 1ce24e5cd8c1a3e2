import type { FastifyBaseLogger } from 'fastify';
import type { StoreConfig } from '../config/types.js';
import { MemoryStore } from './memory.js';
import { connectRedis, RedisStore } from './redis.js';
import type { SessionStore } from './store.js';

/** The store the configuration names. */
export function createStore(config: StoreConfig, log: FastifyBaseLogger): SessionStore {
  if (config.url === 'memory') {
    log.warn('store.url is "memory": sessions live in this process only; run a single instance');
    return new MemoryStore();
  }
  return new RedisStore(connectRedis(config), config.keyPrefix);
}
