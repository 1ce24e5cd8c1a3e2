import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closeFrame } from '../../src/proxy/websocket-close.js';
import { Lane, type LaneEvents } from '../../src/proxy/websocket-lane.js';
import { cut, frame, type FrameSpec } from '../helpers/ws-frames.js';

// One direction of the WebSocket tunnel over fake sockets: what reaches `to` for any way the
// bytes are cut into chunks. Everything passes unchanged; a message over the maximum stops
// the lane right before its frame with a 1009 close; the gateway's own close goes in where
// the frame in progress ends; a full `to` pauses `from`.

class FakeSocket extends EventEmitter {
  written: Buffer[] = [];
  writable = true;
  paused = false;
  full = false;
  write(data: Buffer): boolean {
    this.written.push(data);
    return !this.full;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  get output(): Buffer {
    return Buffer.concat(this.written);
  }
}

const TOO_BIG_TO_UPSTREAM = closeFrame(1009, 'message too big', false);

function lane(maxMessage: number, masked = false) {
  const from = new FakeSocket();
  const to = new FakeSocket();
  const events: LaneEvents & { tooBigs: number } = {
    tooBigs: 0,
    closing: () => {},
    tooBig(l) {
      this.tooBigs += 1;
      l.sendClose(TOO_BIG_TO_UPSTREAM);
    },
  };
  const l = new Lane(from as unknown as Socket, to as unknown as Socket, masked, maxMessage, events);
  return { lane: l, from, to, events };
}

const specArbitrary: fc.Arbitrary<FrameSpec> = fc.record({
  opcode: fc.constantFrom(0, 1, 2, 9, 10),
  fin: fc.boolean(),
  masked: fc.boolean(),
  payload: fc.nat({ max: 400 }).map((n) => Buffer.alloc(n, 0x5a)),
  lengthForm: fc.constantFrom(undefined, 126 as const, 127 as const),
}).map(({ lengthForm, ...spec }) => (lengthForm === undefined ? spec : { ...spec, lengthForm }));

/** The frames up to the first that makes its message exceed `max` (its index, or -1). */
function firstTooBig(specs: FrameSpec[], max: number): number {
  let message = 0;
  for (const [i, spec] of specs.entries()) {
    if (spec.opcode >= 8) continue;
    message = (spec.opcode === 0 ? message : 0) + spec.payload.length;
    if (message > max) return i;
    if (spec.fin !== false) message = 0;
  }
  return -1;
}

const cutsOf = (length: number) => fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 12 }).map((at) => at.filter((x) => x < length).sort((a, b) => a - b));

describe('a tunnel lane', () => {
  it('passes any frames unchanged, however they are cut into chunks', () => {
    fc.assert(
      fc.property(fc.array(specArbitrary, { minLength: 1, maxLength: 12 }).chain((specs) => {
        const data = Buffer.concat(specs.map(frame));
        return fc.tuple(fc.constant(data), cutsOf(data.length));
      }), ([data, at]) => {
        const { lane: l, to } = lane(1 << 20);
        for (const chunk of cut(data, at)) l.push(chunk);
        expect(to.output.equals(data)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('stops right before the frame that makes a message too big, with a 1009 close, however the bytes are cut', () => {
    fc.assert(
      fc.property(fc.array(specArbitrary, { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 800 }), (specs, max) => {
        const frames = specs.map(frame);
        const data = Buffer.concat(frames);
        const over = firstTooBig(specs, max);
        return fc.assert(
          fc.property(cutsOf(data.length), (at) => {
            const { lane: l, to, events } = lane(max);
            for (const chunk of cut(data, at)) l.push(chunk);
            if (over < 0) {
              expect(to.output.equals(data)).toBe(true);
              expect(events.tooBigs).toBe(0);
            } else {
              const before = Buffer.concat(frames.slice(0, over));
              expect(to.output.equals(Buffer.concat([before, TOO_BIG_TO_UPSTREAM]))).toBe(true);
              expect(events.tooBigs).toBe(1);
            }
          }),
          { numRuns: 5 },
        );
      }),
      { numRuns: 200 },
    );
  });

  it("puts the gateway's close frame where the frame in progress ends, and nothing after it", () => {
    const a = frame({ opcode: 2, payload: Buffer.alloc(1000, 1), masked: true });
    const b = frame({ opcode: 1, payload: Buffer.alloc(10, 2), masked: true });
    const close = closeFrame(4401, 'session ended', true);
    const { lane: l, from, to } = lane(1 << 20, true);
    l.push(a.subarray(0, 300)); // inside a's payload
    expect(l.inject(close)).toBe(true);
    expect(to.output.equals(a.subarray(0, 300))).toBe(true);
    l.push(Buffer.concat([a.subarray(300), b]));
    expect(to.output.equals(Buffer.concat([a, close]))).toBe(true);
    l.push(b); // after the close: only watched
    expect(to.output.equals(Buffer.concat([a, close]))).toBe(true);
    expect(l.inject(close)).toBe(false); // once
    expect(from.paused).toBe(false);
  });

  it('at a boundary the close goes at once; after a close frame from `from` none is added', () => {
    const { lane: l, to } = lane(1 << 20);
    const close = closeFrame(1001, 'going away', false);
    expect(l.inject(close)).toBe(true);
    expect(to.output.equals(close)).toBe(true);

    const other = lane(1 << 20);
    const theirs = frame({ opcode: 8, payload: Buffer.from([0x0f, 0xa0]) });
    other.lane.push(theirs);
    expect(other.lane.inject(close)).toBe(false);
    expect(other.to.output.equals(theirs)).toBe(true);
    expect(other.lane.closesFrom).toBe(1);
    expect(other.lane.closeDelivered).toBe(true);
  });

  it('pauses `from` while `to` is full, until it drains', () => {
    const { lane: l, from, to } = lane(1 << 20);
    to.full = true;
    l.push(frame({ opcode: 2, payload: Buffer.alloc(100) }));
    expect(from.paused).toBe(true);
    to.full = false;
    to.emit('drain');
    expect(from.paused).toBe(false);
  });
});
