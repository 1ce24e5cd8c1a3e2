import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { JsonSpanBatch } from '../../src/observability/json-span-batch.js';
import { requestHead, resourceJson } from '../../src/observability/otlp-json.js';
import { protoHead, ProtoSpanBatch } from '../../src/observability/proto-span-batch.js';
import { ProtoWriter } from '../../src/observability/proto-writer.js';
import { decodeTraceRequest } from '../helpers/otlp-proto-decode.js';
import { resource, spansOfEveryShape, tracerWith, withoutDefaults, type ExportRequest } from '../helpers/spans-of-every-shape.js';

// The gateway's spans are written as OTLP protobuf when they end (otlp-proto.ts). Decoded,
// what it writes must be what the SDK's own serializer (ProtobufTraceSerializer, the one
// @opentelemetry/exporter-trace-otlp-proto uses) writes for the same spans, less the fields
// at their default value, which proto3 writers leave out.

function ourRequest(spans: Parameters<ProtoSpanBatch['add']>[0][], expectedBytes = 0): Buffer {
  const batch = new ProtoSpanBatch(protoHead(resource.attributes, 'bff-gateway'), expectedBytes);
  for (const span of spans) batch.add(span);
  return batch.request();
}

/** The SDK's request, decoded, less the defaults ours leaves out (the resource's zero dropped count too). */
function sdkRequest(spans: Parameters<ProtoSpanBatch['add']>[0][]): ExportRequest {
  const sdk = decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(spans)!) as unknown as ExportRequest & { resourceSpans: { resource: Record<string, unknown> }[] };
  for (const rs of sdk.resourceSpans) if (rs.resource.droppedAttributesCount === 0) delete rs.resource.droppedAttributesCount;
  return withoutDefaults(sdk);
}

describe('OTLP protobuf of a recorded span', () => {
  it('decodes to what the SDK serializer writes for the same spans', () => {
    const { ended } = spansOfEveryShape();
    expect(ended).toHaveLength(3);
    expect(decodeTraceRequest(ourRequest(ended))).toEqual(sdkRequest(ended));
  });

  it('holds spans of every length, the batch growing past its first guess', () => {
    const { tracer, ended } = tracerWith();
    // lengths on both sides of 127 and 16,383 bytes (one, two and three bytes of length), and past the first buffer
    for (const n of [0, 40, 43, 100, 5000, 20000, 70000]) tracer.startSpan(`s${n} ${'é'.repeat(n)}`, { attributes: { text: '€'.repeat(n), n } }).end();
    const decoded = decodeTraceRequest(ourRequest(ended, 64)) as unknown as ExportRequest;
    expect(decoded).toEqual(sdkRequest(ended));
    expect(decoded.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name)).toEqual(ended.map((s) => s.name));
  });

  it('is much smaller than the same spans in JSON', () => {
    const { ended } = spansOfEveryShape();
    const json = new JsonSpanBatch(requestHead(resourceJson(resource.attributes), 'bff-gateway'), 0);
    for (const span of ended) json.add(span);
    expect(ourRequest(ended).length).toBeLessThan(json.request().length * 0.6);
  });
});

describe('the protobuf writer', () => {
  it('writes times exactly as fixed64 nanoseconds, carrying between the words', () => {
    const w = new ProtoWriter(64);
    for (const ms of [1_700_000_000_123.456, 1_700_000_000_999.9999999, 4_294_967.296, 0.5]) w.fixed64Nanos(ms);
    const words = [0, 8, 16, 24].map((at) => w.bytes.readBigUInt64LE(at));
    expect(words).toEqual([1_700_000_000_123_456_000n, 1_700_000_001_000_000_000n, 4_294_967_296_000n, 500_000n]);
  });

  it('writes an int64 below zero in ten bytes, as protobuf does', () => {
    const w = new ProtoWriter(4);
    w.int64(-1);
    w.int64(2 ** 40);
    expect(w.bytes.subarray(0, w.pos).toString('hex')).toBe('ffffffffffffffffff01' + '808080808020');
  });

  it('writes strings and ids of any case and width', () => {
    const w = new ProtoWriter(1);
    w.hexBytes('0AF7651916cd43dd');
    w.string('héllo');
    w.string('x'.repeat(200));
    expect(w.bytes.subarray(0, 16).toString('hex')).toBe('080af7651916cd43dd0668c3a96c6c6f');
    expect(w.bytes.subarray(16, 19).toString('hex')).toBe('c80178');
    expect(w.pos).toBe(16 + 2 + 200);
  });
});
