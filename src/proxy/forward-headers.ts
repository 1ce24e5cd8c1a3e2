import type { IncomingHttpHeaders } from 'node:http';

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
// bearer token (or dropped when there is none), and X-Forwarded-For/-Proto/-Host describing
// the original request. `token: none` routes keep the client's Authorization as it is.

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
  const out: IncomingHttpHeaders = { ...headers };
  if (opts.sendsToken) {
    delete out.authorization;
    if (opts.accessToken !== undefined) out.authorization = `Bearer ${opts.accessToken}`;
  }

  if (out.cookie !== undefined) {
    const kept = stripCookies(out.cookie, opts.isOwnCookie);
    if (kept) out.cookie = kept;
    else delete out.cookie;
  }

  // Behind trusted proxies, the part of the chain fastify's trust setting accepts (an address
  // list stops after the first untrusted entry: what came before it a client could have made
  // up; a hop count trusts nothing); otherwise only the peer.
  const trusted = opts.trustProxy ? request.ips : undefined;
  out['x-forwarded-for'] = trusted?.length ? [...trusted].reverse().join(', ') : (request.socket.remoteAddress ?? request.ip);
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
