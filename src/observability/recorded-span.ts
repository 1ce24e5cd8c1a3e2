import { SpanStatusCode, type Attributes, type AttributeValue, type Exception, type HrTime, type Link, type Span, type SpanContext, type SpanKind, type SpanStatus, type TimeInput } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { epochMs, hrTimeOf } from './span-time.js';

// A span the gateway records: the API's Span for the code that makes it, the SDK's
// ReadableSpan for the span processor that exports it. Lighter than the SDK's own span (no
// limits machinery, times kept as one number each, no resource or scope copied per span):
// the gateway sets every attribute it records, from the few values a span may hold
// (tracing.ts). When it ends, `owner.ended` gets it once.

// what a span holds until it is given more: one of each for every span (frozen: never written)
const NO_EVENTS = Object.freeze([]) as unknown as TimedEvent[];
const NO_LINKS = Object.freeze([]) as unknown as Link[];
const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });

export interface SpanOwner {
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  ended(span: RecordedSpan): void;
}

export class RecordedSpan implements Span, ReadableSpan {
  readonly attributes: Attributes;
  /** shared and empty until the first event (most spans have none) */
  events: TimedEvent[] = NO_EVENTS;
  readonly links: Link[] = NO_LINKS;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  status: SpanStatus = UNSET;
  /** epoch ms; 0 while the span is open */
  endMs = 0;

  constructor(
    private readonly owner: SpanOwner,
    private readonly context: SpanContext,
    public name: string,
    readonly kind: SpanKind,
    readonly parentSpanContext: SpanContext | undefined,
    readonly startMs: number,
    attributes: Attributes | undefined,
  ) {
    this.attributes = attributes ?? {};
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (this.endMs === 0) this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    if (this.endMs === 0) Object.assign(this.attributes, attributes);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.endMs !== 0) return this;
    const at = isTimeInput(attributesOrTime) ? attributesOrTime : time;
    const attributes = isTimeInput(attributesOrTime) ? undefined : attributesOrTime;
    if (this.events === NO_EVENTS) this.events = [];
    this.events.push({ name, time: hrTimeOf(epochMs(at)), ...(attributes ? { attributes } : {}) });
    return this;
  }

  // links are not recorded: the gateway makes none
  addLink(_link: Link): this {
    return this;
  }

  addLinks(_links: Link[]): this {
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.endMs === 0) this.status = status;
    return this;
  }

  updateName(name: string): this {
    if (this.endMs === 0) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.endMs !== 0) return;
    this.endMs = epochMs(endTime);
    this.owner.ended(this);
  }

  isRecording(): boolean {
    return this.endMs === 0;
  }

  // an exception's message or stack can quote what an IdP or upstream said: its type only
  recordException(exception: Exception, time?: TimeInput): void {
    const type = typeof exception === 'string' ? 'Error' : (exception.name ?? 'Error');
    this.addEvent('exception', { 'exception.type': type }, time);
  }

  // ReadableSpan's views, computed when asked (the JSON path reads startMs and endMs)
  get startTime(): HrTime {
    return hrTimeOf(this.startMs);
  }

  get endTime(): HrTime {
    return hrTimeOf(this.endMs);
  }

  get duration(): HrTime {
    return hrTimeOf(Math.max(0, this.endMs - this.startMs));
  }

  get ended(): boolean {
    return this.endMs !== 0;
  }

  get resource(): Resource {
    return this.owner.resource;
  }

  get instrumentationScope(): InstrumentationScope {
    return this.owner.instrumentationScope;
  }
}

function isTimeInput(value: Attributes | TimeInput | undefined): value is TimeInput {
  return typeof value === 'number' || Array.isArray(value) || value instanceof Date;
}
