import type { FastifyInstance } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { describeError, errors } from '../errors.js';
import { GOING_AWAY, LiveSockets } from '../session/live-sockets.js';
import { bridge } from './websocket-bridge.js';
import { authorizeUpgrade, type UpgradeGrant } from './websocket-authorize.js';
import { asGatewayError, refuseUpgrade } from './websocket-refusal.js';
import { offeredProtocols, openUpstream, upstreamHandshakeHeaders, webSocketOrigin } from './websocket-upstream.js';
import { Upstream } from './upstream.js';

// WebSocket upgrades on routes with `websocket: true`, on the server's 'upgrade' event with
// ws (a WebSocketServer in noServer mode per route). In order: the route, the Origin
// (server.allowedOrigins; else 403, nothing forwarded), the session and token as for an
// HTTP call (websocket-authorize.ts; 401 as plain HTTP before any upgrade), then the
// upstream's handshake, and only once the upstream has accepted, the client's (so the
// client gets the upstream's subprotocol, and a refused upstream is a 502, not a socket
// that opens and closes). The pair is then joined (websocket-bridge.ts) and registered by
// session (session/live-sockets.ts). On shutdown, upgrades get 503 and open sockets close
// with 1001 once the HTTP calls in flight are done.

/** how long shutdown waits for HTTP calls in flight before closing the sockets anyway */
const DRAIN_WAIT_MS = 10_000;
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

export function installWebSocketProxy(app: FastifyInstance, ctx: GatewayContext): void {
  const routes = ctx.config.routes.filter((route) => route.websocket).sort((a, b) => b.prefix.length - a.prefix.length);
  if (routes.length === 0) return;
  const live = new LiveSockets(ctx.store, (storeId) => ctx.sessions.loadByStoreId(storeId), ctx.config.session.idleTimeoutMs, app.log);
  const proxies = routes.map((route) => new WebSocketRoute(app, ctx, route, live));
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
  private readonly server: WebSocketServer;
  private readonly upstream: Upstream;
  private readonly origin: string;
  /** the subprotocol the upstream chose, by client request, for the client's handshake */
  private readonly chosen = new WeakMap<IncomingMessage, string>();
  private readonly prefix: string;
  private readonly connections;
  shutDown = false;

  constructor(
    private readonly app: FastifyInstance,
    private readonly ctx: GatewayContext,
    readonly route: RouteConfig,
    private readonly live: LiveSockets,
  ) {
    this.prefix = route.prefix === '/' ? '' : route.prefix;
    this.origin = webSocketOrigin(route.upstream);
    // only its path() is used: the pool it holds never connects
    this.upstream = new Upstream(route);
    this.connections = ctx.metrics.websocketConnections.labels(route.prefix);
    this.server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      autoPong: false, // pongs come from the upstream, relayed
      maxPayload: route.websocketMaxBytes,
      handleProtocols: (_offered, request) => this.chosen.get(request) ?? false,
    });
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
    const grant = await authorizeUpgrade(this.app, this.ctx, this.route, request);
    if (socket.destroyed) return;
    const headers = upstreamHandshakeHeaders(request, {
      isOwnCookie: (name) => this.ctx.cookies.isOwn(name),
      sendsToken: this.route.token !== 'none',
      accessToken: grant.token,
    });
    const upstream = await openUpstream(this.origin + path, offeredProtocols(request), headers, this.route);
    if (socket.destroyed) {
      upstream.terminate();
      return;
    }
    const early = () => upstream.terminate();
    socket.once('close', early);
    if (upstream.protocol) this.chosen.set(request, upstream.protocol);
    this.server.handleUpgrade(request, socket, head, (client) => {
      socket.off('close', early);
      this.open(client, upstream, grant);
    });
  }

  private open(client: WebSocket, upstream: WebSocket, grant: UpgradeGrant): void {
    const pair = bridge(client, upstream);
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
    this.server.close();
    await this.upstream.close();
  }
}
