import { createContextKey, ROOT_CONTEXT, SamplingDecision, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ScopedContextManager } from '../../src/observability/scoped-context.js';
import { traceSampler } from '../../src/observability/trace-sampler.js';

// The trace scope of a refresh or an auth handler (scoped-context.ts): the active context
// follows the async work started inside a scope, scopes that overlap keep theirs apart, and
// when the last one settles nothing is active any more.

const KEY = createContextKey('test');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ScopedContextManager', () => {
  it('keeps each scope its context across awaits, with scopes overlapping', async () => {
    const manager = new ScopedContextManager();
    const seen: unknown[] = [];
    const scope = (value: string, ms: number) =>
      manager.with(ROOT_CONTEXT.setValue(KEY, value), async () => {
        await sleep(ms);
        seen.push(manager.active().getValue(KEY));
        await Promise.resolve();
        return manager.active().getValue(KEY);
      });
    const results = await Promise.all([scope('a', 20), scope('b', 5)]);
    expect(results).toEqual(['a', 'b']);
    expect(seen).toEqual(['b', 'a']);
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('has nothing active outside a scope, even in a callback one left behind', async () => {
    const manager = new ScopedContextManager();
    let late: unknown = 'not run';
    await manager.with(ROOT_CONTEXT.setValue(KEY, 'x'), async () => {
      setTimeout(() => (late = manager.active().getValue(KEY)), 10);
    });
    await sleep(30);
    expect(late).toBeUndefined();
  });

  it('closes a scope whose function throws, and passes the error on', () => {
    const manager = new ScopedContextManager();
    expect(() => manager.with(ROOT_CONTEXT.setValue(KEY, 'x'), () => {
      throw new Error('boom');
    })).toThrow('boom');
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });
});

describe('traceSampler', () => {
  const decide = (sampler: ReturnType<typeof traceSampler>, parentSampled?: boolean) => {
    const context = parentSampled === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', isRemote: true,
      traceFlags: parentSampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    });
    return sampler.shouldSample(context, '0af7651916cd43dd8448eb211c80319c', 'x', SpanKind.SERVER, {}, []).decision;
  };

  it('takes the file ratio for new traces and follows a caller', () => {
    expect(decide(traceSampler(1, {}))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(traceSampler(0, {}))).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(traceSampler(0, {}), true)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(traceSampler(1, {}), false)).toBe(SamplingDecision.NOT_RECORD);
  });

  it('reads OTEL_TRACES_SAMPLER and its argument without a ratio in the file', () => {
    expect(decide(traceSampler(undefined, {}))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(traceSampler(undefined, { OTEL_TRACES_SAMPLER: 'always_off' }))).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(traceSampler(undefined, { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }))).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(traceSampler(undefined, { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }), true)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(traceSampler(undefined, { OTEL_TRACES_SAMPLER: 'always_on' }), false)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
});
