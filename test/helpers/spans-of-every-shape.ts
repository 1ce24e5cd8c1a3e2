import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Span } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, ParentBasedSampler, type Sampler } from '@opentelemetry/sdk-trace-base';
import { GatewayTracer } from '../../src/observability/gateway-tracer.js';
import type { RecordedSpan } from '../../src/observability/recorded-span.js';

// Spans of every shape the gateway makes and more (a remote parent with a trace state,
// events, a failed status, attributes of every type, a root with set times), made by the
// gateway's tracer, for the tests that compare its OTLP encodings with the SDK's.

export const resource = resourceFromAttributes({ 'service.name': 'bff-gateway', 'host.id': 7, 'x.ratio': 0.5 });

export function tracerWith(sampler: Sampler = new ParentBasedSampler({ root: new AlwaysOnSampler() })) {
  const ended: RecordedSpan[] = [];
  return { tracer: new GatewayTracer(resource, 'bff-gateway', sampler, { spanEnded: (span) => ended.push(span) }), ended };
}

export interface ExportRequest {
  resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
}

/** The SDK's request less the span fields at their default value, which ours leaves out (as the protobuf JSON mapping allows). */
export function withoutDefaults(request: ExportRequest): ExportRequest {
  for (const span of request.resourceSpans.flatMap((r) => r.scopeSpans).flatMap((s) => s.spans)) {
    for (const key of ['droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount'] as const) if (span[key] === 0) delete span[key];
    for (const key of ['events', 'links'] as const) if (Array.isArray(span[key]) && span[key].length === 0) delete span[key];
    if ((span.status as { code: number; message?: string }).code === 0 && !('message' in (span.status as object))) delete span.status;
    for (const event of (span.events as Record<string, unknown>[] | undefined) ?? []) if (event.droppedAttributesCount === 0) delete event.droppedAttributesCount;
  }
  return request;
}

export function spansOfEveryShape(): { ended: RecordedSpan[]; spans: Span[] } {
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
