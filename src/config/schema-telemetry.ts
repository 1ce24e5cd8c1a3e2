// telemetry: where traces go. Off unless telemetry.traces (or OTEL_EXPORTER_OTLP_ENDPOINT /
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT in the environment, read at start) says where.

import type { TelemetryConfig } from './types.js';
import { section } from './validate.js';
import { httpUrl } from './values.js';

function ratio(value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new Error('must be a number from 0 to 1');
  return value;
}

export const telemetrySection = section<TelemetryConfig>((r) => ({
  traces: r.opt(
    'traces',
    section((t) => ({
      // absent: the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT itself
      endpoint: t.opt('endpoint', httpUrl),
      sampleRatio: t.get('sampleRatio', ratio, 1),
    })),
  ),
}));
