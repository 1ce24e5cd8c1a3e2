import type { Server } from 'node:http';
import type { FastifyHttpOptions } from 'fastify';
import type { ServerConfig } from './config/types.js';
import { answerClientError } from './observability/client-errors.js';

// The public listener's limits on its clients (see docs/architecture.md, "Slow clients").
// Node enforces requestTimeout and headersTimeout by a check that runs every
// connectionsCheckingInterval (30 s by default, far coarser than the timeouts themselves),
// so the interval is tied to the timeout here.

/** the request head must be in within this (or requestTimeout, when that is shorter) */
const HEADERS_TIMEOUT_MS = 20_000;
/** above a load balancer's usual 60 s idle timeout, so the balancer always closes first */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

export function serverLimits(server: ServerConfig): Partial<FastifyHttpOptions<Server>> {
  const requestTimeout = server.requestTimeoutMs;
  return {
    requestTimeout,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // no idle timeout on a connection in the middle of an answer: a stream may be quiet for
    // as long as its route's timeout allows
    connectionTimeout: 0,
    http: {
      requestTimeout,
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeout),
      connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(requestTimeout / 4))),
    },
    clientErrorHandler: answerClientError,
  };
}
