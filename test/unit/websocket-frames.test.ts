import { describe, expect, it } from 'vitest';
import { FrameScanner, SCAN_BOUNDARY, SCAN_END, SCAN_TOO_BIG } from '../../src/proxy/websocket-frames.js';
import { cut, frame, headerOnly } from '../helpers/ws-frames.js';

// The frame-header scanner of the WebSocket tunnel: frame boundaries and message sizes
// found from headers alone, whatever the chunks the bytes come in.

const TEXT = 1;
const BINARY = 2;
const CONTINUATION = 0;
const CLOSE = 8;
const PING = 9;
const bytes = (n: number, fill = 0x61) => Buffer.alloc(n, fill);

/** Whether the scanner stands between frames after `data` fed in chunks cut at `at`. */
function betweenFrames(data: Buffer, at: number[]): boolean {
  const scanner = new FrameScanner(1 << 20);
  for (const chunk of cut(data, at)) expect(scanner.scan(chunk, 0)).toBe(SCAN_END);
  return scanner.atBoundary;
}

describe('FrameScanner', () => {
  it('walks frames of every length form, masked or not, and ends between frames', () => {
    const frames = [
      frame({ opcode: TEXT, payload: bytes(5) }),
      frame({ opcode: BINARY, payload: bytes(300), masked: true }),
      frame({ opcode: BINARY, payload: bytes(70_000) }),
      frame({ opcode: TEXT, payload: bytes(3), lengthForm: 127, masked: true }),
      frame({ opcode: PING, payload: bytes(0) }),
    ];
    const scanner = new FrameScanner(1 << 20);
    expect(scanner.scan(Buffer.concat(frames), 0)).toBe(SCAN_END);
    expect(scanner.atBoundary).toBe(true);
    expect(scanner.remaining).toBe(0);
  });

  it('finds each frame end, with the header split at every possible byte', () => {
    const a = frame({ opcode: TEXT, payload: bytes(10), masked: true }); // 2 + 4 + 10
    const b = frame({ opcode: BINARY, payload: bytes(200), masked: true }); // 2 + 2 + 4 + 200
    const c = frame({ opcode: BINARY, payload: bytes(20), lengthForm: 127, masked: true }); // 2 + 8 + 4 + 20
    const data = Buffer.concat([a, b, c]);
    const ends = [a.length, a.length + b.length, data.length];
    for (let split = 1; split < data.length; split++) {
      for (let end = 1; end <= data.length; end++) {
        const at = [...new Set([Math.min(split, end), end])].filter((x) => x < end);
        const prefix = data.subarray(0, end);
        expect(betweenFrames(prefix, at), `split at ${split}, ${end} bytes`).toBe(ends.includes(end));
      }
    }
  });

  it('holds the bytes of a header the chunk ends inside, and gives them back whole', () => {
    const data = frame({ opcode: BINARY, payload: bytes(70_000, 7), masked: true }); // 14-byte header
    const scanner = new FrameScanner(1 << 20);
    for (let i = 0; i < 13; i++) {
      expect(scanner.scan(data.subarray(i, i + 1), 0)).toBe(SCAN_END);
      expect(scanner.held).toBe(i + 1);
    }
    expect(scanner.heldBytes().equals(data.subarray(0, 13))).toBe(true);
    expect(scanner.scan(data.subarray(13), 0)).toBe(SCAN_END);
    expect(scanner.held).toBe(0);
    expect(scanner.atBoundary).toBe(true);
  });

  it('counts a fragmented message across its frames, not the control frames between them', () => {
    const scanner = new FrameScanner(1000);
    const first = frame({ opcode: TEXT, fin: false, payload: bytes(600) });
    const ping = frame({ opcode: PING, payload: bytes(100) });
    const rest = frame({ opcode: CONTINUATION, fin: true, payload: bytes(400) }); // 1000 in all: allowed
    expect(scanner.scan(Buffer.concat([first, ping, rest]), 0)).toBe(SCAN_END);
    // the message is complete: the next one starts from zero
    expect(scanner.scan(frame({ opcode: BINARY, payload: bytes(1000) }), 0)).toBe(SCAN_END);

    const over = new FrameScanner(1000);
    const data = Buffer.concat([first, ping, frame({ opcode: CONTINUATION, fin: false, payload: bytes(300) }), ping, frame({ opcode: CONTINUATION, payload: bytes(101) })]);
    expect(over.scan(data, 0)).toBe(SCAN_TOO_BIG);
    // at the start of the frame that makes it 1001 bytes, none of which is to be forwarded
    expect(over.at).toBe(first.length + ping.length + 4 + 300 + ping.length);
    expect(over.next).toBe(over.at + 2);
    expect(over.remaining).toBe(101);
  });

  it('a single frame over the maximum is found at its header, whatever the chunks', () => {
    const small = frame({ opcode: TEXT, payload: bytes(100), masked: true });
    const big = frame({ opcode: BINARY, payload: bytes(1025), masked: true });
    const data = Buffer.concat([small, big]);
    for (let split = 1; split < small.length + 8; split++) {
      const scanner = new FrameScanner(1024);
      const [one, two] = cut(data, [split]) as [Buffer, Buffer];
      const first = scanner.scan(one, 0);
      if (first === SCAN_TOO_BIG) {
        expect(scanner.at, `split at ${split}`).toBe(small.length);
        continue;
      }
      expect(scanner.scan(two, 0), `split at ${split}`).toBe(SCAN_TOO_BIG);
      // in the second chunk; negative: it began in the bytes held from the first
      expect(scanner.at, `split at ${split}`).toBe(small.length - split);
    }
  });

  it('64-bit lengths: past 2^32 and with the top bit set are over any maximum', () => {
    for (const length of [2n ** 32n + 1n, 2n ** 53n + 3n, 2n ** 63n, 2n ** 64n - 1n]) {
      const scanner = new FrameScanner(64 * 1024 * 1024);
      expect(scanner.scan(headerOnly(BINARY, length, true), 0), String(length)).toBe(SCAN_TOO_BIG);
    }
    const scanner = new FrameScanner(2 ** 33);
    expect(scanner.scan(headerOnly(BINARY, 2n ** 32n + 5n), 0)).toBe(SCAN_END);
    expect(scanner.remaining).toBe(2 ** 32 + 5);
  });

  it('counts close frames, and a frame end with untilBoundary mid-payload', () => {
    const scanner = new FrameScanner(1024);
    const close = frame({ opcode: CLOSE, payload: Buffer.from([0x03, 0xe8]) });
    const data = Buffer.concat([frame({ opcode: TEXT, payload: bytes(50) }), close]);
    expect(scanner.scan(data.subarray(0, 20), 0)).toBe(SCAN_END);
    expect(scanner.remaining).toBe(32);
    expect(scanner.scan(data.subarray(20), 0, true)).toBe(SCAN_BOUNDARY);
    expect(scanner.at).toBe(32);
    expect(scanner.closes).toBe(0);
    expect(scanner.scan(data.subarray(20), 32)).toBe(SCAN_END);
    expect(scanner.closes).toBe(1);
  });
});
