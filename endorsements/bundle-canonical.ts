/**
 * Canonical JSON for bundle hashes: object keys sorted by UTF-16 code units, no whitespace,
 * strings and numbers as ECMAScript serialises them. For the values a bundle holds (strings,
 * integers, objects, arrays) this is the RFC 8785 (JCS) form.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError('canonical JSON has no form for non-finite numbers');
    }
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`canonical JSON has no form for ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  const members = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`);
  return `{${members.join(',')}}`;
}
