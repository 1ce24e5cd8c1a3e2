import type { StoredSession } from './store.js';

// A session as one Redis string: "<version>:<absoluteExpiresAt>:" then the sealed bytes.
// One string, not a hash: a sealed session (about 1 KB) is past Redis's
// hash-max-listpack-value, so a hash of it takes the bulky hashtable encoding, about 240 B
// more per session (measured by the bench). The scripts read the version and the absolute
// expiry from the head; the data stays opaque bytes.

const COLON = 0x3a;

export function packSession(s: StoredSession): Buffer {
  return Buffer.concat([Buffer.from(`${s.version}:${s.absoluteExpiresAt}:`), s.data]);
}

/** The session in a stored value; null when it is not one (no head). */
export function unpackSession(value: Buffer): StoredSession | null {
  const first = value.indexOf(COLON);
  const second = first === -1 ? -1 : value.indexOf(COLON, first + 1);
  if (second === -1) return null;
  const version = Number(value.toString('latin1', 0, first));
  const absoluteExpiresAt = Number(value.toString('latin1', first + 1, second));
  if (!Number.isSafeInteger(version) || !Number.isSafeInteger(absoluteExpiresAt)) return null;
  return { version, absoluteExpiresAt, data: value.subarray(second + 1) };
}
