import type { SpanBatch } from './batch-format.js';
import { spanJson } from './otlp-json.js';
import type { RecordedSpan } from './recorded-span.js';

// The spans of one export request as OTLP JSON (otlp-json.ts), written straight into the
// request's body as each span ends: one buffer per batch, the request's head written first
// and its tail when it is sent. No span outlives its end, and no per-span buffer is made or
// joined (bench/README.md, "Traces: spans written into the batch").

const COMMA = 0x2c;
const TAIL = Buffer.from(']}]}]}');
/** what a span's JSON takes at most per character (UTF-8), plus its comma */
const WORST_BYTES_PER_CHAR = 3;

export class JsonSpanBatch implements SpanBatch {
  private bytes: Buffer;
  private used: number;
  count = 0;

  /** `head`: the request up to the spans' array (resource and scope, otlp-json.ts's requestHead) */
  constructor(head: Buffer, expectedBytes: number) {
    this.bytes = Buffer.allocUnsafe(Math.max(expectedBytes, head.length + 4096));
    this.used = head.copy(this.bytes);
  }

  add(span: RecordedSpan): void {
    const json = spanJson(span);
    const room = json.length * WORST_BYTES_PER_CHAR + 1 + TAIL.length;
    if (this.used + room > this.bytes.length) this.grow(room);
    if (this.count > 0) this.bytes[this.used++] = COMMA;
    this.used += this.bytes.write(json, this.used);
    this.count += 1;
  }

  /** The whole request body (the batch takes no more spans after this). */
  request(): Buffer {
    const end = this.used + TAIL.copy(this.bytes, this.used);
    return this.bytes.subarray(0, end);
  }

  private grow(room: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + room));
    this.bytes.copy(bigger, 0, 0, this.used);
    this.bytes = bigger;
  }
}
