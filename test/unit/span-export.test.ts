import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GatewayTracer } from '../../src/observability/gateway-tracer.js';
import { SpanExport } from '../../src/observability/span-export.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';

// The export queue batches as the SDK's BatchSpanProcessor does, with its OTEL_BSP_*
// settings, while each span is written into its request body as it ends (batch-format.ts).
// Against a real OTLP/HTTP receiver, in both encodings: what arrives is whole, in batches of
// the set size, with nothing lost or doubled, and a full queue drops rather than grows.

const resource = resourceFromAttributes({ 'service.name': 'bff-gateway' });
let receiver: OtlpReceiver;
const saved = { ...process.env };

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await receiver.close();
});
afterEach(() => {
  process.env = { ...saved };
  receiver.spans.length = 0;
  receiver.bodies.length = 0;
  receiver.contentTypes.length = 0;
});

function exporting(settings: Record<string, string>) {
  Object.assign(process.env, settings);
  const queue = new SpanExport({ url: receiver.url, resource, scope: 'bff-gateway' });
  return { queue, tracer: new GatewayTracer(resource, 'bff-gateway', new AlwaysOnSampler(), queue) };
}

describe('the OTLP protocol', () => {
  it('is http/protobuf unless OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL says http/json', async () => {
    const sent = async (settings: Record<string, string>) => {
      const { queue, tracer } = exporting(settings);
      tracer.startSpan('one').end();
      await queue.shutdown();
      return receiver.contentTypes.splice(0);
    };
    expect(await sent({})).toEqual(['application/x-protobuf']);
    expect(await sent({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual(['application/json']);
    expect(await sent({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toEqual(['application/x-protobuf']);
    expect(await sent({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' })).toEqual(['application/x-protobuf']); // not supported: the default
    expect(receiver.spans.map((s) => s.name)).toEqual(['one', 'one', 'one', 'one']);
  });
});

describe.each(['http/protobuf', 'http/json'])('the span export queue (%s)', (protocol) => {
  beforeEach(() => {
    process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = protocol;
  });

  it('sends full batches of OTEL_BSP_MAX_EXPORT_BATCH_SIZE and the rest on shutdown, each span once', async () => {
    const { queue, tracer } = exporting({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4', OTEL_BSP_SCHEDULE_DELAY: '60000' });
    // names of every width, so that a batch's buffer must grow past its first guess
    for (let i = 0; i < 10; i++) tracer.startSpan(`span ${i} ${'é€😀'.repeat(i * 50)}`, { attributes: { i } }).end();
    await queue.shutdown();
    expect(receiver.bodies.map((b) => (JSON.parse(b) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans.length)).toEqual([4, 4, 2]);
    expect(receiver.spans.map((s) => s.attributes.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(receiver.spans[9]!.name).toBe(`span 9 ${'é€😀'.repeat(450)}`);
  });

  it('sends a batch that is not full once OTEL_BSP_SCHEDULE_DELAY has passed', async () => {
    const { queue, tracer } = exporting({ OTEL_BSP_SCHEDULE_DELAY: '50' });
    tracer.startSpan('alone').end();
    await expect.poll(() => receiver.spans.map((s) => s.name), { timeout: 5000 }).toEqual(['alone']);
    await queue.shutdown();
    expect(receiver.bodies).toHaveLength(1);
  });

  it('drops spans beyond OTEL_BSP_MAX_QUEUE_SIZE while exports are behind, and exports what it kept', async () => {
    const { queue, tracer } = exporting({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2', OTEL_BSP_MAX_QUEUE_SIZE: '4', OTEL_BSP_SCHEDULE_DELAY: '60000' });
    for (let i = 0; i < 20; i++) tracer.startSpan('s', { attributes: { i } }).end(); // synchronously: no export has answered
    await queue.shutdown();
    expect(receiver.spans.map((s) => s.attributes.i)).toEqual([0, 1, 2, 3]);
  });

  it('takes no span after shutdown', async () => {
    const { queue, tracer } = exporting({});
    await queue.shutdown();
    tracer.startSpan('late').end();
    await queue.forceFlush();
    expect(receiver.bodies).toHaveLength(0);
  });
});
