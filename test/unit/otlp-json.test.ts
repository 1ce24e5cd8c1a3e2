import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Span } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { GatewayTracer } from '../../src/observability/gateway-tracer.js';
import { requestHead, resourceJson, spanJson } from '../../src/observability/otlp-json.js';
import type { RecordedSpan } from '../../src/observability/recorded-span.js';
import { SpanBatch } from '../../src/observability/span-batch.js';
import { hrNanosText, hrTimeOf, nanosText } from '../../src/observability/span-time.js';

// The gateway's spans are written as OTLP JSON when they end (otlp-json.ts). What it writes
// must be what the SDK's own serializer (JsonTraceSerializer, the one
// @opentelemetry/exporter-trace-otlp-http uses) writes for the same spans, of every shape
// the gateway makes and more.

const resource = resourceFromAttributes({ 'service.name': 'bff-gateway', 'host.id': 7, 'x.ratio': 0.5 });

function tracerWith(sampler = new ParentBasedSampler({ root: new AlwaysOnSampler() })) {
  const ended: RecordedSpan[] = [];
  return { tracer: new GatewayTracer(resource, 'bff-gateway', sampler, { spanEnded: (span) => ended.push(span) }), ended };
}

interface ExportRequest {
  resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
}

/** The SDK's request less the span fields at their default value, which ours leaves out (as the protobuf JSON mapping allows). */
function withoutDefaults(request: ExportRequest): ExportRequest {
  for (const span of request.resourceSpans.flatMap((r) => r.scopeSpans).flatMap((s) => s.spans)) {
    for (const key of ['droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount'] as const) if (span[key] === 0) delete span[key];
    for (const key of ['events', 'links'] as const) if (Array.isArray(span[key]) && span[key].length === 0) delete span[key];
    if ((span.status as { code: number; message?: string }).code === 0 && !('message' in (span.status as object))) delete span.status;
    for (const event of (span.events as Record<string, unknown>[] | undefined) ?? []) if (event.droppedAttributesCount === 0) delete event.droppedAttributesCount;
  }
  return request;
}

function spansOfEveryShape(): { ended: RecordedSpan[]; spans: Span[] } {
  const { tracer, ended } = tracerWith();
  const remote = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=a,other=b'),
  });
  const server = tracer.startSpan('GET /api', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': '/a "quoted" \\ path\n' } }, remote);
  const child = tracer.startSpan('token.refresh', { attributes: { flag: true, count: 3, ratio: 0.25, list: ['a', 'b'], nums: [1, 2.5] } }, trace.setSpan(ROOT_CONTEXT, server));
  child.addEvent('refresh.lock_busy');
  child.addEvent('refresh.lock_wait_ended', { 'bff.lock.wait_ms': 12 });
  child.addEvent('at a time', Date.now() - 5);
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'failed "badly"' });
  child.setAttribute('error.type', 'invalid_grant');
  child.end();
  const root = tracer.startSpan('idp POST /token', { kind: SpanKind.CLIENT, startTime: performance.now() - 3 });
  root.updateName('idp POST /token2');
  root.end(performance.now());
  server.setAttribute('http.response.status_code', 200);
  server.end();
  return { ended, spans: [server, child, root] };
}

describe('OTLP JSON of a recorded span', () => {
  it('is what the SDK serializer writes for the same spans', () => {
    const { ended } = spansOfEveryShape();
    expect(ended).toHaveLength(3);
    const batch = new SpanBatch(requestHead(resourceJson(resource.attributes), 'bff-gateway'), 0);
    for (const span of ended) batch.add(spanJson(span));
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
