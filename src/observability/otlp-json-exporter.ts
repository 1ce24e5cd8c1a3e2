import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonTraceSerializer, TraceExporterMetricsHelper, type ISerializer } from '@opentelemetry/otlp-transformer';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { exportRequestJson, resourceJson, spanJson } from './otlp-json.js';
import { RecordedSpan } from './recorded-span.js';

// The OTLP/HTTP JSON trace exporter: what @opentelemetry/exporter-trace-otlp-http's
// OTLPTraceExporter is (the SDK's HTTP export delegate, with its OTEL_EXPORTER_OTLP_* settings,
// retries and timeouts), with a serializer that writes each request from the JSON every
// recorded span got when it ended (bench/README.md, "Traces: the span path"). A span that
// is not one of ours goes through the SDK's own serializer.

export interface ExporterSettings {
  /** the traces URL; undefined: the OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT variables, as the SDK reads them */
  url: string | undefined;
  resource: Resource;
  scope: string;
}

export function otlpJsonExporter(settings: ExporterSettings): OTLPExporterBase<ReadableSpan[]> {
  const options = convertLegacyHttpOptions(settings.url ? { url: settings.url } : {}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' });
  const resource = resourceJson(settings.resource.attributes);
  const serializer: ISerializer<ReadableSpan[], unknown> = {
    serializeRequest(spans) {
      if (!spans.every((span) => span instanceof RecordedSpan)) return JsonTraceSerializer.serializeRequest(spans);
      return exportRequestJson(resource, settings.scope, spans.map((span) => span.json ?? Buffer.from(spanJson(span))));
    },
    deserializeResponse: (data) => JsonTraceSerializer.deserializeResponse(data),
  };
  return new OTLPExporterBase(createOtlpHttpExportDelegate(options, serializer, 'otlp_http_json_span_exporter', TraceExporterMetricsHelper, undefined));
}
