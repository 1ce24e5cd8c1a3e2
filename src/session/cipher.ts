import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

// AES-256-GCM with a key ring: the first key seals, every key opens (rotation). Each sealed
// value names its key by a 4-byte fingerprint, so opening never tries keys blindly. The
// associated data binds a ciphertext to its store id: a value copied under another
// session's key does not open. node:crypto is used rather than WebCrypto: it is far faster.
//
// layout: fingerprint(4) | iv(12) | tag(16) | ciphertext

const FP = 4;
const IV = 12;
const TAG = 16;

interface RingKey {
  key: Buffer;
  fingerprint: Buffer;
}

export class SessionCipher {
  private readonly ring: RingKey[];

  constructor(keys: Buffer[]) {
    if (keys.length === 0) throw new Error('at least one encryption key is needed');
    this.ring = keys.map((key) => {
      if (key.length !== 32) throw new Error('encryption keys must be 32 bytes');
      return { key, fingerprint: createHash('sha256').update(key).digest().subarray(0, FP) };
    });
  }

  seal(plaintext: Buffer, aad: string): Buffer {
    const { key, fingerprint } = this.ring[0]!;
    const iv = randomBytes(IV);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([fingerprint, iv, cipher.getAuthTag(), body]);
  }

  /** The plaintext, or null when no key of the ring opens it (tampered, or key retired). */
  open(sealed: Buffer, aad: string): Buffer | null {
    if (sealed.length < FP + IV + TAG) return null;
    const fingerprint = sealed.subarray(0, FP);
    const entry = this.ring.find((k) => k.fingerprint.equals(fingerprint));
    if (!entry) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', entry.key, sealed.subarray(FP, FP + IV));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(sealed.subarray(FP + IV, FP + IV + TAG));
      return Buffer.concat([decipher.update(sealed.subarray(FP + IV + TAG)), decipher.final()]);
    } catch {
      return null;
    }
  }
}
