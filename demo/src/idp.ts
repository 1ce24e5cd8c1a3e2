// The demo identity provider: oidc-provider 9 in a plain node http server, used by
// `npm start` and by the integration tests (with stats and fault injection).
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JWK } from 'jose';
import { Provider, type ClientMetadata, type Configuration, type Middleware } from 'oidc-provider';
import { ROUTES, SCOPES, buildProviderConfig } from './idp-config.js';
import { createInteractionHandler, type DemoUser } from './idp-interactions.js';
import { registerJwtBearerGrant } from './idp-jwt-bearer-grant.js';
import { registerPasswordGrant } from './idp-password-grant.js';
import { registerTokenExchangeGrant, type SamlMinter } from './idp-token-exchange-grant.js';
import { countProviderEvents, emptyStats, type IdpStats } from './idp-stats.js';
import { IdpMemoryStore } from './idp-store.js';

export type { ClientMetadata } from 'oidc-provider';
export type { DemoUser } from './idp-interactions.js';
export type { IdpStats } from './idp-stats.js';

export interface DemoIdpOptions {
  host?: string; // default 127.0.0.1
  port?: number; // default 0: a free port
  issuer?: string; // default http://localhost:<port>; must be an origin (no path)
  clients?: ClientMetadata[]; // static clients; more can be added with upsertClient()
  users: DemoUser[];
  accessTokenTtl?: number | (() => number); // seconds, default 60; a function is read on every issue
  refreshTokenTtl?: number; // seconds, default 1 day
  /** serve HTTPS with these options (certificate, key, requestCert...); the default issuer becomes https:// */
  https?: https.ServerOptions;
  /** changes to the provider configuration (features such as mTLS) */
  configure?: (config: Configuration) => void;
  dpopNonce?: boolean; // DPoP proofs must carry a nonce from the IdP (default false)
  assertionKeys?: Record<string, JWK>; // jwt-bearer grant: the public key trusted per assertion issuer
  exchangeAudiences?: string[]; // token exchange: the audiences served (default none)
  saml?: SamlMinter; // token exchange: mints the SAML 2.0 assertions asked for
}

export interface TokenErrorBody {
  error: string;
  error_description?: string;
}

export interface IdpFaults {
  /** Every token request waits this long before it is handled (0 = none). */
  setTokenEndpointDelay(ms: number): void;
  /** The token endpoint answers this status with a JSON error (null = normal service). */
  setTokenEndpointFailure(status: number | null, body?: TokenErrorBody): void;
  /** Closes the listener and every open connection; state and keys are kept. */
  stopListening(): Promise<void>;
  /** Listens again on the same host and port (so the same issuer). */
  resumeListening(): Promise<void>;
}

export interface DemoIdp extends Pick<IdpFaults, 'stopListening' | 'resumeListening'> {
  issuer: string;
  provider: Provider;
  port: number;
  stats: IdpStats;
  faults: IdpFaults;
  /** Adds or replaces a client at run time (validated; static clients can't be replaced). */
  upsertClient(metadata: ClientMetadata): Promise<void>;
  /**
   * Revokes every grant of an account, with its access and refresh tokens, as an
   * administrator would (not counted in stats.grantRevocations). Returns how many.
   */
  revokeGrantsOf(accountId: string): number;
  /**
   * Runs `hook` around every token request from its arrival: its `next` is the injected
   * delay and failure, then the provider's handling. null removes it. (provider.use() cannot
   * add a middleware once the IdP listens: koa composed its middleware list then.)
   */
  aroundTokenRequests(hook: Middleware | null): void;
  resetStats(): void;
  close(): Promise<void>;
}

function positiveSeconds(value: number): number {
  return Number.isFinite(value) && value >= 1 ? Math.floor(value) : 1;
}

