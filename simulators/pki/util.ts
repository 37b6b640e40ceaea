/**
 * Small shared helpers of the simulated PKIs: date arithmetic in UTC, hex, argument checks.
 *
 * @internal
 * @module
 */

/** `d` plus whole UTC calendar years. */
export function addYears(d: Date, years: number): Date {
  const out = new Date(d.getTime());
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
}

/** `d` plus (possibly fractional or negative) seconds. */
export function addSeconds(d: Date, seconds: number): Date {
  return new Date(d.getTime() + seconds * 1000);
}

/** `d` plus days. */
export function addDays(d: Date, days: number): Date {
  return addSeconds(d, days * 86_400);
}

/** The earlier of two dates. */
export function minDate(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

/** Drops milliseconds: certificates carry whole seconds. */
export function wholeSeconds(d: Date): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime()))
    throw new TypeError('expected a valid Date');
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** Lowercase hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Throws a TypeError unless `bytes` is a Uint8Array of exactly `len` bytes. */
export function checkBytes(name: string, bytes: unknown, len: number): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== len) {
    throw new TypeError(`${name} must be ${len} bytes`);
  }
  return bytes;
}

/** Throws a RangeError unless `v` is an integer in [0, max]. */
export function checkUint(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`${name} must be an integer in [0, ${max}], got ${String(v)}`);
  }
  return v;
}
