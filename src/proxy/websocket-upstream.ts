import { createHash } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { RouteConfig } from '../config/types.js';
import { errors, type GatewayError } from '../errors.js';
import { clientTlsOptions } from '../tls/tls-material.js';
import { forwardHeaders, type OriginalRequest } from './forward-headers.js';

// The upstream half of a proxied WebSocket: the handshake headers (those of a proxied call:
// the bearer token, the client's cookies minus the gateway's, X-Forwarded-*, Forwarded and
// X-Real-IP as server.trustProxy accepts them, plus the client's own Sec-WebSocket-Key,
// -Version and -Protocol, so that the upstream's 101 answers the client's handshake as it
// is), and the handshake itself over node:http(s) (the path built as for HTTP calls, bounded
// by the route's timeout). Sec-WebSocket-Extensions never passes: no extension
// (permessage-deflate) is negotiated, so frames pass unchanged, and a 101 that names one
// anyway is refused.

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Request headers of the client's handshake that are not passed on. */
const NOT_FORWARDED = ['sec-websocket-extensions', 'content-length'];

export interface UpstreamSocket {
  socket: Socket;
  /** bytes the upstream sent after its 101 (frames already) */
  head: Buffer;
  /** the subprotocol the upstream chose, if any */
  protocol: string | undefined;
  /** its Sec-WebSocket-Accept (valid for the client's key: checked) */
  accept: string;
}

export function upstreamHandshakeHeaders(
  request: IncomingMessage,
  original: OriginalRequest,
  opts: { isOwnCookie: (name: string) => boolean; sendsToken: boolean; accessToken: string | undefined },
): IncomingHttpHeaders {
  // `original` (trust-proxy.ts) holds what server.trustProxy accepted, as for an HTTP call
  const headers = forwardHeaders(original, request.headers, { ...opts, trustProxy: original.ips !== undefined });
  for (const name of NOT_FORWARDED) delete headers[name];
  headers.connection = 'Upgrade';
  headers.upgrade = 'websocket';
  return headers;
}

/** The client's offered subprotocols (Sec-WebSocket-Protocol). */
export function offeredProtocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  return header ? header.split(',').map((p) => p.trim()).filter((p) => p !== '') : [];
}

/** Does the upstream's handshake; rejects with 502 (refused, unreachable, not a valid 101) or 504 (no answer in time). */
export function openUpstream(
  origin: URL,
  path: string,
  headers: IncomingHttpHeaders,
  offered: string[],
  route: Pick<RouteConfig, 'timeoutMs' | 'tls'>,
): Promise<UpstreamSocket> {
  return new Promise((resolve, reject) => {
    const key = String(headers['sec-websocket-key']);
    let settled = false;
    let request: ClientRequest | undefined;
    const fail = (error: GatewayError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request?.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(errors.gatewayTimeout({ cause: new Error('the upstream did not answer the upgrade in time') })), route.timeoutMs);
    try {
      // the path as it is (a URL would normalise it), on a connection of its own
      const options = { protocol: origin.protocol, hostname: origin.hostname.replace(/^\[(.*)\]$/, '$1'), port: origin.port, path, method: 'GET', headers, agent: false } as const;
      request = origin.protocol === 'https:' ? httpsRequest({ ...options, ...clientTlsOptions(route.tls) }) : httpRequest(options);
    } catch {
      // node refused a header or the path (its message stays out of the client's answer)
      fail(errors.invalidRequest('the WebSocket handshake cannot be forwarded'));
      return;
    }
    request.on('error', (error: Error) => fail(errors.badGateway({ cause: error })));
    request.once('response', (response: IncomingMessage) => {
      response.resume();
      fail(errors.badGateway({ cause: new Error(`the upstream answered the upgrade with ${response.statusCode}`) }));
    });
    request.once('upgrade', (response: IncomingMessage, socket: Socket, head: Buffer) => {
      const problem = invalidAnswer(response, key, offered);
      if (problem !== undefined || settled) {
        socket.destroy();
        fail(errors.badGateway({ cause: new Error(`the upstream's WebSocket handshake: ${problem ?? 'too late'}`) }));
        return;
      }
      settled = true;
      clearTimeout(timer);
      const protocol = response.headers['sec-websocket-protocol'];
      resolve({ socket, head, protocol, accept: String(response.headers['sec-websocket-accept']) });
    });
    request.end();
  });
}

/** What is wrong with the upstream's 101, if anything (what a WebSocket client checks). */
function invalidAnswer(response: IncomingMessage, key: string, offered: string[]): string | undefined {
  const h = response.headers;
  if (response.statusCode !== 101 || h.upgrade?.toLowerCase() !== 'websocket') return 'not a WebSocket upgrade';
  if (h['sec-websocket-accept'] !== createHash('sha1').update(key + GUID).digest('base64')) return 'a wrong Sec-WebSocket-Accept';
  if (h['sec-websocket-extensions'] !== undefined) return 'an extension nobody offered';
  const protocol = h['sec-websocket-protocol'];
  if (protocol !== undefined && !offered.includes(protocol)) return 'a subprotocol the client did not offer';
  return undefined;
}

/** The client's 101: the upstream's accept and subprotocol, nothing else of its answer. */
export function switchingProtocols(upstream: Pick<UpstreamSocket, 'accept' | 'protocol'>): string {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${upstream.accept}`];
  if (upstream.protocol !== undefined) lines.push(`Sec-WebSocket-Protocol: ${upstream.protocol}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