export async function startDemoIdp(opts: DemoIdpOptions): Promise<DemoIdp> {
  const host = opts.host ?? '127.0.0.1';
  const server = opts.https ? https.createServer(opts.https) : http.createServer();
  await listen(server, opts.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const issuer = (opts.issuer ?? `${opts.https ? 'https' : 'http'}://localhost:${port}`).replace(/\/$/, '');
  const store = new IdpMemoryStore();
  const staticClientIds = new Set((opts.clients ?? []).map((c) => c.client_id));
  const { accessTokenTtl = 60, refreshTokenTtl = 24 * 3600 } = opts;
  let provider: Provider;
  try {
    if (new URL(issuer).pathname !== '/') throw new Error(`demo IdP issuer must be an origin: ${issuer}`);
    const config = await buildProviderConfig({
      clients: opts.clients ?? [],
      users: opts.users,
      store,
      accessTokenTtl: () => positiveSeconds(typeof accessTokenTtl === 'function' ? accessTokenTtl() : accessTokenTtl),
      refreshTokenTtl: positiveSeconds(refreshTokenTtl),
      dpopNonce: opts.dpopNonce === true,
    });
    opts.configure?.(config);
    provider = new Provider(issuer, config);
    registerPasswordGrant(provider, opts.users, SCOPES);
    registerJwtBearerGrant(provider, opts.users, opts.assertionKeys ?? {}, `${issuer}${ROUTES.token}`);
    registerTokenExchangeGrant(provider, {
      audiences: opts.exchangeAudiences ?? [],
      tokenEndpoint: `${issuer}${ROUTES.token}`,
      ...(opts.saml ? { saml: opts.saml } : {}),
    });
  } catch (err) {
    server.close();
    throw err;
  }

  const stats = emptyStats();
  let delayMs = 0;
  let failure: { status: number; body: TokenErrorBody } | null = null;

  let tokenHook: Middleware | null = null;
  let tokenInFlight = 0;

  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === ROUTES.token) {
      stats.tokenRequests += 1;
      tokenInFlight += 1;
      stats.tokenRequestsPeak = Math.max(stats.tokenRequestsPeak, tokenInFlight);
      const handle = async () => {
        if (delayMs > 0) await sleep(delayMs);
        if (!failure) return next();
        stats.injectedFailures += 1;
        ctx.status = failure.status;
        ctx.set('cache-control', 'no-store');
        ctx.body = failure.body;
      };
      try {
        await (tokenHook ? tokenHook(ctx, handle) : handle());
      } finally {
        tokenInFlight -= 1;
      }
      return;
    } else if (ctx.method === 'POST' && ctx.path === ROUTES.revocation) {
      stats.revocations += 1;
    }
    await next();
  });

  countProviderEvents(provider, stats);

  const interactions = createInteractionHandler(provider, opts.users);
  const oidc = provider.callback();
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    interactions(req, res)
      .then((handled) => (handled ? undefined : oidc(req, res)))
      .catch((err: unknown) => {
        console.error('[demo-idp] request failed:', err);
        if (!res.headersSent) res.writeHead(500).end();
      });
  });

  const stopListening = async (): Promise<void> => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  const resumeListening = async (): Promise<void> => {
    if (!server.listening) await listen(server, port, host);
  };
  const faults: IdpFaults = {
    setTokenEndpointDelay: (ms) => { delayMs = Math.max(0, ms); },
    setTokenEndpointFailure: (status, body) => {
      failure = status === null ? null : {
        status,
        body: body ?? { error: status >= 500 ? 'temporarily_unavailable' : 'invalid_request', error_description: 'injected fault' },
      };
    },
    stopListening,
    resumeListening,
  };

  return {
    issuer,
    provider,
    port,
    stats,
    faults,
    stopListening,
    resumeListening,
    upsertClient: async (metadata) => {
      if (staticClientIds.has(metadata.client_id)) throw new Error(`static client ${metadata.client_id} can't be replaced`);
      await provider.Client.validate(metadata);
      store.set('Client', metadata.client_id, { ...metadata });
    },
    revokeGrantsOf: (accountId) => {
      const grantIds = store.grantIdsOf(accountId);
      for (const grantId of grantIds) {
        store.revokeByGrantId(grantId);
        store.delete('Grant', grantId);
      }
      return grantIds.length;
    },
    aroundTokenRequests: (hook) => { tokenHook = hook; },
    // the peak starts again from the requests in flight now
    resetStats: () => { Object.assign(stats, emptyStats(), { tokenRequestsPeak: tokenInFlight }); },
    close: stopListening,
  };
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
