import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { readBody } from '../http/read-body.js';

// What an upstream-401 retry needs: to recognise the challenge, and a body it can send
// twice. Bodies stream by default; only small ones with a known length are held in memory.

/** Bodies up to this size are buffered so that a call refused with invalid_token can be replayed. */
export const REPLAY_BUFFER_LIMIT = 64 * 1024;

/** `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1), or the same with DPoP (RFC 9449 §7.1) */
export function isInvalidTokenChallenge(headers: IncomingHttpHeaders | Record<string, unknown>): boolean {
  const value = headers['www-authenticate'];
  const challenges = Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : '';
  return /^\s*(?:bearer|dpop)\b/i.test(challenges) && /\berror\s*=\s*"?invalid_token"?/i.test(challenges);
}

export type ReplayBody = { kind: 'none' } | { kind: 'buffered'; body: Buffer } | { kind: 'streamed' };

/**
 * Reads a small body into memory so it can be sent again; larger or unsized bodies keep
 * streaming (and a 401 on them passes through).
 */
export async function holdForReplay(request: FastifyRequest, timeoutMs: number): Promise<ReplayBody> {
  const body = request.body as Readable | undefined | null;
  const length = Number(request.headers['content-length'] ?? NaN);
  if (!body || typeof body.pipe !== 'function' || length === 0) return { kind: 'none' };
  if (!Number.isSafeInteger(length) || length > REPLAY_BUFFER_LIMIT) return { kind: 'streamed' };
  // a client that stalls mid-body gets 408 after the route's timeout instead of holding on
  return { kind: 'buffered', body: await readBody(body, REPLAY_BUFFER_LIMIT, timeoutMs) };
}
