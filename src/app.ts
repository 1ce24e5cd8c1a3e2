import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import { randomUUID } from 'node:crypto';
import { LoginTransactions } from './auth/login-transactions.js';
import { authRoutes } from './auth/routes.js';
import type { GatewayConfig } from './config/types.js';
import type { GatewayContext } from './context.js';
import { IdpClient } from './oidc/idp-client.js';
import { LogoutTokenVerifier } from './oidc/logout-token.js';
import { installErrorHandler } from './observability/error-handler.js';
import { healthRoutes } from './observability/health.js';
import { installAccessLog, OneLinePerRequest } from './observability/access-log.js';
import { lazyChildLogger } from './observability/lazy-child-logger.js';
import { loggerOptions } from './observability/logger.js';
import { GatewayMetrics } from './observability/metrics.js';
import { registerRoute } from './proxy/route.js';
import { registerSoapRoute } from './proxy/soap-route.js';
import { SessionCipher } from './session/cipher.js';
import { SessionCookies } from './session/cookies.js';
import { SessionCache } from './session/session-cache.js';
import { Sessions } from './session/sessions.js';
import { createStore } from './store/create.js';
import type { SessionStore } from './store/store.js';
import { ExchangedTokens } from './tokens/exchange.js';
import { RefreshLock } from './tokens/refresh-lock.js';
import { ServiceTokens } from './tokens/service-tokens.js';
import { SessionTokens } from './tokens/session-tokens.js';

/** how long a decoded session serves the calls of a burst (see session-cache.ts) */
const SESSION_CACHE_MS = 1_000;
const SESSION_CACHE_ENTRIES = 10_000;

/** how long shutdown waits for refreshes in flight to write their tokens (see RefreshLock.drain) */
const SHUTDOWN_REFRESH_WAIT_MS = 5_000;

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
  const app = Fastify({
    logger: loggerOptions({ level: options.logLevel, stream: options.logStream }),
    // fastify accepts a hop count too, though its type does not say so
    trustProxy: config.server.trustProxy as FastifyServerOptions['trustProxy'],
    genReqId: () => randomUUID(),
    // access-log.ts writes the one line per request (fastify's other lines stay)
    logController: new OneLinePerRequest(),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: 1024 * 1024,
  });
  const store = options.store ?? createStore(config.store, app.log);
  let ctx: GatewayContext | undefined;
  // runs once in-flight calls are done (or cut off): refreshes still running get a moment to
  // write their tokens and release their locks, then the store closes
  app.addHook('onClose', async () => {
    await ctx?.refreshLock.drain(SHUTDOWN_REFRESH_WAIT_MS);
    await ctx?.serviceTokens.close?.();
    await ctx?.sessionCache.close();
    await store.close();
  });
  try {
    await store.ping().catch((err: unknown) => {
      app.log.warn({ err: String(err) }, 'the session store does not answer yet; calls get 503 until it does');
    });
    const shared = (ctx = await context(config, store, options));
    installErrorHandler(app);
    installAccessLog(app, shared.metrics, { level: options.logLevel, stream: options.logStream });
    await app.register(cookie, { secret: config.session.secrets });
    healthRoutes(app, shared);
    authRoutes(app, shared);
    for (const route of config.routes) await (route.soap ? registerSoapRoute(app, shared, route) : registerRoute(app, shared, route));
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
  const sessionCache = new SessionCache(store, SESSION_CACHE_MS, SESSION_CACHE_ENTRIES);
  const sessions = new Sessions(store, cipher, config.session, sessionCache);
  const metrics = new GatewayMetrics({ processMetrics: options.processMetrics ?? true });
  const leaseMs = options.lockLeaseMs ?? 5_000;
  const lock = new RefreshLock(store, { leaseMs, pollMs: 25 });
  const tokens = new SessionTokens(sessions, idp, lock, metrics, {
    refreshBeforeMs: config.oidc.refreshBeforeMs,
    maxWaitMs: 15_000,
    successorTtlMs: 10_000,
    // in the background (the caller gets 503 at once): a session outlives a 30 s outage
    writeRetryMs: 30_000,
  });
  return {
    config,
    store,
    sessions,
    sessionCache,
    cookies: new SessionCookies(config),
    idp,
    refreshLock: lock,
    logoutTokens: new LogoutTokenVerifier({
      issuer: idp.metadata.issuer,
      clientId: config.oidc.clientId,
      jwksUri: idp.metadata.jwks_uri ?? new URL('jwks', `${idp.metadata.issuer}/`).href,
      maxAgeSeconds: 120,
      clockToleranceSeconds: 30,
    }),
    logins: new LoginTransactions(store, cipher),
    tokens,
    exchanges: new ExchangedTokens(sessions, tokens, idp, lock, metrics, { refreshBeforeMs: config.oidc.refreshBeforeMs, maxWaitMs: 15_000 }),
    serviceTokens: new ServiceTokens(config.tokenSources, { store, cipher, lock, metrics }, {
      maxWaitMs: 15_000,
      // the caller waits for this one; a token source that loses it only authenticates again
      writeRetryMs: 1_000,
    }),
    metrics,
  };
}
