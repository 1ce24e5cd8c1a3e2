import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import { randomUUID } from 'node:crypto';
import { LoginTransactions } from './auth/login-transactions.js';
import { authRoutes } from './auth/routes.js';
import type { GatewayConfig } from './config/types.js';
import type { GatewayContext } from './context.js';
import { IdpClient } from './oidc/idp-client.js';
import { installErrorHandler } from './observability/error-handler.js';
import { healthRoutes } from './observability/health.js';
import { loggerOptions } from './observability/logger.js';
import { GatewayMetrics } from './observability/metrics.js';
import { registerRoute } from './proxy/route.js';
import { unsupportedRouteFeatures } from './proxy/unsupported.js';
import { SessionCipher } from './session/cipher.js';
import { SessionCookies } from './session/cookies.js';
import { Sessions } from './session/sessions.js';
import { createStore } from './store/create.js';
import type { SessionStore } from './store/store.js';
import { RefreshLock } from './tokens/refresh-lock.js';
import { SessionTokens } from './tokens/session-tokens.js';

export interface AppOptions {
  /** where logs go (default stdout); tests capture them here */
  logStream?: DestinationStream;
  logLevel?: string;
  /** a store to use instead of the configured one */
  store?: SessionStore;
  /** the refresh lock's lease; the default suits production */
  lockLeaseMs?: number;
  /** collect Node process metrics (off in tests that build many apps) */
  processMetrics?: boolean;
}

/**
 * The gateway as a fastify instance, not yet listening: discovery has run, the store is
 * connected, every route is registered. `app.close()` releases everything it opened.
 */
export async function buildApp(config: GatewayConfig, options: AppOptions = {}): Promise<FastifyInstance> {
  const unsupported = unsupportedRouteFeatures(config);
  if (unsupported.length > 0) throw new Error(unsupported.join('\n'));
  const app = Fastify({
    logger: loggerOptions({ level: options.logLevel, stream: options.logStream }),
    // fastify accepts a hop count too, though its type does not say so
    trustProxy: config.server.trustProxy as FastifyServerOptions['trustProxy'],
    genReqId: () => randomUUID(),
    bodyLimit: 1024 * 1024,
  });
  const store = options.store ?? createStore(config.store, app.log);
  app.addHook('onClose', () => store.close());
  try {
    await store.ping().catch((err: unknown) => {
      app.log.warn({ err: String(err) }, 'the session store does not answer yet; calls get 503 until it does');
    });
    const ctx = await context(config, store, options);
    installErrorHandler(app);
    app.addHook('onResponse', async (request, reply) => {
      const route = (request.routeOptions.config as { routeLabel?: string }).routeLabel ?? request.routeOptions.url ?? 'unmatched';
      ctx.metrics.httpRequests.inc({ route, status: String(reply.statusCode) });
    });
    await app.register(cookie, { secret: config.session.secrets });
    healthRoutes(app, ctx);
    authRoutes(app, ctx);
    for (const route of config.routes) await registerRoute(app, ctx, route);
    await app.ready();
    return app;
  } catch (e) {
    await app.close();
    throw e;
  }
}

async function context(config: GatewayConfig, store: SessionStore, options: AppOptions): Promise<GatewayContext> {
  const idp = await IdpClient.discover(config.oidc, config.server.publicUrl);
  const cipher = new SessionCipher(config.session.encryptionKeys);
  const sessions = new Sessions(store, cipher, config.session);
  const metrics = new GatewayMetrics({ processMetrics: options.processMetrics ?? true });
  const leaseMs = options.lockLeaseMs ?? 5_000;
  const lock = new RefreshLock(store, { leaseMs, pollMs: 25 });
  const tokens = new SessionTokens(sessions, idp, lock, metrics, {
    refreshBeforeMs: config.oidc.refreshBeforeMs,
    maxWaitMs: 15_000,
  });
  return {
    config,
    store,
    sessions,
    cookies: new SessionCookies(config),
    idp,
    logins: new LoginTransactions(store, cipher),
    tokens,
    metrics,
  };
}
