import { createHash } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { RouteConfig } from '../config/types.js';
import { errors, type GatewayError } from '../errors.js';
import { clientTlsOptions } from '../tls/tls-material.js';
import { forwardHeaders, type OriginalRequest } from './forward-headers.js';

// The upstream half of a proxied WebSocket: the handshake headers (those of a proxied call:
// the route's token (as `DPoP` with a proof when bound: websocket-handshake.ts), the client's
// cookies minus the gateway's, X-Forwarded-*, Forwarded and X-Real-IP as server.trustProxy
// accepts them, plus the client's own Sec-WebSocket-Key, -Version and -Protocol, so that the
// upstream's 101 answers the client's handshake as it is), and the handshake itself over
// node:http(s) (the path built as for HTTP calls, bounded by the route's timeout).
// Sec-WebSocket-Extensions never passes: no extension (permessage-deflate) is negotiated, so
// frames pass unchanged, and a 101 that names one anyway is refused. An upstream's 401 is an
// answer, not a failure: the caller refreshes and tries once more on invalid_token (rule 8 of
// a proxied call), or passes it on.

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Request headers of the client's handshake that are not passed on. */
const NOT_FORWARDED = ['sec-websocket-extensions', 'content-length'];
/** the largest body of an upstream's 401 to a handshake that is passed on (else 502) */
const REFUSAL_MAX_BYTES = 64 * 1024;

/** The upstream's answer to the handshake: its WebSocket, or its 401 (passed on to the client). */
export type HandshakeAnswer = UpstreamSocket | RefusedHandshake;

export interface UpstreamSocket {
  kind: 'open';
  socket: Socket;
  /** bytes the upstream sent after its 101 (frames already) */
  head: Buffer;
  /** the subprotocol the upstream chose, if any */
  protocol: string | undefined;
  /** its Sec-WebSocket-Accept (valid for the client's key: checked) */
  accept: string;
  /** the headers of its 101 (read for a DPoP-Nonce; never passed to the client) */
  headers: IncomingHttpHeaders;
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

/** An upstream's 401 to the handshake, read whole (a 401 body is small: at most REFUSAL_MAX_BYTES). */
export interface RefusedHandshake {
  kind: 'refused';
  status: 401;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Does the upstream's handshake. Resolves with the upstream's socket, or with its 401 (a
 * token it refused: the caller may refresh and try once more, else the 401 passes through);
 * rejects with 502 (any other refusal, unreachable, not a valid 101, a 401 body over
 * REFUSAL_MAX_BYTES) or 504 (no whole answer in time).
 */
export function openUpstream(
  origin: URL,
  path: string,
  headers: IncomingHttpHeaders,
  offered: string[],
  route: Pick<RouteConfig, 'timeoutMs' | 'tls'>,
): Promise<HandshakeAnswer> {
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
    const succeed = (answer: HandshakeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
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
      if (response.statusCode !== 401) {
        response.resume();
        fail(errors.badGateway({ cause: new Error(`the upstream answered the upgrade with ${response.statusCode}`) }));
        return;
      }
      // read whole within the handshake's timeout, to be passed on or dropped for a retry
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= REFUSAL_MAX_BYTES) chunks.push(chunk);
        else fail(errors.badGateway({ cause: new Error("the upstream's 401 to the upgrade has too large a body") }));
      });
      response.on('error', () => {}); // its 'close' without an 'end' says it
      response.once('end', () => {
        succeed({ kind: 'refused', status: 401, headers: response.headers, body: Buffer.concat(chunks, size) });
        request?.destroy(); // the connection served this handshake only
      });
      response.once('close', () => fail(errors.badGateway({ cause: new Error("the upstream's 401 to the upgrade ended early") })));
    });
    request.once('upgrade', (response: IncomingMessage, socket: Socket, head: Buffer) => {
      const problem = invalidAnswer(response, key, offered);
      if (problem !== undefined || settled) {
        socket.destroy();
        fail(errors.badGateway({ cause: new Error(`the upstream's WebSocket handshake: ${problem ?? 'too late'}`) }));
        return;
      }
      const protocol = response.headers['sec-websocket-protocol'];
      succeed({ kind: 'open', socket, head, protocol, accept: String(response.headers['sec-websocket-accept']), headers: response.headers });
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
