import { write, writeSync } from 'node:fs';

// Log lines gathered and written to a file descriptor in large pieces: a write per line is a
// system call per request, which cost a proxied call more than the rest of its log line.
// Written when 32 KB have gathered (half a chunk, so the next lines have room while it is
// written), at least once a second, and at once (synchronously) on flush() and when the
// process exits, so only a crash loses the last second.
//
// Each line is copied into a byte chunk as it comes, so the string dies young. Strings held
// until the write (up to a second) outlived the minor collections and were promoted to the
// old generation, whose collections make a p99 tail (bench/README.md).

const CHUNK_BYTES = 64 * 1024;
const FLUSH_EVERY_MS = 1_000;
/** chunks kept for reuse once written */
const SPARE_CHUNKS = 4;

export class LineBuffer {
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  /** full chunks (or parts of them) waiting for the write in flight */
  private queued: Buffer[] = [];
  private spare: Buffer[] = [];
  private writing = false;
  /** called when the write in flight has ended */
  private afterWrite: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = () => this.flush();

  constructor(private readonly fd: number) {
    this.timer = setInterval(() => this.writeOut(), FLUSH_EVERY_MS);
    this.timer.unref();
    process.once('exit', this.onExit);
  }

  /** one line, ending with "\n" */
  add(line: string): void {
    // a UTF-8 character takes at most 3 bytes per UTF-16 unit
    if (this.used + line.length * 3 > CHUNK_BYTES) {
      this.seal();
      if (line.length * 3 > CHUNK_BYTES) {
        this.queued.push(Buffer.from(line));
        this.writeOut();
        return;
      }
    }
    this.used += this.chunk.write(line, this.used);
    if (this.used >= CHUNK_BYTES / 2 && !this.writing) this.writeOut();
  }

  /**
   * Everything gathered, written before this returns. A write in flight may still land after
   * it: close() waits for it; on exit, when nothing can wait, this is the best there is.
   */
  flush(): void {
    this.seal();
    const pieces = this.queued;
    this.queued = [];
    for (const piece of pieces) writeSync(this.fd, piece);
  }

  /** stops the timer and writes everything, in order */
  async close(): Promise<void> {
    clearInterval(this.timer);
    process.off('exit', this.onExit);
    while (this.writing) await new Promise<void>((done) => this.afterWrite.push(done));
    this.flush();
  }

  /** the lines of the current chunk join the queue; later lines go to a fresh chunk */
  private seal(): void {
    if (this.used === 0) return;
    this.queued.push(this.chunk.subarray(0, this.used));
    this.chunk = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
  }

  private writeOut(): void {
    // one write at a time keeps the lines in order; what gathers meanwhile goes next
    if (this.writing) return;
    this.seal();
    const piece = this.queued.shift();
    if (!piece) return;
    this.writing = true;
    write(this.fd, piece, (error, written) => {
      this.writing = false;
      if (error) {
        // stdout gone (a closed pipe): nothing to do but drop the lines
        this.queued = [];
      } else if (written < piece.length) {
        this.queued.unshift(piece.subarray(written));
      } else if (piece.buffer.byteLength === CHUNK_BYTES && this.spare.length < SPARE_CHUNKS) {
        this.spare.push(Buffer.from(piece.buffer));
      }
      const waiting = this.afterWrite;
      this.afterWrite = [];
      if (waiting.length > 0) for (const done of waiting) done();
      else if (this.queued.length > 0) this.writeOut();
    });
  }
}
