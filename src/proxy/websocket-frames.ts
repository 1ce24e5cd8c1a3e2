// Frame boundaries of one direction of a tunnelled WebSocket (RFC 6455 §5.2), found without
// copying, unmasking or decoding a payload: only headers are read, and a chunk's payload
// bytes are skipped by count. What it tells its tunnel (websocket-tunnel.ts):
// - where a message grows past the maximum (the sum of a data message's fragments; control
//   frames interleaved between fragments do not count), at the start of the frame header
//   that makes it so, before any byte of that frame is forwarded;
// - where the current frame ends, so that the gateway's own close frame can go in there;
// - how many close frames have passed.
// A header split across chunks is kept (its at most 13 bytes, in a buffer made once, on the
// first split) and the tunnel holds those bytes back until the header is whole: the
// forwarded stream is then never cut inside a header. No allocation per chunk or frame.

/** scan() went through the whole chunk */
export const SCAN_END = 0;
/** a frame header makes its message larger than the maximum; `at` is where that header starts */
export const SCAN_TOO_BIG = 1;
/** (when asked to stop at a boundary) the current frame ends at `at` */
export const SCAN_BOUNDARY = 2;
export type ScanResult = typeof SCAN_END | typeof SCAN_TOO_BIG | typeof SCAN_BOUNDARY;

const OPCODE_CLOSE = 0x8;
const MAX_HEADER = 14;

export class FrameScanner {
  /** payload bytes left of the current frame (0 between frames and inside a header) */
  remaining = 0;
  /** where the last scan() stopped: the end of the chunk, or (SCAN_TOO_BIG) the start of the offending header, negative when it began in the held bytes */
  at = 0;
  /** (SCAN_TOO_BIG) where the offending header ends: scanning may go on from there */
  next = 0;
  /** close frames whose header has been read */
  closes = 0;
  /** bytes of a header the last chunk ended inside (0 otherwise) */
  held = 0;
  private head: Buffer | undefined;
  /** payload bytes so far of the data message in progress */
  private message = 0;

  /** the largest message let through (Infinity once the tunnel only watches for a close frame) */
  constructor(public maxMessage: number) {}

  /** Between two frames (nothing of a frame seen but not yet complete). */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.held === 0;
  }

  /** A copy of the held header bytes (to be forwarded once the header is whole). */
  heldBytes(): Buffer {
    return Buffer.from(this.head!.subarray(0, this.held));
  }

  /**
   * Walks the frames of `chunk` from `from`. Returns SCAN_TOO_BIG at a header that makes its
   * message too big, SCAN_BOUNDARY (only with `untilBoundary`) where the current frame ends,
   * else SCAN_END with `held` set if the chunk ends inside a header.
   */
  scan(chunk: Buffer, from: number, untilBoundary = false): ScanResult {
    const n = chunk.length;
    let i = from;
    for (;;) {
      if (this.remaining > 0) {
        if (n - i <= this.remaining) {
          this.remaining -= n - i;
          this.at = n;
          if (untilBoundary && this.remaining === 0) return SCAN_BOUNDARY;
          return SCAN_END;
        }
        i += this.remaining;
        this.remaining = 0;
        if (untilBoundary) {
          this.at = i;
          return SCAN_BOUNDARY;
        }
      } else if (untilBoundary && this.held === 0) {
        this.at = i;
        return SCAN_BOUNDARY;
      }
      if (i >= n) {
        this.at = n;
        return SCAN_END;
      }
      // a header starts at i, or began in the held bytes
      const held = this.held;
      const available = held + n - i;
      if (available < 2 || available < headerLength(this.byte(chunk, i, 1))) {
        this.hold(chunk, i);
        this.at = n;
        return SCAN_END;
      }
      const b0 = this.byte(chunk, i, 0);
      const b1 = this.byte(chunk, i, 1);
      const length = this.payloadLength(chunk, i, b1 & 0x7f);
      const start = i - held;
      i += headerLength(b1) - held;
      this.held = 0;
      const opcode = b0 & 0x0f;
      if (opcode < 8) {
        // a data frame: 0 continues the message in progress, any other starts one
        this.message = (opcode === 0 ? this.message : 0) + length;
        if (this.message > this.maxMessage) {
          this.at = start;
          this.next = i;
          this.remaining = length;
          return SCAN_TOO_BIG;
        }
        if (b0 & 0x80) this.message = 0; // FIN: the message is complete
      } else if (opcode === OPCODE_CLOSE) {
        this.closes += 1;
      }
      this.remaining = length;
    }
  }

  /** Byte k of the header at chunk[i] (whose first `held` bytes are in `head`). */
  private byte(chunk: Buffer, i: number, k: number): number {
    return k < this.held ? this.head![k]! : chunk[i + k - this.held]!;
  }

  private payloadLength(chunk: Buffer, i: number, length7: number): number {
    if (length7 < 126) return length7;
    if (length7 === 126) return (this.byte(chunk, i, 2) << 8) | this.byte(chunk, i, 3);
    // 64 bits: the high half times 2^32 (a length past 2^53 loses precision but is never
    // below the maximum, which is all that matters of it then)
    let high = 0;
    let low = 0;
    for (let k = 2; k < 6; k++) high = high * 256 + this.byte(chunk, i, k);
    for (let k = 6; k < 10; k++) low = low * 256 + this.byte(chunk, i, k);
    return high * 2 ** 32 + low;
  }

  private hold(chunk: Buffer, i: number): void {
    this.head ??= Buffer.allocUnsafe(MAX_HEADER);
    this.held += chunk.copy(this.head, this.held, i);
  }
}

/** The header's length, from its second byte: 2, the extended length, the masking key. */
function headerLength(b1: number): number {
  const length7 = b1 & 0x7f;
  return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}
