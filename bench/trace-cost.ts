// The tracing's own work per proxied call, in isolation: the three spans of a call (server,
// session read, upstream, with the traceparent written into the upstream's headers) made by
// the gateway's tracer and written into its export queue's batches, in a loop, in this
// process. OTLP/HTTP to a receiver in another process, or dropped at export with --no-send.
// The protocol is the gateway's: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL (http/protobuf, http/json).
//
//   npm run build && node dist/bench/trace-cost.js [--no-send] [--calls N]
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { SpanExport } from '../src/observability/span-export.js';
import { activeTracer, TraceExport } from '../src/observability/tracing.js';
import { endUpstreamSpan, startUpstreamSpan } from '../src/proxy/upstream-span.js';

const { values } = parseArgs({ options: { 'no-send': { type: 'boolean', default: false }, calls: { type: 'string' }, receiver: { type: 'boolean', default: false } } });

if (values.receiver) {
  // the child: an OTLP/HTTP receiver that reads and answers, on a port it reports
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  }).listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
} else {
  const receiver = fork(new URL(import.meta.url), ['--receiver']);
  const port = await new Promise<number>((resolve) => receiver.once('message', (m) => resolve(m as number)));
  // --no-send: the queue's private send replaced, so each full batch is written and dropped
  if (values['no-send']) SpanExport.prototype['send' as keyof SpanExport] = (() => Promise.resolve()) as never;
  const exporting = TraceExport.start({ endpoint: `http://127.0.0.1:${port}/v1/traces`, sampleRatio: 1 })!;
  const tracer = activeTracer()!;
  const incoming = { host: 'gateway', cookie: 'c=1', 'x-csrf': '1', accept: 'application/json' };

  const call = async () => {
    const parent = propagation.extract(ROOT_CONTEXT, incoming);
    const server = tracer.startSpan('GET /api', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'http.route': '/api', 'url.path': '/api/bench', 'url.scheme': 'http' } }, parent);
    const context = trace.setSpan(parent, server);
    const readStart = performance.now();
    await Promise.resolve(); // the session read
    tracer.startSpan('session.read', { startTime: readStart, attributes: { 'bff.session.cached': true } }, context).end(performance.now());
    const upstream = startUpstreamSpan(context, '127.0.0.1:8080', 'GET', '/bench', { accept: 'application/json' });
    await Promise.resolve(); // the upstream call
    endUpstreamSpan(upstream, 200);
    server.setAttribute('http.response.status_code', 200);
    server.end();
  };

  const calls = Number(values.calls ?? 100_000);
  console.log(`tracing's own work per call (${process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? 'http/protobuf'}, ${values['no-send'] ? 'batches dropped' : 'sent'}):`);
  for (let round = 1; round <= 5; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < calls; i++) {
      await call();
      if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve)); // a turn of the loop, as a server has: exports go out
    }
    const used = process.cpuUsage(before);
    console.log(`  round ${round}: ${((used.user + used.system) / calls).toFixed(2)} µs CPU per call`);
  }
  await exporting.shutdown();
  receiver.kill();
}
