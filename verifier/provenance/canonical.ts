/**
 * Canonical JSON of log records: object members sorted by key (UTF-16 code units), no
 * whitespace, strings and integers as `JSON.stringify` writes them. For the values records
 * hold (strings, safe integers, booleans, null, arrays, objects) this is the JSON
 * Canonicalization Scheme of RFC 8785, so any JCS implementation recomputes the same bytes.
 *
 * @module
 */

/**
 * The canonical text of `value`.
 *
 * @throws TypeError for values a record may not hold (non-integer numbers, undefined,
 *   functions, bigints).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`non-integer number ${value} in record`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`a record cannot hold a ${typeof value}`);
}

/** The canonical UTF-8 bytes of `value` (the transparency-log leaf data). */
export function canonicalBytes(value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(canonicalJson(value), 'utf8'));
}
