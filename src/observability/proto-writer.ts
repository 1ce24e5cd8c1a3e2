// The few protobuf wire-format writes an OTLP span needs, straight into one growing Buffer:
// varints, fixed-width numbers, bytes from hex, strings, and messages whose length is
// written in front of them once they are done (one byte reserved, moved up when the length
// needs more, as the SDK's own ProtobufWriter does).

/** a string this short takes under 128 bytes of UTF-8: its length fits the one byte reserved */
const SHORT_STRING = 42;
const TWO_32 = 0x1_0000_0000;

export class ProtoWriter {
  bytes: Buffer;
  pos: number;

  constructor(size: number, pos = 0) {
    this.bytes = Buffer.allocUnsafe(size);
    this.pos = pos;
  }

  /** Makes room for `n` more bytes. */
  room(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.pos + n));
    this.bytes.copy(bigger, 0, 0, this.pos);
    this.bytes = bigger;
  }

  /** A tag (or any varint below 2^32), room included. */
  varint(value: number): void {
    this.room(5);
    this.pos = writeVarintAt(this.bytes, this.pos, value);
  }

  /** An int64 value as a varint: two's complement for a negative one, as protobuf writes it. */
  int64(value: number): void {
    if (value >= 0 && value < TWO_32) return this.varint(value);
    this.room(10);
    let high = Math.floor(value / TWO_32) >>> 0; // a negative value's high word wraps, as in two's complement
    let low = (value - Math.floor(value / TWO_32) * TWO_32) >>> 0;
    while (high > 0 || low > 0x7f) {
      this.bytes[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    this.bytes[this.pos++] = low;
  }

  fixed32(value: number): void {
    this.room(4);
    this.pos = this.bytes.writeUInt32LE(value >>> 0, this.pos);
  }

  double(value: number): void {
    this.room(8);
    this.pos = this.bytes.writeDoubleLE(value, this.pos);
  }

  /**
   * Epoch milliseconds (kept to the microsecond) as fixed64 nanoseconds, exactly: the
   * microseconds are below 2^53, their nanoseconds are not, so the thousandfold is
   * carried across two 32-bit words.
   */
  fixed64Nanos(ms: number): void {
    this.room(8);
    const micros = Math.round(ms * 1e3);
    const microsHigh = Math.floor(micros / TWO_32);
    const lowTimes1000 = (micros - microsHigh * TWO_32) * 1000; // below 2^42: exact
    const carry = Math.floor(lowTimes1000 / TWO_32);
    this.pos = this.bytes.writeUInt32LE(lowTimes1000 - carry * TWO_32, this.pos);
    this.pos = this.bytes.writeUInt32LE((microsHigh * 1000 + carry) >>> 0, this.pos);
  }

  /** Length-delimited bytes given as hex digits (trace and span ids: valid, lower or upper case). */
  hexBytes(hex: string): void {
    const n = hex.length >>> 1;
    this.room(n + 1);
    const bytes = this.bytes;
    bytes[this.pos++] = n;
    for (let i = 0; i < 2 * n; i += 2) bytes[this.pos++] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1));
  }

  /** A length-delimited UTF-8 string. */
  string(value: string): void {
    if (value.length <= SHORT_STRING) {
      // byte by byte while it is ASCII (most are): a native write per short string costs more
      this.room(1 + value.length * 3);
      const bytes = this.bytes;
      const at = this.pos + 1;
      let i = 0;
      for (; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c > 0x7f) break;
        bytes[at + i] = c;
      }
      const n = i === value.length ? i : i + bytes.write(value.slice(i), at + i);
      bytes[this.pos] = n;
      this.pos = at + n;
      return;
    }
    const n = Buffer.byteLength(value);
    this.varint(n);
    this.room(n);
    this.pos += this.bytes.write(value, this.pos);
  }

  /**
   * Starts a length-delimited message (after its tag), `reserved` bytes kept for its length
   * (two for a span, which is mostly 128 bytes to 16 KB long): end() writes it at the mark.
   */
  begin(reserved = 1): number {
    this.room(reserved);
    const mark = this.pos;
    this.pos += reserved;
    return mark;
  }

  /** Ends the message begun at `mark`, writing its length there (and moving it when that takes other than `reserved` bytes). */
  end(mark: number, reserved = 1): void {
    const length = this.pos - mark - reserved;
    const size = varintSize(length);
    if (size !== reserved) {
      this.room(size - reserved);
      this.bytes.copyWithin(mark + size, mark + reserved, this.pos);
      this.pos += size - reserved;
    }
    writeVarintAt(this.bytes, mark, length);
  }
}

/** A varint written at `at` (room already made); returns where it ends. */
export function writeVarintAt(bytes: Buffer, at: number, value: number): number {
  let v = value >>> 0;
  while (v > 0x7f) {
    bytes[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  bytes[at++] = v;
  return at;
}

/** A hex digit's value (0-9, a-f, A-F). */
function nibble(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

export function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x20_0000 ? 3 : value < 0x1000_0000 ? 4 : 5;
}
