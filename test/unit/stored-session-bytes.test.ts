import { describe, expect, it } from 'vitest';
import { packSession, unpackSession } from '../../src/store/stored-session-bytes.js';

describe('a session as stored bytes', () => {
  it('round-trips, whatever bytes the sealed data holds (colons included)', () => {
    const session = { version: 12, absoluteExpiresAt: 1_790_000_000_000, data: Buffer.from([58, 0, 255, 58, 58]) };
    const packed = packSession(session);
    expect(packed.subarray(0, 17).toString('latin1')).toBe('12:1790000000000:');
    expect(unpackSession(packed)).toEqual(session);
  });

  it('is null for a value that is not a session', () => {
    expect(unpackSession(Buffer.from('no head'))).toBeNull();
    expect(unpackSession(Buffer.from('x:1:data'))).toBeNull();
  });
});
