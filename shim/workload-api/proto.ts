/**
 * The SPIFFE Workload API contract (`workload.proto`, shipped beside the build) loaded for
 * grpc-js, and the conversions the messages need: `google.protobuf.Struct` ⇄ JSON.
 *
 * @internal
 * @module
 */
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition } from '@grpc/grpc-js';
import type { GrpcObject, ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** The metadata every Workload API call carries (SPIFFE Workload API §4.1). */
export const SECURITY_HEADER = 'workload.spiffe.io';

/** The conventional environment variable naming the Workload API endpoint. */
export const ENV_SPIFFE_ENDPOINT_SOCKET = 'SPIFFE_ENDPOINT_SOCKET';

/** The `.proto` file: `dist/shim/workload-api/` → `shim/workload-api/workload.proto`. */
export const WORKLOAD_PROTO = fileURLToPath(
  new URL('../../../shim/workload-api/workload.proto', import.meta.url),
);

let service: ServiceClientConstructor | undefined;

/** The `SpiffeWorkloadAPI` service (client constructor; `.service` is the server definition). */
export function workloadApiService(): ServiceClientConstructor {
  if (!service) {
    const definition = loadSync(WORKLOAD_PROTO, {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const grpc: GrpcObject = loadPackageDefinition(definition);
    service = grpc.SpiffeWorkloadAPI as ServiceClientConstructor;
  }
  return service;
}

/**
 * A `google.protobuf.Value` as proto-loader reads and writes it: protobufjs defines the
 * well-known types with camelCase field names, whatever `keepCase` says.
 */
export interface ProtoValue {
  nullValue?: 'NULL_VALUE' | 0;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values: ProtoValue[] };
  kind?: string;
}

/** A `google.protobuf.Struct`. */
export interface ProtoStruct {
  fields: Record<string, ProtoValue>;
}

function valueOf(v: unknown): ProtoValue {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(valueOf) } };
  return { structValue: structOf(v as Record<string, unknown>) };
}

/** JSON object → `Struct`. */
export function structOf(o: Readonly<Record<string, unknown>>): ProtoStruct {
  return { fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, valueOf(v)])) };
}

function jsonOfValue(v: ProtoValue): unknown {
  switch (v.kind) {
    case 'numberValue':
      return v.numberValue;
    case 'stringValue':
      return v.stringValue;
    case 'boolValue':
      return v.boolValue;
    case 'structValue':
      return jsonOfStruct(v.structValue);
    case 'listValue':
      return (v.listValue?.values ?? []).map(jsonOfValue);
    default:
      return null;
  }
}

/** `Struct` (as decoded, with `oneofs`) → JSON object. */
export function jsonOfStruct(s: ProtoStruct | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(s?.fields ?? {}).map(([k, v]) => [k, jsonOfValue(v)]));
}
