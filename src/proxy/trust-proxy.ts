import proxyAddr from '@fastify/proxy-addr';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { OriginalRequest } from './forward-headers.js';

// server.trustProxy as ONE trust function, for both kinds of call: fastify gets it as its
// `trustProxy` option (app.ts; fastify uses a function as it is), so request.ip, .ips,
// .protocol and .host of every HTTP call come from it; an upgrade has no fastify request
// (websocket-upgrade.ts runs on the server's 'upgrade' event), so `upgradeOrigin` reads the
// same function through the same library fastify uses (@fastify/proxy-addr) and the same
// rules fastify's request getters apply (fastify/lib/request.js): X-Forwarded-Proto and
// -Host are believed (their last entry) only when the peer itself is trusted.

export type TrustProxy = (address: string, hop: number) => boolean;

/** As fastify 5 turns its `trustProxy` option into a function; false: trust nothing (fastify's plain request). */
export function compileTrustProxy(setting: boolean | string | number): TrustProxy | false {
  if (setting === false || setting === 0 || setting === '') return false;
  if (setting === true) return () => true;
  // fastify 5 fails closed on a hop count: it cannot check the peer, so nothing is believed
  if (typeof setting === 'number') return () => false;
  return proxyAddr.compile(setting.split(',').map((part) => part.trim()));
}

/** What fastify's request.ip, .ips, .protocol and .host would be for this raw request. */
export function upgradeOrigin(request: IncomingMessage, trust: TrustProxy | false): OriginalRequest {
  const socket = request.socket;
  const direct = (socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
  const host = request.headers.host ?? '';
  if (trust === false) return { ip: socket.remoteAddress ?? '', protocol: direct, host, socket };
  const ips = proxyAddr.all(request, trust);
  const peerTrusted = trust(socket.remoteAddress as string, 0);
  const forwardedProto = request.headers['x-forwarded-proto'];
  const forwardedHost = request.headers['x-forwarded-host'];
  return {
    ip: ips.at(-1) ?? '',
    ips,
    protocol: peerTrusted && forwardedProto ? lastEntry(forwardedProto) : direct,
    host: peerTrusted && forwardedHost ? lastEntry(forwardedHost) : host,
    socket,
  };
}

/** The last value of a list header (the one the nearest proxy set), as fastify reads it. */
function lastEntry(value: string | string[]): string {
  const text = Array.isArray(value) ? value.join(',') : value;
  const comma = text.lastIndexOf(',');
  return comma === -1 ? text.trim() : text.slice(comma + 1).trim();
}
