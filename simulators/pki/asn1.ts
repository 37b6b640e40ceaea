/**
 * The few ASN.1 values the simulated PKIs build that asn1js and pkijs do not encode as
 * DER on their own: minimal INTEGERs from bigints and magnitudes, RFC 5280 times, and
 * names of single-attribute RDNs. Everything else is asn1js/pkijs directly.
 *
 * @internal
 * @module
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/** Anything asn1js or pkijs can encode. */
export interface Encodable {
  toBER(sizeOnly?: boolean): ArrayBuffer;
}

/** The DER of an asn1js value (as built here: definite lengths, no BER forms). */
export function der(value: Encodable): Uint8Array {
  return new Uint8Array(value.toBER(false));
}

/**
 * A non-negative INTEGER in minimal form. Negative values are refused: asn1js does not
 * encode every negative bigint minimally, and no simulated certificate carries one.
 */
export function integer(value: bigint | number): asn1js.Integer {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`INTEGER value ${value} is not a safe integer`);
  }
  const v = BigInt(value);
  if (v < 0n) throw new RangeError(`INTEGER value ${v} is negative`);
  return asn1js.Integer.fromBigInt(v);
}

/** An INTEGER from an unsigned big-endian magnitude (leading zeros dropped, 0x00 added as needed). */
export function unsignedInteger(magnitude: Uint8Array): asn1js.Integer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const mag = magnitude.subarray(i);
  const valueHex =
    mag.length === 0 ? Uint8Array.of(0) : mag[0]! & 0x80 ? Uint8Array.of(0, ...mag) : mag.slice();
  return new asn1js.Integer({ valueHex });
}

/** RFC 5280 Time: UTCTime for 1950–2049, GeneralizedTime otherwise; sub-seconds dropped. */
export function time(d: Date): pkijs.Time {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new RangeError('invalid Date');
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new RangeError(`GeneralizedTime cannot hold year ${y}`);
  const value = new Date(Math.floor(d.getTime() / 1000) * 1000);
  const type = y >= 1950 && y <= 2049 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime;
  return new pkijs.Time({ type, value });
}

/**
 * A Name of single-attribute RDNs in the order given. pkijs puts every attribute of a
 * `RelativeDistinguishedNames` it builds into one SET, so the Name is encoded here and
 * handed to pkijs as already-encoded bytes, which it re-emits unchanged.
 */
export function name(
  attributes: readonly (readonly [oid: string, value: asn1js.AsnType])[],
): pkijs.RelativeDistinguishedNames {
  const rdns = attributes.map(
    ([type, value]) =>
      new asn1js.Set({
        value: [
          new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: type }), value] }),
        ],
      }),
  );
  const valueBeforeDecode = new asn1js.Sequence({ value: rdns }).toBER(false);
  return new pkijs.RelativeDistinguishedNames({ valueBeforeDecode });
}
