/**
 * Strict readers for the JSON of Intel collateral (TCB Info, QE Identity and the
 * `QuoteCollateralV3` wrapper). Every failure is `ERR_COLLATERAL_INVALID` naming the
 * JSON path.
 *
 * @internal
 * @module
 */
import { VerificationError } from '../../../../common/errors.js';
import { isTcbStatus } from '../verify/tcb-status.js';
import type { TcbStatus } from '../verify/tcb-status.js';

/** A JSON object as read from collateral. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** Throws `ERR_COLLATERAL_INVALID` for `path`. */
export function invalid(path: string, message: string, cause?: unknown): never {
  throw new VerificationError(
    'ERR_COLLATERAL_INVALID',
    `${path}: ${message}`,
    path,
    cause === undefined ? undefined : { cause },
  );
}

/** Parses JSON text into an object. */
export function parseJsonObject(text: string, path: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    invalid(path, 'not valid JSON', err);
  }
  return asObject(value, path);
}

/** A JSON object (not null, not an array). */
export function asObject(value: unknown, path: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(path, 'expected an object');
  }
  return value as JsonObject;
}

/** A JSON array. */
export function asArray(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) invalid(path, 'expected an array');
  return value;
}

/** A JSON string. */
export function asString(value: unknown, path: string): string {
  if (typeof value !== 'string') invalid(path, 'expected a string');
  return value;
}

/** A non-negative integer up to `max`. */
export function asUint(value: unknown, path: string, max = 0xffffffff): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    invalid(path, `expected an integer in [0, ${max}]`);
  }
  return value;
}

/** Bytes from hex text of exactly `size` bytes. */
export function asHex(value: unknown, path: string, size: number): Uint8Array {
  const s = asString(value, path);
  if (s.length !== size * 2 || !/^[0-9a-fA-F]*$/.test(s))
    invalid(path, `expected ${size} bytes of hex`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** Bytes from hex text of any even length. */
export function asHexAny(value: unknown, path: string): Uint8Array {
  const s = asString(value, path);
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) invalid(path, 'expected hex');
  return new Uint8Array(Buffer.from(s, 'hex'));
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 UTC date-time as Intel writes it (`2025-06-19T10:16:03Z`). */
export function asDate(value: unknown, path: string): Date {
  const s = asString(value, path);
  const ms = ISO_DATE.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(ms)) invalid(path, `invalid date-time '${s}'`);
  return new Date(ms);
}

/** One of the TCB status strings. */
export function asStatus(value: unknown, path: string): TcbStatus {
  if (!isTcbStatus(value)) invalid(path, `unrecognised TCB status ${JSON.stringify(value)}`);
  return value;
}

/** Optional `advisoryIDs`: an array of strings, absent meaning none. */
export function asAdvisories(value: unknown, path: string): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  return Object.freeze(asArray(value, path).map((v, i) => asString(v, `${path}[${i}]`)));
}

/** A TCB level keyed by an ISV SVN (QE Identity levels and TDX module identity levels). */
export interface IsvTcbLevel {
  readonly isvSvn: number;
  /** As written in the collateral, e.g. `2024-03-13T00:00:00Z`. */
  readonly tcbDate: string;
  readonly tcbStatus: TcbStatus;
  readonly advisoryIds: readonly string[];
}

/** Parses `[{ tcb: { isvsvn }, tcbDate, tcbStatus, advisoryIDs? }]`, keeping the given order. */
export function asIsvTcbLevels(value: unknown, path: string): readonly IsvTcbLevel[] {
  const levels = asArray(value, path).map((raw, i): IsvTcbLevel => {
    const p = `${path}[${i}]`;
    const level = asObject(raw, p);
    const tcb = asObject(level.tcb, `${p}.tcb`);
    asDate(level.tcbDate, `${p}.tcbDate`);
    return Object.freeze({
      isvSvn: asUint(tcb.isvsvn, `${p}.tcb.isvsvn`, 0xffff),
      tcbDate: level.tcbDate as string,
      tcbStatus: asStatus(level.tcbStatus, `${p}.tcbStatus`),
      advisoryIds: asAdvisories(level.advisoryIDs, `${p}.advisoryIDs`),
    });
  });
  if (levels.length === 0) invalid(path, 'no TCB levels');
  return Object.freeze(levels);
}
