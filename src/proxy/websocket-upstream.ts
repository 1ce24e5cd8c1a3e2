import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import type { RouteConfig } from '../config/types.js';
import { errors, type GatewayError } from '../errors.js';
import { forwardHeaders } from './forward-headers.js';

// The upstream half of a proxied WebSocket: its URL (ws:// for an http:// upstream, wss://
// for https://, the path built as for HTTP calls), the handshake headers (those of a
// proxied call: the bearer token, the client's cookies minus the gateway's, X-Forwarded-*),
// and the handshake itself, bounded by the route's timeout.

/** Request headers of the client's handshake that ws writes itself for the upstream's. */
const HANDSHAKE_HEADERS = ['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'content-length'];

/** The origin of the upstream's WebSocket URLs: ws://host:port or wss://host:port. */
export function webSocketOrigin(upstream: string): string {
  const url = new URL(upstream);
  return `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}`;
}

export function upstreamHandshakeHeaders(
  request: IncomingMessage,
  opts: { isOwnCookie: (name: string) => boolean; sendsToken: boolean; accessToken: string | undefined },
): IncomingHttpHeaders {
  const remoteAddress = request.socket.remoteAddress ?? '';
  const original = {
    ip: remoteAddress,
    protocol: (request.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http',
    host: request.headers.host ?? '',
    socket: request.socket,
  };
  // trustProxy is not applied to upgrades: X-Forwarded-For names the peer
  const headers = forwardHeaders(original, request.headers, { ...opts, trustProxy: false });
  for (const name of HANDSHAKE_HEADERS) delete headers[name];
  return headers;
}

/** The client's offered subprotocols (Sec-WebSocket-Protocol), passed on to the upstream. */
export function offeredProtocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  return header ? header.split(',').map((p) => p.trim()).filter((p) => p !== '') : [];
}

/** Opens the upstream socket; rejects with 502 (refused, unreachable) or 504 (no answer in time). */
export function openUpstream(
  url: string,
  protocols: string[],
  headers: IncomingHttpHeaders,
  route: Pick<RouteConfig, 'timeoutMs' | 'websocketMaxBytes'>,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let socket: WebSocket;
    try {
      socket = new WebSocket(url, protocols, {
        headers,
        maxPayload: route.websocketMaxBytes,
        perMessageDeflate: false,
        autoPong: false, // pongs come from the client, relayed
        handshakeTimeout: route.timeoutMs,
        followRedirects: false,
      });
    } catch (error) {
      reject(errors.invalidRequest(`the WebSocket handshake cannot be forwarded: ${error instanceof Error ? error.message : String(error)}`));
      return;
    }
    const fail = (error: GatewayError) => {
      socket.removeAllListeners('open');
      socket.terminate();
      reject(error);
    };
    socket.on('error', (error: Error) => {
      // ws names a handshake that ran out of time by its message only
      fail(/timed out/i.test(error.message) ? errors.gatewayTimeout({ cause: error }) : errors.badGateway({ cause: error }));
    });
    socket.once('unexpected-response', (request, response) => {
      response.resume();
      request.destroy();
      fail(errors.badGateway({ cause: new Error(`the upstream answered the upgrade with ${response.statusCode}`) }));
    });
    socket.once('open', () => {
      socket.removeAllListeners('error');
      socket.removeAllListeners('unexpected-response');
      socket.on('error', () => {}); // until the bridge listens
      resolve(socket);
    });
  });
}
