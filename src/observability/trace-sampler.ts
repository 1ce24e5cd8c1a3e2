import { diag } from '@opentelemetry/api';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace-base';

// Which traces are recorded: telemetry.traces.sampleRatio for new traces (a request with a
// traceparent follows its caller), else OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG as
// the SDK reads them (the specification's names; parentbased_always_on by default).

export function traceSampler(ratio: number | undefined, env: NodeJS.ProcessEnv): Sampler {
  if (ratio !== undefined) return new ParentBasedSampler({ root: ratioSampler(ratio) });
  const name = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase();
  const arg = env.OTEL_TRACES_SAMPLER_ARG;
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratioSampler(ratioArg(arg));
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratioSampler(ratioArg(arg)) });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    default:
      diag.error(`OTEL_TRACES_SAMPLER value "${name}" invalid, defaulting to parentbased_always_on.`);
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** A ratio of 1 samples every root without reading its trace id (the same decision, cheaper). */
function ratioSampler(ratio: number): Sampler {
  return ratio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(ratio);
}

function ratioArg(arg: string | undefined): number {
  const ratio = arg === undefined || arg.trim() === '' ? 1 : Number(arg);
  if (Number.isFinite(ratio) && ratio >= 0 && ratio <= 1) return ratio;
  diag.error(`OTEL_TRACES_SAMPLER_ARG=${arg} was given, but it is out of range ([0..1]), defaulting to 1.`);
  return 1;
}
