// An OTLP ExportTraceServiceRequest in protobuf, decoded into the shape of its JSON encoding
// (what @opentelemetry/otlp-transformer's JsonTraceSerializer writes: hex ids, times as
// decimal strings of nanoseconds, the field names of the proto in camelCase), so that tests
// read both encodings alike. Written from opentelemetry/proto's trace.proto, common.proto
// and resource.proto; only the fields a trace export carries. A field absent on the wire is
// absent here; a repeated one is an array.

type Scalar = 'string' | 'hex' | 'varint' | 'int64' | 'bool' | 'nanos' | 'fixed32' | 'double';
interface Field {
  name: string;
  type: Scalar | (() => Schema);
  repeated?: boolean;
}
type Schema = Record<number, Field>;

const keyValue = (): Schema => ({ 1: { name: 'key', type: 'string' }, 2: { name: 'value', type: anyValue } });
const anyValue = (): Schema => ({
  1: { name: 'stringValue', type: 'string' },
  2: { name: 'boolValue', type: 'bool' },
  3: { name: 'intValue', type: 'int64' },
  4: { name: 'doubleValue', type: 'double' },
  5: { name: 'arrayValue', type: () => ({ 1: { name: 'values', type: anyValue, repeated: true } }) },
  6: { name: 'kvlistValue', type: () => ({ 1: { name: 'values', type: keyValue, repeated: true } }) },
  7: { name: 'bytesValue', type: 'hex' },
});
const attributes = (n: number): Schema => ({ [n]: { name: 'attributes', type: keyValue, repeated: true } });
const event = (): Schema => ({ 1: { name: 'timeUnixNano', type: 'nanos' }, 2: { name: 'name', type: 'string' }, ...attributes(3), 4: { name: 'droppedAttributesCount', type: 'varint' } });
const link = (): Schema => ({
  1: { name: 'traceId', type: 'hex' },
  2: { name: 'spanId', type: 'hex' },
  3: { name: 'traceState', type: 'string' },
  ...attributes(4),
  5: { name: 'droppedAttributesCount', type: 'varint' },
  6: { name: 'flags', type: 'fixed32' },
});
const span = (): Schema => ({
  1: { name: 'traceId', type: 'hex' },
  2: { name: 'spanId', type: 'hex' },
  3: { name: 'traceState', type: 'string' },
  4: { name: 'parentSpanId', type: 'hex' },
  5: { name: 'name', type: 'string' },
  6: { name: 'kind', type: 'varint' },
  7: { name: 'startTimeUnixNano', type: 'nanos' },
  8: { name: 'endTimeUnixNano', type: 'nanos' },
  ...attributes(9),
  10: { name: 'droppedAttributesCount', type: 'varint' },
  11: { name: 'events', type: event, repeated: true },
  12: { name: 'droppedEventsCount', type: 'varint' },
  13: { name: 'links', type: link, repeated: true },
  14: { name: 'droppedLinksCount', type: 'varint' },
  15: { name: 'status', type: () => ({ 2: { name: 'message', type: 'string' }, 3: { name: 'code', type: 'varint' } }) },
  16: { name: 'flags', type: 'fixed32' },
});
const scope = (): Schema => ({ 1: { name: 'name', type: 'string' }, 2: { name: 'version', type: 'string' }, ...attributes(3), 4: { name: 'droppedAttributesCount', type: 'varint' } });
const scopeSpans = (): Schema => ({ 1: { name: 'scope', type: scope }, 2: { name: 'spans', type: span, repeated: true }, 3: { name: 'schemaUrl', type: 'string' } });
const resource = (): Schema => ({ ...attributes(1), 2: { name: 'droppedAttributesCount', type: 'varint' } });
const resourceSpans = (): Schema => ({ 1: { name: 'resource', type: resource }, 2: { name: 'scopeSpans', type: scopeSpans, repeated: true }, 3: { name: 'schemaUrl', type: 'string' } });
const exportRequest = (): Schema => ({ 1: { name: 'resourceSpans', type: resourceSpans, repeated: true } });

export function decodeTraceRequest(bytes: Uint8Array): Record<string, unknown> {
  return decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), exportRequest());
}

function decode(bytes: Buffer, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = bytes[at++];
      if (byte === undefined || shift > 63n) throw new Error('a truncated or overlong varint');
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const tag = Number(varint());
    const field = schema[tag >>> 3];
    const wire = tag & 7;
    let value: unknown;
    if (wire === 0) value = varint();
    else if (wire === 1) value = bytes.subarray(at, (at += 8));
    else if (wire === 5) value = bytes.subarray(at, (at += 4));
    else if (wire === 2) {
      const length = Number(varint());
      value = bytes.subarray(at, (at += length));
    } else throw new Error(`wire type ${wire} is not used by OTLP traces`);
    if (at > bytes.length) throw new Error('a field runs past the end of its message');
    if (!field) throw new Error(`unknown field ${tag >>> 3}`);
    const decoded = typeof field.type === 'function' ? decode(value as Buffer, field.type()) : scalar(field.type, value as bigint | Buffer);
    if (field.repeated) ((out[field.name] ??= []) as unknown[]).push(decoded);
    else out[field.name] = decoded;
  }
  return out;
}

function scalar(type: Scalar, value: bigint | Buffer): unknown {
  switch (type) {
    case 'string':
      return (value as Buffer).toString('utf8');
    case 'hex':
      return (value as Buffer).toString('hex');
    case 'varint':
      return Number(value as bigint);
    case 'int64':
      return Number(BigInt.asIntN(64, value as bigint));
    case 'bool':
      return (value as bigint) !== 0n;
    case 'nanos':
      return (value as Buffer).readBigUInt64LE().toString();
    case 'fixed32':
      return (value as Buffer).readUInt32LE();
    case 'double':
      return (value as Buffer).readDoubleLE();
  }
}
