/**
 * The framing between the preload library (native/devemu.h) and the backend: one
 * request and one response per Unix-socket connection, little-endian throughout.
 *
 * - request: `u32 body_len`, header `{u32 op, u32 flags, u64 handle, u64 offset, u64 arg,
 *   u32 path_len, u32 data_len}` (40 bytes), then the path and the data;
 * - response: `u32 body_len`, header `{i32 err, u32 flags, u64 value, u64 value2,
 *   u32 len1, u32 len2}` (32 bytes), then data1 and data2.
 *
 * @internal
 * @module
 */
import { constants } from 'node:os';

/** Operations of the wire protocol (`enum devemu_op`). */
export const Op = {
  OPEN: 1,
  CLOSE: 2,
  READ: 3,
  WRITE: 4,
  STAT: 5,
  MKDIR: 6,
  RMDIR: 7,
  IOCTL: 8,
  FLOCK: 9,
  LIST: 10,
  FSTAT: 11,
  UNLINK: 12,
} as const;

export const REQ_HEADER = 40;
export const RESP_HEADER = 32;
/** Largest request body accepted (a write of a few MiB at most is meaningful here). */
export const MAX_REQUEST = 8 << 20;

/** One decoded request. */
export interface WireRequest {
  readonly op: number;
  readonly flags: number;
  readonly handle: number;
  readonly offset: bigint;
  readonly arg: bigint;
  readonly path: string;
  readonly data: Uint8Array;
}

/** What the backend answers; absent fields are zero or empty. */
export interface WireResponse {
  /** Positive errno, 0 for success. */
  err?: number;
  flags?: number;
  value?: bigint | number;
  value2?: bigint | number;
  data1?: Uint8Array;
  data2?: Uint8Array;
}

/** Linux errno values by name (node:os, so they are the platform's). */
export const errno = constants.errno;
export type ErrnoName = keyof typeof constants.errno;

/** A failure an emulated call reports to its caller as `-1` with `errno`. */
export class DeviceErrno extends Error {
  readonly errno: number;
  constructor(readonly errnoName: ErrnoName) {
    super(errnoName);
    this.errno = constants.errno[errnoName];
  }
}

/** Throws the errno `name` (handlers signal failures this way). */
export function fail(name: ErrnoName): never {
  throw new DeviceErrno(name);
}

/** Splits a complete request body (after the length prefix) into its fields. */
export function decodeRequest(body: Uint8Array): WireRequest {
  if (body.length < REQ_HEADER) throw new RangeError('request shorter than its header');
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const pathLen = v.getUint32(32, true);
  const dataLen = v.getUint32(36, true);
  if (REQ_HEADER + pathLen + dataLen !== body.length) {
    throw new RangeError('request lengths do not add up');
  }
  const path = Buffer.from(body.subarray(REQ_HEADER, REQ_HEADER + pathLen)).toString('utf8');
  return {
    op: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    handle: Number(v.getBigUint64(8, true)),
    offset: v.getBigUint64(16, true),
    arg: v.getBigUint64(24, true),
    path,
    data: body.slice(REQ_HEADER + pathLen),
  };
}

/** Encodes a response with its length prefix. */
export function encodeResponse(r: WireResponse): Uint8Array {
  const d1 = r.data1 ?? new Uint8Array(0);
  const d2 = r.data2 ?? new Uint8Array(0);
  const out = new Uint8Array(4 + RESP_HEADER + d1.length + d2.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, RESP_HEADER + d1.length + d2.length, true);
  v.setInt32(4, r.err ?? 0, true);
  v.setUint32(8, r.flags ?? 0, true);
  v.setBigUint64(12, BigInt.asUintN(64, BigInt(r.value ?? 0)), true);
  v.setBigUint64(20, BigInt.asUintN(64, BigInt(r.value2 ?? 0)), true);
  v.setUint32(28, d1.length, true);
  v.setUint32(32, d2.length, true);
  out.set(d1, 4 + RESP_HEADER);
  out.set(d2, 4 + RESP_HEADER + d1.length);
  return out;
}
