/**
 * Canonical JSON, the JSON Canonicalization Scheme of RFC 8785 (JCS), by the canonicalize
 * library: object members sorted by key (UTF-16 code units), no whitespace, numbers and strings
 * as ECMAScript serialises them. One rule for every hash and signature over JSON: provenance
 * log records (the transparency-log leaf data) and offline endorsement bundles.
 *
 * @internal
 * @module
 */
import canonicalize from 'canonicalize';

/**
 * The canonical text of `value`.
 *
 * @throws TypeError for values JSON cannot hold (undefined, functions, symbols, bigints,
 *   NaN, infinities, strings with lone surrogates, cycles).
 */
export function canonicalJson(value: unknown): string {
  if (!isJsonValue(value)) throw new TypeError(`canonical JSON has no form for ${typeof value}`);
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (err) {
    throw new TypeError(`canonical JSON: ${(err as Error).message}`);
  }
  if (text === undefined) throw new TypeError(`canonical JSON has no form for ${typeof value}`);
  return text;
}

/** The canonical UTF-8 bytes of `value` (for example the transparency-log leaf data). */
export function canonicalBytes(value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(canonicalJson(value), 'utf8'));
}

/**
 * Rejects, at any depth, what canonicalize would silently drop or turn into `null`; a cycle is
 * left for canonicalize to report.
 */
function isJsonValue(value: unknown, ancestors = new Set<object>()): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return true;
    case 'object': {
      if (ancestors.has(value)) return true;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
      ancestors.add(value);
      const ok = Array.isArray(value)
        ? value.every((v) => isJsonValue(v, ancestors))
        : Object.values(value).every((v) => v === undefined || isJsonValue(v, ancestors));
      ancestors.delete(value);
      return ok;
    }
    default:
      return false;
  }
}
