import { diag } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer, type IExportTraceServiceResponse } from '@opentelemetry/otlp-transformer';
import type { Resource } from '@opentelemetry/resources';
import { JsonSpanBatch } from './json-span-batch.js';
import { requestHead, resourceJson } from './otlp-json.js';
import { protoHead, ProtoSpanBatch } from './proto-span-batch.js';
import type { RecordedSpan } from './recorded-span.js';

// How an export request's body is written: OTLP protobuf (http/protobuf, the specification's
// default) or OTLP JSON (http/json), as OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL say. Either way a batch holds its spans already written.

/** The spans of one export request, each written into the body as it ends. */
export interface SpanBatch {
  /** spans written */
  readonly count: number;
  add(span: RecordedSpan): void;
  /** The whole request body (the batch takes no more spans after this). */
  request(): Buffer;
}

export interface BatchFormat {
  contentType: string;
  /** the name the SDK's export delegate reports under */
  exporterName: string;
  newBatch(expectedSpans: number): SpanBatch;
  deserializeResponse(data: Uint8Array): IExportTraceServiceResponse;
}

export function batchFormat(env: NodeJS.ProcessEnv, resource: Resource, scope: string): BatchFormat {
  if (protocolOf(env) === 'http/json') {
    const head = requestHead(resourceJson(resource.attributes), scope);
    return {
      contentType: 'application/json',
      exporterName: 'otlp_http_json_span_exporter',
      newBatch: (spans) => new JsonSpanBatch(head, spans * 800),
      deserializeResponse: (data) => JsonTraceSerializer.deserializeResponse(data),
    };
  }
  const head = protoHead(resource.attributes, scope);
  return {
    contentType: 'application/x-protobuf',
    exporterName: 'otlp_http_proto_span_exporter',
    newBatch: (spans) => new ProtoSpanBatch(head, spans * 320),
    deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
  };
}

function protocolOf(env: NodeJS.ProcessEnv): 'http/json' | 'http/protobuf' {
  const setting = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim().toLowerCase();
  if (setting === 'http/json' || setting === 'http/protobuf') return setting;
  diag.warn(`OTLP protocol "${setting}" is not supported for traces, using http/protobuf.`);
  return 'http/protobuf';
}
