import type { Attributes } from '@opentelemetry/api';
import { writeAttributes, writeSpan } from './otlp-proto.js';
import { ProtoWriter, varintSize, writeVarintAt } from './proto-writer.js';
import type { RecordedSpan } from './recorded-span.js';
import type { SpanBatch } from './batch-format.js';

// The spans of one export request as OTLP protobuf (ExportTraceServiceRequest), written
// straight into the request's body as each span ends (otlp-proto.ts). The request's head,
// one ResourceSpans holding the resource and one ScopeSpans, carries the length of all the
// spans, so the spans are written after room kept for it, and the head goes in front of them
// when the batch is sent: no span is copied or moved.

const RESOURCE_SPANS = 0x0a; // ExportTraceServiceRequest.resource_spans
const RESOURCE = 0x0a; // ResourceSpans.resource
const SCOPE_SPANS = 0x12; // ResourceSpans.scope_spans
const SCOPE = 0x0a; // ScopeSpans.scope
const SPANS = 0x12; // ScopeSpans.spans
const RESOURCE_ATTRIBUTES = 0x0a;
const SCOPE_NAME = 0x0a;
/** a span's length takes two bytes from 128 bytes to 16 KB: room for two is kept */
const SPAN_LENGTH_BYTES = 2;

/** What every request of a process starts with: its resource and scope fields, encoded once. */
export interface ProtoHead {
  resource: Buffer;
  scope: Buffer;
}

export function protoHead(resourceAttributes: Attributes, scope: string): ProtoHead {
  const w = new ProtoWriter(1024);
  w.varint(RESOURCE);
  const resourceMark = w.begin();
  writeAttributes(w, RESOURCE_ATTRIBUTES, resourceAttributes);
  w.end(resourceMark);
  const resource = Buffer.from(w.bytes.subarray(0, w.pos));
  w.pos = 0;
  w.varint(SCOPE);
  const scopeMark = w.begin();
  w.varint(SCOPE_NAME);
  w.string(scope);
  w.end(scopeMark);
  return { resource, scope: Buffer.from(w.bytes.subarray(0, w.pos)) };
}

export class ProtoSpanBatch implements SpanBatch {
  private readonly writer: ProtoWriter;
  /** where the spans begin: after the most the head can take */
  private readonly spansAt: number;
  count = 0;

  constructor(private readonly head: ProtoHead, expectedBytes: number) {
    this.spansAt = 2 * (1 + 5) + head.resource.length + head.scope.length; // two tags and two lengths of at most 5 bytes
    this.writer = new ProtoWriter(Math.max(expectedBytes, this.spansAt + 4096), this.spansAt);
  }

  add(span: RecordedSpan): void {
    const w = this.writer;
    w.varint(SPANS);
    const mark = w.begin(SPAN_LENGTH_BYTES);
    writeSpan(w, span);
    w.end(mark, SPAN_LENGTH_BYTES);
    this.count += 1;
  }

  /** The whole request body: the head written in front of the spans. */
  request(): Buffer {
    const { resource, scope } = this.head;
    const scopeSpansLength = scope.length + (this.writer.pos - this.spansAt);
    const resourceSpansLength = resource.length + 1 + varintSize(scopeSpansLength) + scopeSpansLength;
    const headLength = 1 + varintSize(resourceSpansLength) + resource.length + 1 + varintSize(scopeSpansLength) + scope.length;
    const bytes = this.writer.bytes;
    const start = this.spansAt - headLength;
    let at = start;
    bytes[at++] = RESOURCE_SPANS;
    at = writeVarintAt(bytes, at, resourceSpansLength);
    at += resource.copy(bytes, at);
    bytes[at++] = SCOPE_SPANS;
    at = writeVarintAt(bytes, at, scopeSpansLength);
    scope.copy(bytes, at);
    return bytes.subarray(start, this.writer.pos);
  }
}
