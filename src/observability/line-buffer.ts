import { write, writeSync } from 'node:fs';

// Log lines gathered in memory and written to a file descriptor in large pieces: a write per
// line is a system call per request, which cost a proxied call more than the rest of its log
// line. Written when 64 KB have gathered, at least once a second, and at once (synchronously)
// on flush() and when the process exits, so only a crash loses the last second.

const FLUSH_BYTES = 64 * 1024;
const FLUSH_EVERY_MS = 1_000;

export class LineBuffer {
  private pending: string[] = [];
  private bytes = 0;
  private writing = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = () => this.flush();

  constructor(private readonly fd: number) {
    this.timer = setInterval(() => this.writeOut(), FLUSH_EVERY_MS);
    this.timer.unref();
    process.once('exit', this.onExit);
  }

  /** one line, ending with "\n" */
  add(line: string): void {
    this.pending.push(line);
    this.bytes += line.length;
    if (this.bytes >= FLUSH_BYTES) this.writeOut();
  }

  /** everything gathered, written before this returns */
  flush(): void {
    const text = this.take();
    if (text) writeSync(this.fd, text);
  }

  close(): void {
    clearInterval(this.timer);
    process.off('exit', this.onExit);
    this.flush();
  }

  private writeOut(): void {
    // one write at a time keeps the lines in order; what gathers meanwhile goes next
    if (this.writing || this.bytes === 0) return;
    const text = this.take();
    this.writing = true;
    write(this.fd, text, (error) => {
      this.writing = false;
      // stdout gone (a closed pipe): nothing to do but drop the lines
      if (error) this.take();
      else if (this.bytes >= FLUSH_BYTES) this.writeOut();
    });
  }

  private take(): string {
    const text = this.pending.join('');
    this.pending = [];
    this.bytes = 0;
    return text;
  }
}
