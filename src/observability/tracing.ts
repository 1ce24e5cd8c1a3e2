import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import type { TraceConfig } from '../config/types.js';
import { GatewayTracer } from './gateway-tracer.js';
import { SpanExport } from './span-export.js';
import { installTraceGlobals, removeTraceGlobals } from './trace-globals.js';
import { traceSampler } from './trace-sampler.js';

// OpenTelemetry traces (OTLP/HTTP), off unless telemetry.traces or the standard
// OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT variable says where they go. While off, every helper
// here returns after one null check: no span, no context, no header.
//
// One tracing setup per process (the gateway is one per process): the tracer lives in this
// module, so the session, refresh, IdP and upstream code reach it without being handed it.
// It is the gateway's own (gateway-tracer.ts: lighter spans) over the SDK's parts: its
// samplers, resource detection and OTLP/HTTP export delegate (OTEL_EXPORTER_OTLP_*), with
// an export queue that batches as the SDK's batch span processor does (OTEL_BSP_*).
// What a span may hold: methods, paths without their query, statuses, host names, error
// codes, counts. Never a header value, a query string, a token, a cookie or a session id.

const SCOPE = 'bff-gateway';
let tracer: Tracer | null = null;

export function tracingOn(): boolean {
  return tracer !== null;
}

/** The exporting side: started by buildApp, shut down (flushing what is left) on close. */
export class TraceExport {
  private constructor(private readonly queue: SpanExport) {}

  /** null when traces are not configured, or OTEL_SDK_DISABLED is true */
  static start(config: TraceConfig | undefined, env: NodeJS.ProcessEnv = process.env): TraceExport | null {
    const fromEnv = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
    if ((!config && !fromEnv) || env.OTEL_SDK_DISABLED === 'true') return null;
    if (tracer) throw new Error('tracing is already on in this process');
    const resource = defaultResource()
      .merge(resourceFromAttributes({ 'service.name': SCOPE }))
      .merge(detectResources({ detectors: [envDetector] })); // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    const queue = new SpanExport({ url: config?.endpoint, resource, scope: SCOPE });
    // without a ratio in the file, OTEL_TRACES_SAMPLER(_ARG) decide, as the SDK reads them
    tracer = new GatewayTracer(resource, SCOPE, traceSampler(config?.sampleRatio, env), queue);
    installTraceGlobals(env);
    return new TraceExport(queue);
  }

  async shutdown(): Promise<void> {
    tracer = null;
    await this.queue.shutdown().catch(() => {});
    removeTraceGlobals();
  }
}

/**
 * `fn` in a child span of `parent` (a request's traceContext), else of the active span, and
 * with that span active (the IdP calls inside become its children); ended when it settles.
 * A failure marks the span with the error's code only (messages can quote what an IdP or
 * upstream said). Off: fn().
 */
export function traced<T>(
  name: string,
  fn: (span?: Span) => Promise<T>,
  attributes?: Attributes,
  kind = SpanKind.INTERNAL,
  parent?: Context | null,
): Promise<T> {
  if (!tracer) return fn();
  return tracer.startActiveSpan(name, { kind, attributes }, parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      markFailed(span, e);
      throw e;
    } finally {
      span.end();
    }
  });
}

/** Adds traceparent (and tracestate) of the active span to headers bound elsewhere. */
export function injectTraceContext(headers: Record<string, unknown>): void {
  if (tracer) propagation.inject(context.active(), headers);
}

/** An event on the active span (e.g. the refresh lock's wait). */
export function traceEvent(name: string, attributes?: Attributes): void {
  if (tracer) trace.getActiveSpan()?.addEvent(name, attributes);
}

/** The trace id of the active span, for log lines; undefined when off or outside a trace. */
export function activeTraceId(): string | undefined {
  if (!tracer) return undefined;
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span.spanContext().traceId : undefined;
}

/** The tracer itself, for the request hooks (request-tracing.ts); null when off. */
export function activeTracer(): Tracer | null {
  return tracer;
}

/** Marks a span failed, naming the failure by its code only (its message may quote a secret). */
export function markFailed(span: Span, failure: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.setAttribute('error.type', errorType(failure));
}

/** A stable, secret-free name for a failure: its code, else its class. */
export function errorType(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[\w.-]{1,64}$/.test(code)) return code;
  return e instanceof Error ? e.constructor.name : typeof e;
}

/** A URL's path without its query (queries can carry codes and states). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
