import { context as contextApi, INVALID_SPANID, INVALID_TRACEID, SamplingDecision, SpanKind, trace, TraceFlags, type Context, type Span, type SpanContext, type SpanOptions, type Tracer } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import { RecordedSpan, type SpanOwner } from './recorded-span.js';
import type { SpanQueue } from './span-export.js';
import { newSpanId, newTraceId } from './span-ids.js';
import { epochMs } from './span-time.js';

// The gateway's tracer: the SDK's sampler decides, the export queue (span-export.ts) exports;
// the spans themselves are RecordedSpans, which cost a fraction of the SDK's own
// (bench/README.md, "Traces: the span path"). A sampled span is handed to the queue the
// moment it ends, which writes it as OTLP (protobuf or JSON, batch-format.ts) while what it
// holds is still in cache. A span takes `options.attributes` as its own object (every caller
// passes a fresh one).

export class GatewayTracer implements Tracer, SpanOwner {
  readonly instrumentationScope: InstrumentationScope;

  constructor(
    readonly resource: Resource,
    scope: string,
    private readonly sampler: Sampler,
    private readonly queue: SpanQueue,
  ) {
    this.instrumentationScope = { name: scope };
  }

  startSpan(name: string, options: SpanOptions = {}, context: Context = contextApi.active()): Span {
    const parent = options.root ? undefined : trace.getSpanContext(context);
    // the parent is one of ours or one the W3C propagator checked: no hex validation again
    const validParent = parent && parent.traceId !== INVALID_TRACEID && parent.spanId !== INVALID_SPANID ? parent : undefined;
    const traceId = validParent?.traceId ?? newTraceId();
    const spanId = newSpanId();
    const kind = options.kind ?? SpanKind.INTERNAL;
    const parentContext = options.root ? trace.deleteSpan(context) : context;
    const sampling = this.sampler.shouldSample(parentContext, traceId, name, kind, options.attributes ?? {}, options.links ?? []);
    const traceState = sampling.traceState ?? validParent?.traceState;
    const traceFlags = sampling.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE;
    const spanContext: SpanContext = traceState ? { traceId, spanId, traceFlags, traceState } : { traceId, spanId, traceFlags };
    if (sampling.decision === SamplingDecision.NOT_RECORD) return trace.wrapSpanContext(spanContext);
    const attributes = sampling.attributes ? { ...options.attributes, ...sampling.attributes } : options.attributes;
    return new RecordedSpan(this, spanContext, name, kind, validParent, epochMs(options.startTime), attributes);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: [F] | [SpanOptions, F] | [SpanOptions, Context, F]): ReturnType<F> {
    const fn = args[args.length - 1] as F;
    const options = args.length > 1 ? (args[0] as SpanOptions) : {};
    const parent = args.length > 2 ? (args[1] as Context) : contextApi.active();
    const span = this.startSpan(name, options, parent);
    return contextApi.with(trace.setSpan(parent, span), fn as (span: Span) => ReturnType<F>, undefined, span);
  }

  ended(span: RecordedSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return; // recorded, not exported
    this.queue.spanEnded(span);
  }
}
