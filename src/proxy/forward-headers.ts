import type { IncomingHttpHeaders } from 'node:http';
import { connectionNamed, forwardedHeader } from './forwarding-syntax.js';

/** The parts of the incoming request the forwarded headers describe. */
export interface OriginalRequest {
  ip: string;
  protocol: string;
  host: string;
  socket: { remoteAddress?: string | undefined };
  /** with trustProxy: the peer, then the forwarded addresses the trust setting accepts */
  ips?: string[] | undefined;
}

// The request headers an upstream sees: the gateway's own cookies removed (other cookies
// stay), on token-bearing routes any Authorization the client sent replaced by the gateway's
// bearer token (or dropped when there is none) and any DPoP proof it sent dropped (a proof
// goes only with the gateway's own DPoP token, dpop-call.ts), X-Forwarded-For/-Proto/-Host, Forwarded
// (RFC 7239) and X-Real-IP describing the original request (the client's own values never
// pass: they are rebuilt from what fastify's trustProxy setting accepted), and no hop-by-hop
// header: neither the fixed ones, nor Proxy-Authorization, nor those the client's Connection
// header names (RFC 9110 §7.6.1), nor Host (the HTTP client sets the upstream's).
// `token: none` routes keep the client's Authorization as it is.

/** Headers of one hop only (RFC 9110 §7.6.1), and those the HTTP client sets itself or refuses. */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade', 'trailer', 'expect', 'host']);
/** set by the gateway (or, for Proxy-Authorization, meant for a proxy: never passed on) */
const REPLACED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-real-ip', 'proxy-authorization']);

export function forwardHeaders(
  request: OriginalRequest,
  headers: IncomingHttpHeaders,
  opts: {
    isOwnCookie: (name: string) => boolean;
    /** false for token: none routes */
    sendsToken: boolean;
    accessToken: string | undefined;
    trustProxy: boolean;
  },
): IncomingHttpHeaders {
  // built in one pass rather than copied and pruned: deleting properties would turn the
  // object into a slow dictionary for everything that reads it after
  const out: IncomingHttpHeaders = {};
  // undefined for no Connection header or a plain keep-alive/close (no allocation then)
  const named = connectionNamed(headers.connection);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || REPLACED.has(name)) continue;
    if (named !== undefined && named.includes(name)) continue;
    if ((name === 'authorization' || name === 'dpop') && opts.sendsToken) continue;
    if (name === 'cookie') {
      const kept = stripCookies(headers.cookie!, opts.isOwnCookie);
      if (kept) out.cookie = kept;
      continue;
    }
    out[name] = headers[name];
  }
  if (opts.sendsToken && opts.accessToken !== undefined) out.authorization = `Bearer ${opts.accessToken}`;

  // Behind trusted proxies, the part of the chain fastify's trust setting accepts (an address
  // list stops after the first untrusted entry: what came before it a client could have made
  // up; a hop count trusts nothing); otherwise only the peer.
  const trusted = opts.trustProxy ? request.ips : undefined;
  const peer = request.socket.remoteAddress ?? request.ip;
  if (trusted?.length) {
    const chain = [...trusted].reverse(); // client first, the peer last
    out['x-forwarded-for'] = chain.join(', ');
    out['x-real-ip'] = chain[0];
    out.forwarded = forwardedHeader(chain, request.protocol, request.host);
  } else {
    out['x-forwarded-for'] = peer;
    out['x-real-ip'] = peer;
    out.forwarded = forwardedHeader(peer, request.protocol, request.host);
  }
  out['x-forwarded-proto'] = request.protocol;
  out['x-forwarded-host'] = request.host;
  return out;
}

/** The Cookie header without the cookies `isOwn` names; "" when none is left. */
export function stripCookies(header: string, isOwn: (name: string) => boolean): string {
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '' && !isOwn(cookieName(pair)))
    .join('; ');
}

function cookieName(pair: string): string {
  const eq = pair.indexOf('=');
  return (eq === -1 ? pair : pair.slice(0, eq)).trim();
}
