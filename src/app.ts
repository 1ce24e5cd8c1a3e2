import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { randomUUID } from 'node:crypto';
import { LoginTransactions } from './auth/login-transactions.js';
import { authRoutes } from './auth/routes.js';
import type { GatewayConfig } from './config/types.js';
import type { GatewayContext } from './context.js';
import { IdpClient } from './oidc/idp-client.js';
import { LogoutTokenVerifier } from './oidc/logout-token.js';
import { addGatewayAnswerHeaders } from './observability/answer-headers.js';
import { installErrorHandler } from './observability/error-handler.js';
import { healthRoutes } from './observability/health.js';
import { buildManagementApp } from './management/management-app.js';
import { adminRoutes } from './admin/admin-routes.js';
import { installAccessLog, OneLinePerRequest } from './observability/access-log.js';
import { lazyChildLogger } from './observability/lazy-child-logger.js';
import { loggerOptions } from './observability/logger.js';
import { GatewayMetrics } from './observability/metrics.js';
import { installRequestTracing } from './observability/request-tracing.js';
import { TraceExport } from './observability/tracing.js';
import { refuseNonOriginTargets, renderFrameworkError } from './proxy/request-target.js';
import { registerRoute } from './proxy/route.js';
import { registerSoapRoute } from './proxy/soap-route.js';
import { serverLimits } from './server-limits.js';
import { installWebSocketProxy } from './proxy/websocket-upgrade.js';
import { compileTrustProxy } from './proxy/trust-proxy.js';
import { SessionCipher } from './session/cipher.js';
import { SessionCookies } from './session/cookies.js';
import { SessionCache } from './session/session-cache.js';
import { Sessions } from './session/sessions.js';
import { UserSessions } from './session/user-sessions.js';
import { createStore } from './store/create.js';
import type { SessionStore } from './store/store.js';
import { ExchangedTokens } from './tokens/exchange.js';
import { RefreshLock } from './tokens/refresh-lock.js';
import { ServiceTokens } from './tokens/service-tokens.js';
import { SessionTokens } from './tokens/session-tokens.js';
import { httpsOption, renewListenerCertificate } from './tls/https-listener.js';

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
  const traces = TraceExport.start(config.telemetry.traces);
  const trust = compileTrustProxy(config.server.trustProxy);
  const app = Fastify({
    logger: loggerOptions({ level: options.logLevel, stream: options.logStream, traced: traces !== null }),
    // one trust function for HTTP calls and WebSocket upgrades alike (proxy/trust-proxy.ts)
    trustProxy: trust,
    genReqId: () => randomUUID(),
    // access-log.ts writes the one line per request (fastify's other lines stay)
    logController: new OneLinePerRequest(),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: 1024 * 1024,
    // a target the router refuses (e.g. a broken %-escape): {"error":"invalid_request"}
    frameworkErrors: renderFrameworkError,
    ...serverLimits(config.server),
    // server.tls: HTTPS (fastify's types pick the http server either way; the listener is https)
    ...(httpsOption(config.server.tls) as object),
  });
  renewListenerCertificate(app, config.server.tls);
  app.server.maxConnections = config.server.maxConnections;
  const store = options.store ?? createStore(config.store, app.log);
  let ctx: GatewayContext | undefined;
  app.decorate('management', null);
  // runs once in-flight calls are done (or cut off): refreshes still running get a moment to
  // write their tokens and release their locks, then the store closes
  app.addHook('onClose', async () => {
    await app.management?.close();
    await ctx?.refreshLock.drain(SHUTDOWN_REFRESH_WAIT_MS);
    await ctx?.serviceTokens.close?.();
    await ctx?.sessionCache.close();
    await ctx?.idp.close();
    await store.close();
    await traces?.shutdown(); // flushes the spans still queued
  });
  try {
    await store.ping().catch((err: unknown) => {
      app.log.warn({ err: String(err) }, 'the session store does not answer yet; calls get 503 until it does');
    });
    const base = await context(config, store, options);
    const shared: GatewayContext = (ctx = { ...base, userSessions: userSessionsOf(base, app) });
    installErrorHandler(app);
    installRequestTracing(app);
    refuseNonOriginTargets(app);
    installAccessLog(app, shared.metrics, { level: options.logLevel, stream: options.logStream });
    await app.register(cookie, { secret: config.session.secrets });
    // with a management listener, /metrics (and /admin/*) are served there only
    const managed = config.server.management !== undefined;
    if (managed) app.management = await buildManagementApp(shared, app.log, (management) => adminRoutes(management, shared));
    // the gateway's own endpoints: nosniff and no-store on every answer (proxied ones untouched)
    await app.register(async (own) => {
      addGatewayAnswerHeaders(own);
      healthRoutes(own, shared, { metrics: !managed });
      if (!managed) await adminRoutes(own, shared);
      authRoutes(own, shared);
    });
    for (const route of config.routes) await (route.soap ? registerSoapRoute(app, shared, route) : registerRoute(app, shared, route));
    installWebSocketProxy(app, shared, trust);
    await app.ready();
    return app;
  } catch (e) {
    await app.close();
    throw e;
  }
}

function userSessionsOf(ctx: Omit<GatewayContext, 'userSessions'>, app: FastifyInstance): UserSessions {
  const { config, store, sessions, idp } = ctx;
  const users = new UserSessions(store, sessions, new SessionCipher(config.session.encryptionKeys), config.session.encryptionKeys[0]!, config.session,
    (refreshToken) => idp.revoke(refreshToken, 'refresh_token'), (fields, message) => app.log.warn(fields, message));
  sessions.registry = users;
  return users;
}

async function context(config: GatewayConfig, store: SessionStore, options: AppOptions): Promise<Omit<GatewayContext, 'userSessions'>> {
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
      fetch: idp.fetch,
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
