import { randomFillSync } from 'node:crypto';

// Trace and span ids from a pool of random bytes, refilled 4 KB at a time: one
// randomFillSync per 170 spans instead of a string built digit by digit per id.

const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/** 16 random bytes as 32 hex digits, never all zeros (an invalid trace id). */
export function newTraceId(): string {
  const id = randomHex(16);
  return id === ZERO_TRACE ? newTraceId() : id;
}

/** 8 random bytes as 16 hex digits, never all zeros (an invalid span id). */
export function newSpanId(): string {
  const id = randomHex(8);
  return id === ZERO_SPAN ? newSpanId() : id;
}
