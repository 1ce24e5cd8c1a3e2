import { createServer, type Server } from 'node:http';
import { decodeTraceRequest } from './otlp-proto-decode.js';

// An OTLP/HTTP traces receiver on 127.0.0.1:0 that keeps what it is sent, decoded into flat
// spans: protobuf (the gateway's default, http/protobuf) or JSON (http/json), as a collector
// takes either, by the request's Content-Type. It answers as a collector does, with an empty
// response in the request's encoding.

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  /** the span as it came, for scanning */
  raw: string;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  /** every request body as JSON text (a protobuf one decoded into the JSON encoding's shape) */
  bodies: string[];
  /** every request's Content-Type */
  contentTypes: string[];
  close(): Promise<void>;
}

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpAttribute[];
  events?: { name: string; attributes?: OtlpAttribute[] }[];
}

interface OtlpExport {
  resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = Object.values(value)[0];
  return out;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = req.headers['content-type'] ?? '';
      const protobuf = contentType === 'application/x-protobuf';
      const bytes = Buffer.concat(chunks);
      const body = protobuf ? JSON.stringify(decodeTraceRequest(bytes)) : bytes.toString('utf8');
      contentTypes.push(contentType);
      bodies.push(body);
      const decoded = JSON.parse(body) as OtlpExport;
      for (const rs of decoded.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: attributes(s.attributes),
              events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
              raw: JSON.stringify(s),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': contentType }).end(protobuf ? '' : '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    bodies,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
