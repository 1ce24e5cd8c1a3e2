import type { FastifyInstance } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { describeError, errors } from '../errors.js';
import { GOING_AWAY, LiveSockets } from '../session/live-sockets.js';
import { UpstreamDpop } from './dpop-call.js';
import { authorizeUpgrade, type UpgradeGrant } from './websocket-authorize.js';
import { upgradeOrigin, type TrustProxy } from './trust-proxy.js';
import { upstreamHandshake } from './websocket-handshake.js';
import { asGatewayError, passUpstreamRefusal, refuseUpgrade } from './websocket-refusal.js';
import { tunnel, type Tunnel } from './websocket-tunnel.js';
import { switchingProtocols } from './websocket-upstream.js';
import { Upstream } from './upstream.js';

// WebSocket upgrades on routes with `websocket: true`, on the server's 'upgrade' event. In
// order: the route, the Origin (server.allowedOrigins; else 403, nothing forwarded), the
// session and token as for an HTTP call (websocket-authorize.ts; 401 as plain HTTP before
// any upgrade), then the upstream's handshake with the client's key (websocket-handshake.ts:
// X-Forwarded-* as server.trustProxy accepts them, one forced refresh and one more try on a
// 401 invalid_token), and only once the upstream has accepted, the client's 101 (so the
// client gets the upstream's subprotocol, an upstream's 401 passes through as on an HTTP
// call, and any other refusal is a 502, not a socket that opens and closes). The two
// sockets are then tunnelled byte for byte (websocket-tunnel.ts: frames are not parsed into
// messages nor re-framed; see docs/architecture.md for why) and registered by session
// (session/live-sockets.ts). On shutdown, upgrades get 503 and open sockets close with 1001
// once the HTTP calls in flight are done.

/** how long shutdown waits for HTTP calls in flight before closing the sockets anyway */
const DRAIN_WAIT_MS = 10_000;
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** `trust`: server.trustProxy compiled once, the function fastify got too (app.ts) */
export function installWebSocketProxy(app: FastifyInstance, ctx: GatewayContext, trust: TrustProxy | false): void {
  const routes = ctx.config.routes.filter((route) => route.websocket).sort((a, b) => b.prefix.length - a.prefix.length);
  if (routes.length === 0) return;
  const live = new LiveSockets(ctx.store, (storeId) => ctx.sessions.loadByStoreId(storeId), ctx.config.session.idleTimeoutMs, app.log);
  const proxies = routes.map((route) => new WebSocketRoute(app, ctx, route, live, trust));
  const allowedOrigins = new Set(ctx.config.server.allowedOrigins);
  let closing = false;

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {}); // a client that goes away is not an error of the gateway
    const url = request.url ?? '';
    const proxy = proxies.find((p) => p.matches(url));
    const refusal = closing
      ? errors.shuttingDown()
      : !proxy
        ? errors.notFound()
        : !allowedOrigins.has(request.headers.origin ?? '')
          ? errors.originNotAllowed()
          : !isWebSocketHandshake(request)
            ? errors.invalidRequest('not a WebSocket handshake')
            : undefined;
    if (refusal || !proxy) {
      app.log.info({ path: url.split('?')[0], status: (refusal ?? errors.notFound()).status }, 'WebSocket upgrade refused');
      refuseUpgrade(socket, refusal ?? errors.notFound());
      return;
    }
    proxy.proxy(request, socket, head).catch((error: unknown) => {
      const refused = asGatewayError(error);
      if (refused.status >= 500) app.log.warn({ route: proxy.route.prefix, err: describeError(error) }, 'WebSocket upgrade failed');
      refuseUpgrade(socket, refused);
    });
  };
  app.server.on('upgrade', onUpgrade);

  // HTTP calls in flight, counted on the server's own event (no fastify hook on every call)
  let inFlight = 0;
  app.server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    inFlight += 1;
    response.once('close', () => (inFlight -= 1));
  });
  // not awaited: the server stops accepting meanwhile, and the sockets close once the HTTP
  // calls in flight are answered (or after DRAIN_WAIT_MS)
  app.addHook('preClose', (done) => {
    closing = true;
    const started = Date.now();
    const poll = () => {
      if (inFlight > 0 && Date.now() - started < DRAIN_WAIT_MS) {
        setTimeout(poll, 25);
        return;
      }
      for (const proxy of proxies) proxy.shutDown = true;
      live.endAll();
      // keep-alive connections that went idle after server.close() would hold it open
      app.server.closeIdleConnections();
    };
    poll();
    done();
  });
  app.addHook('onClose', async () => {
    app.server.off('upgrade', onUpgrade);
    await live.close();
    await Promise.all(proxies.map((proxy) => proxy.close()));
  });
}

