import { randomBytes } from 'node:crypto';

// WebSocket frames built by hand for the scanner's tests (RFC 6455 §5.2): any opcode, FIN or
// not, masked or not, and the payload length in its shortest form unless one is asked for.

export interface FrameSpec {
  opcode: number;
  fin?: boolean;
  masked?: boolean;
  payload: Buffer;
  /** force the 16-bit (126) or 64-bit (127) length form */
  lengthForm?: 126 | 127;
}

export function frame(spec: FrameSpec): Buffer {
  const { payload } = spec;
  const form = spec.lengthForm ?? (payload.length < 126 ? 0 : payload.length < 65536 ? 126 : 127);
  const extended = form === 126 ? 2 : form === 127 ? 8 : 0;
  const mask = spec.masked ? 4 : 0;
  const header = Buffer.alloc(2 + extended + mask);
  header[0] = (spec.fin === false ? 0 : 0x80) | spec.opcode;
  header[1] = (spec.masked ? 0x80 : 0) | (form === 0 ? payload.length : form);
  if (form === 126) header.writeUInt16BE(payload.length, 2);
  if (form === 127) header.writeBigUInt64BE(BigInt(payload.length), 2);
  if (!spec.masked) return Buffer.concat([header, payload]);
  const key = randomBytes(4);
  key.copy(header, 2 + extended);
  return Buffer.concat([header, Buffer.from(payload.map((byte, i) => byte ^ key[i & 3]!))]);
}

/** Only a header announcing `length` payload bytes (for lengths too large to build). */
export function headerOnly(opcode: number, length: bigint, masked = false): Buffer {
  const header = Buffer.alloc(10 + (masked ? 4 : 0));
  header[0] = 0x80 | opcode;
  header[1] = (masked ? 0x80 : 0) | 127;
  header.writeBigUInt64BE(length, 2);
  return header;
}

/** The buffer cut at the given offsets (sorted, inside it), as separate chunks. */
export function cut(data: Buffer, at: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...at, data.length]) {
    chunks.push(data.subarray(from, to));
    from = to;
  }
  return chunks;
}
