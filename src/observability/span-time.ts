import type { HrTime, TimeInput } from '@opentelemetry/api';

// Span times as epoch milliseconds (a double: about 0.25 µs apart at today's epoch, so
// times are kept to the microsecond), turned into the SDK's HrTime or the OTLP JSON's
// nanosecond string only when asked.

const origin = performance.timeOrigin;

export function nowMs(): number {
  return origin + performance.now();
}

/** A TimeInput as epoch ms: a number below the epoch of 2001 is a performance.now() reading, as the SDK reads it. */
export function epochMs(time: TimeInput | undefined): number {
  if (time === undefined) return nowMs();
  if (typeof time === 'number') return time < 1e12 ? origin + time : time;
  if (time instanceof Date) return time.getTime();
  return time[0] * 1e3 + time[1] / 1e6; // HrTime: [seconds, nanoseconds] since the epoch
}

/** Epoch (or elapsed) ms as the SDK's HrTime: [seconds, nanoseconds], to the microsecond. */
export function hrTimeOf(ms: number): HrTime {
  const micros = Math.round(ms * 1e3); // an exact integer: epoch µs are below 2^53
  const seconds = Math.floor(micros / 1e6);
  return [seconds, (micros - seconds * 1e6) * 1e3];
}

/** Epoch ms as a decimal count of nanoseconds (what OTLP JSON carries), without a BigInt: the same instant as hrTimeOf's. */
export function nanosText(ms: number): string {
  const micros = Math.round(ms * 1e3);
  return micros === 0 ? '0' : `${micros}000`;
}

/** An HrTime as a decimal count of nanoseconds. */
export function hrNanosText(time: HrTime): string {
  return time[0] === 0 ? String(time[1]) : `${time[0]}${String(time[1]).padStart(9, '0')}`;
}
