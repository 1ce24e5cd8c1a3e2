import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { RecordedSpan } from './recorded-span.js';
import { hrNanosText, nanosText } from './span-time.js';

// A span as OTLP/HTTP JSON (the protobuf JSON mapping the collector reads: hex ids, times as
// decimal strings, the kind one more than the API's), written once, when the span ends, into
// the body of the export request that will carry it (json-span-batch.ts). The output is the one
// @opentelemetry/otlp-transformer's JsonTraceSerializer writes for the same span, less the
// fields that hold their default value (zero counts, no events, no links, an unset status),
// which the protobuf JSON mapping lets a writer leave out: a sixth of a span's bytes
// (test/unit/otlp-json.test.ts compares them).

const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

export function spanJson(span: RecordedSpan): string {
  const context = span.spanContext();
  const parent = span.parentSpanContext === undefined ? '' : `"parentSpanId":"${span.parentSpanContext.spanId}",`;
  const traceState = context.traceState === undefined ? '' : `"traceState":${JSON.stringify(context.traceState.serialize())},`;
  const flags = (context.traceFlags & 0xff) | HAS_IS_REMOTE | (span.parentSpanContext?.isRemote ? IS_REMOTE : 0);
  return (
    `{"traceId":"${context.traceId}","spanId":"${context.spanId}",${parent}${traceState}` +
    `"name":${JSON.stringify(span.name)},"kind":${span.kind + 1},` +
    `"startTimeUnixNano":"${nanosText(span.startMs)}","endTimeUnixNano":"${nanosText(span.endMs)}",` +
    `"attributes":${attributesJson(span.attributes)},${eventsJson(span)}${statusJson(span)}"flags":${flags}}`
  );
}

/** the status, unless it is the default (UNSET without a message), with its comma */
function statusJson(span: RecordedSpan): string {
  const { code, message } = span.status;
  if (message === undefined) return code === 0 ? '' : `"status":{"code":${code}},`;
  return `"status":{"code":${code},"message":${JSON.stringify(message)}},`;
}

/** An export request up to its spans: the resource and scope they share (json-span-batch.ts writes the spans and the tail). */
export function requestHead(resourceJson: string, scope: string): Buffer {
  return Buffer.from(`{"resourceSpans":[{"resource":${resourceJson},"scopeSpans":[{"scope":{"name":${JSON.stringify(scope)}},"spans":[`);
}

export function resourceJson(attributes: Attributes): string {
  return `{"attributes":${attributesJson(attributes)},"droppedAttributesCount":0}`;
}

/** the events, unless there are none, with their comma */
function eventsJson(span: RecordedSpan): string {
  if (span.events.length === 0) return '';
  const events = span.events.map(
    (e) => `{"attributes":${e.attributes ? attributesJson(e.attributes) : '[]'},"name":${JSON.stringify(e.name)},"timeUnixNano":"${hrNanosText(e.time)}"}`,
  );
  return `"events":[${events.join(',')}],`;
}

function attributesJson(attributes: Attributes): string {
  let out = '';
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null) continue; // as the SDK drops them
    out += `${out === '' ? '' : ','}${keyPrefix(key)}${anyValue(value)}}`;
  }
  return `[${out}]`;
}

/** `{"key":"<key>","value":`, kept for the few keys spans use (bounded: keys are the gateway's own names) */
const keyPrefixes = new Map<string, string>();

function keyPrefix(key: string): string {
  let prefix = keyPrefixes.get(key);
  if (prefix === undefined) {
    prefix = `{"key":${JSON.stringify(key)},"value":`;
    if (keyPrefixes.size < 256) keyPrefixes.set(key, prefix);
  }
  return prefix;
}

function anyValue(value: AttributeValue | null | undefined): string {
  switch (typeof value) {
    case 'string':
      return `{"stringValue":${JSON.stringify(value)}}`;
    case 'number':
      return Number.isInteger(value) ? `{"intValue":${value}}` : Number.isFinite(value) ? `{"doubleValue":${value}}` : `{"doubleValue":${JSON.stringify(String(value))}}`;
    case 'boolean':
      return `{"boolValue":${value}}`;
    default:
      return Array.isArray(value) ? `{"arrayValue":{"values":[${value.map((v) => anyValue(v)).join(',')}]}}` : '{}';
  }
}
