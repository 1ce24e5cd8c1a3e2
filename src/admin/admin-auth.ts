import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';

// The admin API's Bearer token (server.adminToken), compared in constant time: both sides
// are hashed first, so the comparison is of equal-length digests whatever was sent.

const digest = (value: string) => createHash('sha256').update(value).digest();

/** 401 of the admin API: the contract's body, and the scheme an operator's client expects */
export const adminUnauthenticated = () =>
  new GatewayError('unauthenticated', 401, { headers: { 'www-authenticate': 'Bearer realm="bff-gateway admin"' } });

export function adminTokenCheck(adminToken: string): (request: FastifyRequest) => boolean {
  const expected = digest(adminToken);
  return (request) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer +(\S+) *$/i.exec(header);
    // a missing header is compared all the same: no shortcut tells it apart by timing
    return timingSafeEqual(digest(match?.[1] ?? ''), expected) && match !== null;
  };
}

/** who is acting, for the log: the management peer's address (never a token) */
export function adminActor(request: FastifyRequest): { who: 'admin'; peer: string | undefined } {
  return { who: 'admin', peer: request.socket.remoteAddress };
}