function isWebSocketHandshake(request: IncomingMessage): boolean {
  return (
    request.method === 'GET' &&
    request.headers.upgrade?.toLowerCase() === 'websocket' &&
    WEBSOCKET_KEY.test(request.headers['sec-websocket-key'] ?? '') &&
    request.headers['sec-websocket-version'] === '13'
  );
}

class WebSocketRoute {
  private readonly upstream: Upstream;
  private readonly origin: URL;
  private readonly prefix: string;
  private readonly connections;
  private readonly dpop: UpstreamDpop;
  shutDown = false;

  constructor(
    private readonly app: FastifyInstance,
    private readonly ctx: GatewayContext,
    readonly route: RouteConfig,
    private readonly live: LiveSockets,
    private readonly trust: TrustProxy | false,
  ) {
    this.prefix = route.prefix === '/' ? '' : route.prefix;
    this.origin = new URL(new URL(route.upstream).origin);
    // only its path() is used: the pool it holds never connects
    this.upstream = new Upstream(route);
    this.dpop = new UpstreamDpop(route.upstream);
    this.connections = ctx.metrics.websocketConnections.labels(route.prefix);
  }

  matches(url: string): boolean {
    if (this.prefix === '') return true;
    if (!url.startsWith(this.prefix)) return false;
    const next = url.charAt(this.prefix.length);
    return next === '' || next === '/' || next === '?';
  }

  async proxy(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = request.url ?? '';
    if (!url.startsWith('/')) throw errors.invalidRequest('the request target must be a path');
    const path = this.upstream.path(url);
    const authorized = await authorizeUpgrade(this.app, this.ctx, this.route, request);
    if (socket.destroyed) return;
    const target = { origin: this.origin, path, original: upgradeOrigin(request, this.trust), dpop: this.dpop };
    const { answer: upstream, grant } = await upstreamHandshake(this.app, this.ctx, this.route, request, target, authorized);
    if (upstream.kind === 'refused') {
      this.app.log.info({ route: this.route.prefix, status: upstream.status }, 'WebSocket upgrade refused by the upstream');
      const headers = this.upstream.responseHeaders(upstream.headers, (name) => this.ctx.cookies.isOwn(name), this.app.log);
      passUpstreamRefusal(socket, upstream.status, headers, upstream.body);
      return;
    }
    if (socket.destroyed || !socket.writable) {
      upstream.socket.destroy();
      return;
    }
    socket.write(switchingProtocols(upstream));
    // the server's 'upgrade' socket is a net.Socket (or a TLSSocket, one)
    this.open(tunnel(socket as Socket, head, upstream.socket, upstream.head, this.route.websocketMaxBytes), grant);
  }

  private open(pair: Tunnel, grant: UpgradeGrant): void {
    const remove = this.live.add(pair, grant.session);
    this.connections.inc();
    const opened = Date.now();
    void pair.closed.then((why) => {
      remove();
      this.connections.dec();
      this.ctx.metrics.websocketClosed.labels(why).inc();
      this.app.log.info({ route: this.route.prefix, reason: why, seconds: (Date.now() - opened) / 1000 }, 'WebSocket closed');
    });
    if (this.shutDown) pair.end(GOING_AWAY.code, GOING_AWAY.reason, 'shutdown');
  }

  async close(): Promise<void> {
    await this.upstream.close();
  }
}
