// The few protobuf wire-format writes an OTLP span needs, straight into one growing Buffer:
// varints, fixed-width numbers, bytes from hex, strings, and messages whose length is
// written in front of them once they are done (one byte reserved, moved up when the length
// needs more, as the SDK's own ProtobufWriter does).

/** strings kept encoded: up to this many, of up to this many characters (bounded memory) */
const KEPT_STRINGS = 1024;
const KEPT_STRING_LENGTH = 64;
const encodedStrings = new Map<string, Buffer>();
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

  /** Length-delimited bytes given as hex digits (trace and span ids). */
  hexBytes(hex: string): void {
    const n = hex.length >>> 1;
    this.room(n + 1);
    const written = this.bytes.write(hex, this.pos + 1, n, 'hex');
    this.bytes[this.pos] = written;
    this.pos += 1 + written;
  }

  /**
   * A length-delimited UTF-8 string. The short ones are encoded once and copied after
   * (names, keys, methods, routes, hosts repeat on every span): reading a string char by
   * char in JS goes megamorphic on the many kinds of string V8 makes, and a native write
   * per short string costs more than the copy (bench/README.md, "Traces: protobuf, and the hot
   * path without wrappers").
   */
  string(value: string): void {
    const known = encodedStrings.get(value);
    if (known !== undefined) {
      this.room(known.length);
      this.bytes.set(known, this.pos);
      this.pos += known.length;
    } else if (value.length <= KEPT_STRING_LENGTH && encodedStrings.size < KEPT_STRINGS) {
      const encoded = lengthDelimited(value);
      encodedStrings.set(value, encoded);
      this.string(value);
    } else {
      const n = Buffer.byteLength(value);
      this.varint(n);
      this.room(n);
      this.pos += this.bytes.write(value, this.pos);
    }
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

/** A string's UTF-8 bytes after their length, as a length-delimited field's value is written. */
function lengthDelimited(value: string): Buffer {
  const length = Buffer.byteLength(value);
  const out = Buffer.allocUnsafeSlow(varintSize(length) + length);
  out.write(value, writeVarintAt(out, 0, length));
  return out;
}

export function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x20_0000 ? 3 : value < 0x1000_0000 ? 4 : 5;
}
