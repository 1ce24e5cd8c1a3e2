import { TraceFlags } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { AlwaysOffSampler, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { JsonSpanBatch } from '../../src/observability/json-span-batch.js';
import { requestHead, resourceJson, spanJson } from '../../src/observability/otlp-json.js';
import { hrNanosText, hrTimeOf, nanosText } from '../../src/observability/span-time.js';
import { resource, spansOfEveryShape, tracerWith, withoutDefaults, type ExportRequest } from '../helpers/spans-of-every-shape.js';

// The gateway's spans are written as OTLP JSON when they end (otlp-json.ts). What it writes
// must be what the SDK's own serializer (JsonTraceSerializer, the one
// @opentelemetry/exporter-trace-otlp-http uses) writes for the same spans, of every shape
// the gateway makes and more.

describe('OTLP JSON of a recorded span', () => {
  it('is what the SDK serializer writes for the same spans', () => {
    const { ended } = spansOfEveryShape();
    expect(ended).toHaveLength(3);
    const batch = new JsonSpanBatch(requestHead(resourceJson(resource.attributes), 'bff-gateway'), 0);
    for (const span of ended) batch.add(span);
    const ours = batch.request().toString();
    const sdk = new TextDecoder().decode(JsonTraceSerializer.serializeRequest(ended));
    expect(JSON.parse(ours)).toEqual(withoutDefaults(JSON.parse(sdk) as ExportRequest));
  });

  it('carries the remote parent, the trace state and the sampled flag', () => {
    const { ended } = spansOfEveryShape();
    const server = JSON.parse(spanJson(ended.find((s) => s.name === 'GET /api')!));
    expect(server).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', parentSpanId: 'b7ad6b7169203331', traceState: 'vendor=a,other=b', kind: 2, flags: 0x301 });
    const child = JSON.parse(spanJson(ended.find((s) => s.name === 'token.refresh')!));
    expect(child.parentSpanId).toBe(server.spanId);
    expect(child.flags).toBe(0x101);
  });

  it('exports nothing of a span the sampler drops, and still propagates its trace', () => {
    const { tracer, ended } = tracerWith(new ParentBasedSampler({ root: new AlwaysOffSampler() }));
    const span = tracer.startSpan('GET /api');
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(0);
    span.end();
    expect(ended).toHaveLength(0);
  });

  it('drops an attribute without a value, as the SDK span does', () => {
    const { tracer, ended } = tracerWith();
    tracer.startSpan('x', { attributes: { kept: 'k', gone: undefined } }).end();
    expect(JSON.parse(spanJson(ended[0]!)).attributes).toEqual([{ key: 'kept', value: { stringValue: 'k' } }]);
  });

  it('records nothing more once ended, and ends once', () => {
    const { tracer, ended } = tracerWith();
    const span = tracer.startSpan('x');
    span.end();
    span.setAttribute('late', 1).addEvent('late').updateName('y');
    span.end();
    expect(ended).toHaveLength(1);
    expect(spanJson(ended[0]!)).not.toContain('late');
    expect(ended[0]!.name).toBe('x');
  });
});

describe('span times', () => {
  it('writes nanoseconds exactly, carrying a rounded second', () => {
    for (const ms of [1_700_000_000_123.456, 1_700_000_000_999.9999999, 1_700_000_000_000.0004, 0.5]) {
      expect(nanosText(ms)).toBe(hrNanosText(hrTimeOf(ms)));
    }
    expect(nanosText(1_700_000_000_123.456)).toBe('1700000000123456000');
    expect(nanosText(1_700_000_000_999.9999999)).toBe('1700000001000000000');
    expect(hrTimeOf(1_700_000_000_999.9999999)).toEqual([1_700_000_001, 0]);
    expect(nanosText(0.5)).toBe('500000');
  });
});
