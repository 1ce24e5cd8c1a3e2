import type { UserSessionRecord } from './store.js';

// A user's entry for a session as one hash field value:
// "<createdAt>:<lastSeenAt>:<liveUntil>:<0|1 has a user agent>:" then the sealed meta.
// The scripts read the numbers from the head; the meta stays opaque bytes.

const COLON = 0x3a;

export function packUserSession(r: UserSessionRecord): Buffer {
  return Buffer.concat([Buffer.from(`${r.createdAt}:${r.lastSeenAt}:${r.liveUntil}:${r.hasUserAgent ? 1 : 0}:`), r.meta]);
}

export function unpackUserSession(storeId: string, value: Buffer): UserSessionRecord | null {
  const numbers: number[] = [];
  let at = 0;
  for (let i = 0; i < 4; i++) {
    const end = value.indexOf(COLON, at);
    if (end === -1) return null;
    const n = Number(value.toString('latin1', at, end));
    if (!Number.isSafeInteger(n)) return null;
    numbers.push(n);
    at = end + 1;
  }
  const [createdAt, lastSeenAt, liveUntil, ua] = numbers as [number, number, number, number];
  return { storeId, createdAt, lastSeenAt, liveUntil, hasUserAgent: ua === 1, meta: value.subarray(at) };
}
