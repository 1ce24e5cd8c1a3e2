import type { Socket } from 'node:net';
import { FrameScanner, SCAN_BOUNDARY, SCAN_TOO_BIG } from './websocket-frames.js';

// One direction of a tunnelled WebSocket: the bytes `from` sends, written to `to` as they
// came (one write per chunk read, nothing copied, unmasked or re-framed), with a frame
// scanner on them. Backpressure: when `to` has more queued than its high-water mark, `from`
// is paused until `to` drains. The gateway's own close frame goes in at a frame boundary
// (at once, or where the frame in progress ends); from then on what `from` sends is only
// scanned (for its close frame), never forwarded.

export interface LaneEvents {
  /** a close frame has come from `lane.from`, or passes on */
  closing(lane: Lane): void;
  /** `lane.from` sent a message over the maximum: nothing of it went on */
  tooBig(lane: Lane): void;
}

export class Lane {
  private readonly scanner: FrameScanner;
  /** the gateway's close frame, waiting for the frame in progress to end */
  private pendingClose: Buffer | undefined;
  /** the gateway's close frame went to `to`: `from` is only scanned from then on */
  stopped = false;
  private waitingDrain = false;

  constructor(
    readonly from: Socket,
    readonly to: Socket,
    /** frames to `to` are masked (it is the upstream) */
    readonly masked: boolean,
    maxMessage: number,
    private readonly events: LaneEvents,
  ) {
    this.scanner = new FrameScanner(maxMessage);
  }

  /** close frames `from` has sent */
  get closesFrom(): number {
    return this.scanner.closes;
  }

  /** `to` has had a close frame, all of it: `from`'s or the gateway's */
  get closeDelivered(): boolean {
    return this.stopped || (this.scanner.closes > 0 && this.scanner.atBoundary);
  }

  readonly push = (chunk: Buffer): void => {
    const scanner = this.scanner;
    if (this.stopped) {
      scanner.scan(chunk, 0);
    } else {
      this.forward(chunk);
    }
    if (scanner.closes > 0) this.events.closing(this);
  };

  /** Sends the gateway's close frame at the next frame boundary; false if `to` has had a close already. */
  inject(frame: Buffer): boolean {
    if (this.stopped || this.pendingClose || this.scanner.closes > 0) return false;
    if (this.scanner.atBoundary) this.sendClose(frame);
    else this.pendingClose = frame;
    return true;
  }

  private forward(chunk: Buffer): void {
    const scanner = this.scanner;
    const heldBefore = scanner.held;
    const held = heldBefore > 0 ? scanner.heldBytes() : undefined;
    const result = scanner.scan(chunk, 0, this.pendingClose !== undefined);
    if (result === SCAN_TOO_BIG) {
      // `at` < 0: the header began in the held bytes, none of which went on
      if (scanner.at >= 0) this.writeParts(held, chunk, scanner.at);
      this.events.tooBig(this); // which sends this lane's close (1009) at once: a boundary
      scanner.scan(chunk, scanner.next);
      return;
    }
    if (result === SCAN_BOUNDARY) {
      const at = scanner.at;
      this.writeParts(held, chunk, at);
      this.sendClose(this.pendingClose!);
      scanner.scan(chunk, at); // the rest only for a close frame in it
      return;
    }
    // still inside the header the last chunk ended in: nothing to forward yet
    if (heldBefore > 0 && scanner.held === heldBefore + chunk.length) return;
    this.writeParts(held, chunk, chunk.length - scanner.held);
  }

  /** the held header bytes, then chunk[0, end) */
  private writeParts(held: Buffer | undefined, chunk: Buffer, end: number): void {
    if (held) this.write(held);
    if (end > 0) this.write(end === chunk.length ? chunk : chunk.subarray(0, end));
  }

  /** Writes the gateway's close frame (at a boundary); `from` is only scanned from then on. */
  sendClose(frame: Buffer): void {
    this.pendingClose = undefined;
    this.stopped = true;
    this.scanner.maxMessage = Infinity;
    this.write(frame);
  }

  private write(data: Buffer): void {
    if (!this.to.writable) return;
    if (this.to.write(data) || this.waitingDrain) return;
    this.waitingDrain = true;
    this.from.pause();
    this.to.once('drain', this.drained);
  }

  private readonly drained = (): void => {
    this.waitingDrain = false;
    this.from.resume();
  };
}
