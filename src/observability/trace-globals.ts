import { context, diag, propagation, type TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { ScopedContextManager } from './scoped-context.js';

// What the SDK's NodeTracerProvider.register() sets up for a process, for the gateway's own
// tracer: a context manager (scoped-context.ts: the active span follows the async calls of a
// scope, into openid-client's fetch) and the propagators OTEL_PROPAGATORS names
// (tracecontext and baggage by default, as the SDK's).

export function installTraceGlobals(env: NodeJS.ProcessEnv): void {
  context.setGlobalContextManager(new ScopedContextManager());
  propagation.setGlobalPropagator(propagatorFrom(env.OTEL_PROPAGATORS));
}

export function removeTraceGlobals(): void {
  context.disable();
  propagation.disable();
}

function propagatorFrom(setting: string | undefined): TextMapPropagator {
  const names = (setting ?? 'tracecontext,baggage').split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  const propagators: TextMapPropagator[] = [];
  for (const name of new Set(names)) {
    if (name === 'tracecontext') propagators.push(new W3CTraceContextPropagator());
    else if (name === 'baggage') propagators.push(new W3CBaggagePropagator());
    else if (name !== 'none') diag.warn(`Propagator "${name}" requested through OTEL_PROPAGATORS is not available.`);
  }
  return new CompositePropagator({ propagators });
}
