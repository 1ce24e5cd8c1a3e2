import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { ProtoWriter } from './proto-writer.js';
import type { RecordedSpan } from './recorded-span.js';
import { epochMs } from './span-time.js';

// A span as OTLP protobuf (opentelemetry/proto/trace/v1/trace.proto), written once, when
// the span ends, into the body of the export request that will carry it (proto-span-batch.ts).
// Fields at their default value (zero counts, no events, no links, an unset status) are left
// out, as proto3 writers do; test/unit/otlp-proto.test.ts decodes what this writes and the
// SDK's ProtobufTraceSerializer writes for the same spans and compares them.

// a tag byte is (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32)
// (a tag is a varint: field 16's, 0x85, is written as two bytes)
const SPAN = { traceId: 0x0a, spanId: 0x12, traceState: 0x1a, parentSpanId: 0x22, name: 0x2a, kind: 0x30, start: 0x39, end: 0x41, attributes: 0x4a, events: 0x5a, status: 0x7a, flags: 0x85 } as const;
const EVENT = { time: 0x09, name: 0x12, attributes: 0x1a } as const;
const STATUS = { message: 0x12, code: 0x18 } as const;
const KEY_VALUE = { key: 0x0a, value: 0x12 } as const;
const ANY_VALUE = { string: 0x0a, bool: 0x10, int: 0x18, double: 0x21, array: 0x2a } as const;
const ARRAY_VALUE_VALUES = 0x0a;
const INT64_LIMIT = 2 ** 63;

const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

export function writeSpan(w: ProtoWriter, span: RecordedSpan): void {
  const context = span.spanContext();
  w.varint(SPAN.traceId);
  w.hexBytes(context.traceId);
  w.varint(SPAN.spanId);
  w.hexBytes(context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) {
    w.varint(SPAN.traceState);
    w.string(traceState);
  }
  if (span.parentSpanContext) {
    w.varint(SPAN.parentSpanId);
    w.hexBytes(span.parentSpanContext.spanId);
  }
  w.varint(SPAN.name);
  w.string(span.name);
  w.varint(SPAN.kind);
  w.varint(span.kind + 1); // the API's kinds start at 0, OTLP's 0 is "unspecified"
  w.varint(SPAN.start);
  w.fixed64Nanos(span.startMs);
  w.varint(SPAN.end);
  w.fixed64Nanos(span.endMs);
  writeAttributes(w, SPAN.attributes, span.attributes);
  for (const event of span.events) {
    w.varint(SPAN.events);
    const mark = w.begin();
    w.varint(EVENT.time);
    w.fixed64Nanos(epochMs(event.time));
    w.varint(EVENT.name);
    w.string(event.name);
    if (event.attributes) writeAttributes(w, EVENT.attributes, event.attributes);
    w.end(mark);
  }
  const { code, message } = span.status;
  if (code !== 0 || message !== undefined) {
    w.varint(SPAN.status);
    const mark = w.begin();
    if (message) {
      w.varint(STATUS.message);
      w.string(message);
    }
    if (code !== 0) {
      w.varint(STATUS.code);
      w.varint(code);
    }
    w.end(mark);
  }
  w.varint(SPAN.flags);
  w.fixed32((context.traceFlags & 0xff) | HAS_IS_REMOTE | (span.parentSpanContext?.isRemote ? IS_REMOTE : 0));
}

/** Each attribute as a repeated KeyValue field with tag `tag`; one without a value is left out, as the SDK does. */
export function writeAttributes(w: ProtoWriter, tag: number, attributes: Attributes): void {
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    w.varint(tag);
    const mark = w.begin();
    w.varint(KEY_VALUE.key);
    w.string(key);
    w.varint(KEY_VALUE.value);
    writeAnyValue(w, value);
    w.end(mark);
  }
}

/** An AnyValue message, its length in front. */
function writeAnyValue(w: ProtoWriter, value: AttributeValue | null | undefined): void {
  const mark = w.begin();
  switch (typeof value) {
    case 'string':
      w.varint(ANY_VALUE.string);
      w.string(value);
      break;
    case 'boolean':
      w.varint(ANY_VALUE.bool);
      w.varint(value ? 1 : 0);
      break;
    case 'number':
      if (Number.isInteger(value) && value >= -INT64_LIMIT && value < INT64_LIMIT) {
        w.varint(ANY_VALUE.int);
        w.int64(value);
      } else {
        w.varint(ANY_VALUE.double);
        w.double(value);
      }
      break;
    default:
      if (Array.isArray(value)) {
        w.varint(ANY_VALUE.array);
        const arrayMark = w.begin();
        for (const item of value) {
          w.varint(ARRAY_VALUE_VALUES);
          writeAnyValue(w, item);
        }
        w.end(arrayMark);
      }
  }
  w.end(mark);
}
