import type { Redis } from 'ioredis';
import { SessionCipher } from '../../src/session/cipher.js';
import type { SessionData } from '../../src/session/session.js';
import { storeIdOf } from '../../src/session/sessions.js';
import { unpackSession } from '../../src/store/stored-session-bytes.js';
import { SESSION_KEY } from './gateway.js';

// Tests look inside a stored session the way only the gateway can: with its key.

/** The session id a "name=value" session cookie carries (the signed value, unsigned). */
export function sessionIdOf(sessionCookie: string): string {
  const value = decodeURIComponent(sessionCookie.slice(sessionCookie.indexOf('=') + 1));
  return value.slice(0, value.lastIndexOf('.'));
}

export async function peekSession(redis: Redis, sessionCookie: string, prefix = 'bff:'): Promise<SessionData | null> {
  const storeId = storeIdOf(sessionIdOf(sessionCookie));
  const stored = await redis.getBuffer(`${prefix}s:{${storeId}}`);
  const sealed = stored && unpackSession(stored)?.data;
  if (!sealed) return null;
  const plain = new SessionCipher([Buffer.from(SESSION_KEY, 'base64')]).open(sealed, storeId);
  return plain ? (JSON.parse(plain.toString('utf8')) as SessionData) : null;
}
