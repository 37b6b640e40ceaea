/**
 * `validity-map` (draft-ietf-rats-corim-11 §7.3): decoding, encoding and the check at an
 * injected instant.
 *
 * @internal
 * @module
 */
import { tag } from './cbor.js';
import { CorimError, invalid } from './errors.js';
import { asMap, asTime, at, defined, need, optional } from './read-kit.js';
import type { Validity } from './types.js';

/** `validity-map` at `path`. */
export function readValidity(v: unknown, path: string): Validity {
  const m = asMap(v, path);
  const validity = defined({
    notBefore: optional(m, 0, at(path, 'not-before'), asTime),
    notAfter: asTime(need(m, 1, at(path, 'not-after')), at(path, 'not-after')),
  });
  if (validity.notBefore && validity.notBefore > validity.notAfter) {
    throw invalid(path, 'not-before is after not-after');
  }
  return validity;
}

function encodeTime(d: Date): unknown {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new TypeError('validity: invalid Date');
  // Whole seconds encode as an integer; cbor-x writes other values as a float.
  return tag(1, ms / 1000);
}

/** CBOR value of a `validity-map`. */
export function encodeValidity(v: Validity): Map<number, unknown> {
  const m = new Map<number, unknown>();
  if (v.notBefore) m.set(0, encodeTime(v.notBefore));
  m.set(1, encodeTime(v.notAfter));
  return m;
}

/** Throws `ERR_CORIM_NOT_YET_VALID` or `ERR_CORIM_EXPIRED` unless `now` is inside `validity`. */
export function checkValidity(validity: Validity | undefined, now: Date, path: string): void {
  if (validity === undefined) return;
  const at = now.toISOString();
  if (validity.notBefore && now < validity.notBefore) {
    const when = validity.notBefore.toISOString();
    throw new CorimError('ERR_CORIM_NOT_YET_VALID', path, `not valid before ${when} (now ${at})`);
  }
  if (now > validity.notAfter) {
    const when = validity.notAfter.toISOString();
    throw new CorimError('ERR_CORIM_EXPIRED', path, `expired at ${when} (now ${at})`);
  }
}
