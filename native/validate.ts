/** Argument checks of the native layer: misuse is a TypeError before the addon runs. */

/** Checks a Uint8Array argument's type and length. @internal */
export function bytesArg(name: string, value: unknown, min: number, max: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (value.length < min || value.length > max) {
    throw new TypeError(
      min === max
        ? `${name} must be ${min} bytes, got ${value.length}`
        : `${name} must be ${min} to ${max} bytes, got ${value.length}`,
    );
  }
  return value;
}

/** An optional Uint8Array argument (undefined and null both mean absent). @internal */
export function optionalBytesArg(
  name: string,
  value: unknown,
  min: number,
  max: number,
): Uint8Array | null {
  return value === undefined || value === null ? null : bytesArg(name, value, min, max);
}

/** An integer argument within [min, max]. @internal */
export function intArg(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
