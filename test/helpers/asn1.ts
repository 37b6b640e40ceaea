/**
 * asn1js shorthands for tests that hand-craft DER: odd extension values, certificates with
 * a swapped algorithm, structures a parser must refuse.
 */
import * as asn1js from 'asn1js';

/** Any asn1js value. */
export type Asn1 = asn1js.AsnType;

/** The DER of an asn1js value. */
export function toDer(value: { toBER(sizeOnly?: boolean): ArrayBuffer }): Uint8Array {
  return new Uint8Array(value.toBER(false));
}

/** Decodes one complete BER/DER value (no trailing bytes), to embed already-encoded DER. */
export function fromDer(bytes: Uint8Array): Asn1 {
  const { offset, result } = asn1js.fromBER(bytes);
  if (offset !== bytes.length || result.error)
    throw new Error(`not one DER value: ${result.error}`);
  return result;
}

/** SEQUENCE of asn1js values or already-encoded DER, in the order given. */
export function sequence(...items: readonly (Asn1 | Uint8Array)[]): asn1js.Sequence {
  return new asn1js.Sequence({
    value: items.map((i) => (i instanceof Uint8Array ? fromDer(i) : i)),
  });
}

/** OBJECT IDENTIFIER from dotted-decimal text. */
export const oid = (value: string): asn1js.ObjectIdentifier =>
  new asn1js.ObjectIdentifier({ value });

/** INTEGER (a small number). */
export const integer = (value: number): asn1js.Integer => new asn1js.Integer({ value });

/** ENUMERATED. */
export const enumerated = (value: number): asn1js.Enumerated => new asn1js.Enumerated({ value });

/** OCTET STRING. */
export const octets = (valueHex: Uint8Array): asn1js.OctetString =>
  new asn1js.OctetString({ valueHex });

/** BIT STRING with no unused bits. */
export const bits = (valueHex: Uint8Array): asn1js.BitString => new asn1js.BitString({ valueHex });
