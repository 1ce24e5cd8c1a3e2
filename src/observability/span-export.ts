import { diag } from '@opentelemetry/api';
import { ExportResultCode, getNumberFromEnv, globalErrorHandler, type ExportResult } from '@opentelemetry/core';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import type { IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';
import type { Resource } from '@opentelemetry/resources';
import { batchFormat, type BatchFormat, type SpanBatch } from './batch-format.js';
import type { RecordedSpan } from './recorded-span.js';

// Where ended spans go: the SDK's BatchSpanProcessor and OTLP/HTTP trace exporter in
// one, over the SDK's own HTTP export delegate (OTEL_EXPORTER_OTLP_* settings, retries,
// timeouts). It batches as the BatchSpanProcessor does, with its OTEL_BSP_* settings and
// defaults: an export when a batch is full or the schedule delay has passed, one export at
// a time, spans dropped beyond the queue's size. What differs is what a batch holds: each
// span already encoded (protobuf or JSON, batch-format.ts), written into the request body when
// the span ends, rather than the spans themselves, serialised at export (bench/README.md, "Traces").

export interface ExportSettings {
  /** the traces URL; undefined: the OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT variables, as the SDK reads them */
  url: string | undefined;
  resource: Resource;
  scope: string;
}

export interface SpanQueue {
  spanEnded(span: RecordedSpan): void;
}

export class SpanExport implements SpanQueue {
  private readonly maxBatch = getNumberFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE') ?? 512;
  private readonly maxQueue = Math.max(getNumberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE') ?? 2048, this.maxBatch);
  private readonly delayMs = getNumberFromEnv('OTEL_BSP_SCHEDULE_DELAY') ?? 5000;
  private readonly timeoutMs = getNumberFromEnv('OTEL_BSP_EXPORT_TIMEOUT') ?? 30000;
  private readonly format: BatchFormat;
  private readonly delegate;
  private current: SpanBatch | null = null;
  /** full batches waiting for the export in flight */
  private readonly waiting: SpanBatch[] = [];
  private queued = 0;
  private dropped = 0;
  private exporting: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private shut = false;

  constructor(settings: ExportSettings) {
    // the protocol from the environment, as the OTEL_BSP_* settings above and the delegate's OTEL_EXPORTER_OTLP_*
    const format = (this.format = batchFormat(process.env, settings.resource, settings.scope));
    const options = convertLegacyHttpOptions(settings.url ? { url: settings.url } : {}, 'TRACES', 'v1/traces', { 'Content-Type': format.contentType });
    const serializer: ISerializer<SpanBatch, IExportTraceServiceResponse> = {
      serializeRequest: (batch) => batch.request(),
      deserializeResponse: (data) => format.deserializeResponse(data),
    };
    const counted = { name: 'span' as const, countItems: (batch: SpanBatch) => batch.count };
    this.delegate = createOtlpHttpExportDelegate(options, serializer, format.exporterName, counted, undefined);
  }

  spanEnded(span: RecordedSpan): void {
    if (this.shut) return;
    if (this.queued >= this.maxQueue) {
      if (this.dropped++ === 0) diag.debug('maxQueueSize reached, dropping spans');
      return;
    }
    if (this.dropped > 0) {
      diag.warn(`Dropped ${this.dropped} spans because maxQueueSize reached`);
      this.dropped = 0;
    }
    const batch = (this.current ??= this.format.newBatch(this.maxBatch));
    batch.add(span);
    this.queued += 1;
    if (batch.count >= this.maxBatch) {
      this.waiting.push(batch);
      this.current = null;
      this.exportNext();
    } else {
      this.timer ??= setTimeout(() => this.exportNext(true), this.delayMs).unref();
    }
  }

  /** Exports every span ended so far. */
  async forceFlush(): Promise<void> {
    this.closeCurrent();
    while (this.exporting || this.waiting.length > 0) await (this.exporting ?? this.exportNext());
  }

  async shutdown(): Promise<void> {
    if (this.shut) return;
    await this.forceFlush();
    this.shut = true;
    await this.delegate.shutdown();
  }

  private closeCurrent(): void {
    if (this.current) this.waiting.push(this.current);
    this.current = null;
  }

  /** Starts the next export unless one is in flight; `due`: the schedule delay has passed. */
  private exportNext(due = false): Promise<void> {
    if (due) {
      this.timer = undefined;
      this.closeCurrent();
    }
    if (this.exporting) return this.exporting;
    const batch = this.waiting.shift();
    if (!batch) return Promise.resolve();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.exporting = this.send(batch).finally(() => {
      this.queued -= batch.count;
      this.exporting = null;
      if (this.waiting.length > 0) void this.exportNext();
      else if (this.current) this.timer ??= setTimeout(() => this.exportNext(true), this.delayMs).unref();
    });
    return this.exporting;
  }

  private send(batch: SpanBatch): Promise<void> {
    return new Promise<void>((resolve) => {
      const timeout = setTimeout(() => done({ code: ExportResultCode.FAILED, error: new Error('Timeout') }), this.timeoutMs);
      let settled = false;
      const done = (result: ExportResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        if (result.code !== ExportResultCode.SUCCESS) globalErrorHandler(result.error ?? new Error('span export failed'));
        resolve();
      };
      this.delegate.export(batch, done);
    });
  }
}
