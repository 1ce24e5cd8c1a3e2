import { randomBytes } from 'node:crypto';

// The gateway's own close frames (RFC 6455 §5.5.1): 4401 when the session ended, 1001 on
// shutdown, 1009 for a message over the maximum. Toward the client unmasked (a server's
// frames never are), toward the upstream masked with a fresh random key (a client's frames
// always are, §5.3). Made only when a socket is being closed.

/** a close frame's payload holds the 2-byte code and at most 123 bytes of reason */
const MAX_REASON = 123;

export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  let text = Buffer.from(reason);
  if (text.length > MAX_REASON) text = Buffer.alloc(0);
  const length = 2 + text.length;
  const headerLength = masked ? 6 : 2;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x88; // FIN, opcode 8
  frame[1] = (masked ? 0x80 : 0) | length;
  frame.writeUInt16BE(code, headerLength);
  text.copy(frame, headerLength + 2);
  if (masked) {
    const key = randomBytes(4);
    key.copy(frame, 2);
    for (let i = 0; i < length; i++) frame[headerLength + i]! ^= key[i & 3]!;
  }
  return frame;
}
