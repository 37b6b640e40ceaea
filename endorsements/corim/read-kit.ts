/**
 * Typed readers over values cbor-x decoded, each naming the path of what it reads so that
 * every problem is reported as `ERR_CORIM_INVALID` at a precise place.
 *
 * @internal
 * @module
 */
import { Tag } from './cbor.js';
import { invalid } from './errors.js';

/** `path.name`. */
export const at = (path: string, name: string): string => `${path}.${name}`;

/** `path[index]`. */
export const nth = (path: string, index: number): string => `${path}[${index}]`;

function kind(v: unknown): string {
  if (v instanceof Tag) return `tag ${v.tag}`;
  if (v instanceof Uint8Array) return 'a byte string';
  if (v instanceof Map) return 'a map';
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (v instanceof Date) return 'a time';
  return `a ${typeof v}`;
}

/** A map (`Map` as decoded). */
export function asMap(v: unknown, path: string): Map<unknown, unknown> {
  if (!(v instanceof Map)) throw invalid(path, `expected a map, got ${kind(v)}`);
  return v;
}

/** A required entry of `map`. */
export function need(map: Map<unknown, unknown>, key: number, path: string): unknown {
  if (!map.has(key)) throw invalid(path, 'is required');
  return map.get(key);
}

/** An array of at least `min` elements. */
export function asArray(v: unknown, path: string, min = 0): unknown[] {
  if (!Array.isArray(v)) throw invalid(path, `expected an array, got ${kind(v)}`);
  if (v.length < min) throw invalid(path, `expected at least ${min} entries, got ${v.length}`);
  return v;
}

/** A text string. */
export function asText(v: unknown, path: string): string {
  if (typeof v !== 'string') throw invalid(path, `expected a text string, got ${kind(v)}`);
  return v;
}

/** A byte string (copied), optionally of an exact length. */
export function asBytes(v: unknown, path: string, size?: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v instanceof Tag) {
    throw invalid(path, `expected a byte string, got ${kind(v)}`);
  }
  if (size !== undefined && v.length !== size) {
    throw invalid(path, `expected ${size} bytes, got ${v.length}`);
  }
  return new Uint8Array(v);
}

/** An integer (negative allowed) that fits a JavaScript number exactly. */
export function asInt(v: unknown, path: string): number {
  const n =
    typeof v === 'bigint' &&
    v >= BigInt(Number.MIN_SAFE_INTEGER) &&
    v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw invalid(path, `expected an integer, got ${kind(v)}`);
  }
  return n;
}

/** An unsigned integer up to `max`. */
export function asUint(v: unknown, path: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = asInt(v, path);
  if (n < 0 || n > max) throw invalid(path, `expected an unsigned integer up to ${max}, got ${n}`);
  return n;
}

/** An unsigned 64-bit integer as a bigint. */
export function asU64(v: unknown, path: string): bigint {
  const n = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof n !== 'bigint' || n < 0n || n >= 1n << 64n) {
    throw invalid(path, `expected an unsigned 64-bit integer, got ${kind(v)}`);
  }
  return n;
}

/** A boolean. */
export function asBool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw invalid(path, `expected a boolean, got ${kind(v)}`);
  return v;
}

/** The content of a tag whose number is one of `numbers`. */
export function asTag(v: unknown, path: string, ...numbers: number[]): Tag {
  if (!(v instanceof Tag) || !numbers.includes(v.tag)) {
    const want = numbers.map((n) => `#6.${n}`).join(' or ');
    throw invalid(path, `expected ${want}, got ${kind(v)}`);
  }
  return v;
}

/** `time` (`#6.1`, which cbor-x decodes to a `Date`). */
export function asTime(v: unknown, path: string): Date {
  if (!(v instanceof Date) || Number.isNaN(v.getTime())) {
    throw invalid(path, `expected a time (#6.1 epoch seconds), got ${kind(v)}`);
  }
  return new Date(v.getTime());
}

/** A URI: `#6.32(tstr)`. */
export function asUri(v: unknown, path: string): string {
  return asText(asTag(v, path, 32).value, path);
}

/** Reads an optional entry with `read` when present. */
export function optional<T>(
  map: Map<unknown, unknown>,
  key: number,
  path: string,
  read: (v: unknown, path: string) => T,
): T | undefined {
  return map.has(key) ? read(map.get(key), path) : undefined;
}

/** Drops `undefined` properties (so decoded models compare equal to built ones). */
export function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
