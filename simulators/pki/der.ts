/**
 * A small DER (ITU-T X.690) encoder: enough ASN.1 to build X.509 certificates, CRLs and
 * the vendor extensions the simulated PKIs carry. Reading DER back is the verifier's job:
 * use `verifier/x509/der.ts` (and `certificate.ts`, `crl.ts` for whole structures).
 *
 * Encoders take content and return complete TLVs, so structures compose as nested calls:
 * `sequence(oid('2.5.29.19'), boolean(true), octetString(...))`.
 * Only low tag numbers (< 31) and definite lengths are supported, which is all X.509 uses.
 *
 * @module
 */
import { parseDer, Tag } from '../../common/x509/der.js';

/** Universal tag bytes, shared with the verifier's reader. */
export { Tag };

const utf8 = new TextEncoder();

/** Concatenates byte arrays. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Encodes one TLV with the given identifier byte. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & 0x1f) === 0x1f) {
    throw new RangeError(`unsupported DER tag byte ${tag}`);
  }
  return concatBytes(Uint8Array.of(tag), encodeLength(content.length), content);
}

/** SEQUENCE of already-encoded elements, in the order given. */
export function sequence(...items: readonly Uint8Array[]): Uint8Array {
  return tlv(Tag.SEQUENCE, concatBytes(...items));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

/** SET OF: DER orders the elements by their encodings (X.690 §11.6). */
export function set(...items: readonly Uint8Array[]): Uint8Array {
  return tlv(Tag.SET, concatBytes(...[...items].sort(compareBytes)));
}

/** Minimal two's-complement bytes of a bigint. */
export function bigintToSignedBytes(value: bigint): Uint8Array {
  if (value >= 0n) {
    let hex = value.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    const bytes = Buffer.from(hex, 'hex');
    return bytes[0]! & 0x80 ? concatBytes(Uint8Array.of(0), bytes) : new Uint8Array(bytes);
  }
  let len = 1;
  while (value < -(1n << BigInt(8 * len - 1))) len++;
  const twos = (1n << BigInt(8 * len)) + value;
  return new Uint8Array(Buffer.from(twos.toString(16).padStart(2 * len, '0'), 'hex'));
}

/**
 * INTEGER. A bigint or number is encoded in minimal two's complement; bytes are taken as
 * an unsigned big-endian magnitude (leading zeros dropped, a 0x00 added when the top bit is set).
 */
export function integer(value: bigint | number | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) {
    let i = 0;
    while (i < value.length - 1 && value[i] === 0) i++;
    const mag = value.subarray(i);
    const content =
      mag.length === 0
        ? Uint8Array.of(0)
        : mag[0]! & 0x80
          ? concatBytes(Uint8Array.of(0), mag)
          : mag;
    return tlv(Tag.INTEGER, content);
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`INTEGER value ${value} is not a safe integer`);
  }
  return tlv(Tag.INTEGER, bigintToSignedBytes(BigInt(value)));
}

/** ENUMERATED. */
export function enumerated(value: number): Uint8Array {
  return tlv(Tag.ENUMERATED, bigintToSignedBytes(BigInt(value)));
}

/** OBJECT IDENTIFIER from dotted-decimal text. */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new TypeError(`bad OID ${JSON.stringify(dotted)}`);
    return BigInt(s);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! > 39n)) {
    throw new TypeError(`bad OID ${JSON.stringify(dotted)}`);
  }
  const out: number[] = [];
  for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return tlv(Tag.OID, Uint8Array.from(out));
}

/** BIT STRING with the given count of unused trailing bits in the last byte. */
export function bitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  if (unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new RangeError(`bad unused-bit count ${unusedBits}`);
  }
  return tlv(Tag.BIT_STRING, concatBytes(Uint8Array.of(unusedBits), bytes));
}

/** OCTET STRING. */
export function octetString(bytes: Uint8Array): Uint8Array {
  return tlv(Tag.OCTET_STRING, bytes);
}

/** UTF8String. */
export function utf8String(text: string): Uint8Array {
  return tlv(Tag.UTF8_STRING, utf8.encode(text));
}

/** PrintableString (X.680 §41.4 character set). */
export function printableString(text: string): Uint8Array {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) {
    throw new TypeError(`${JSON.stringify(text)} is not a PrintableString`);
  }
  return tlv(Tag.PRINTABLE_STRING, utf8.encode(text));
}

/** IA5String (7-bit ASCII). */
export function ia5String(text: string): Uint8Array {
  if ([...text].some((c) => c.charCodeAt(0) > 0x7f)) {
    throw new TypeError(`${JSON.stringify(text)} is not IA5`);
  }
  return tlv(Tag.IA5_STRING, utf8.encode(text));
}

function timeDigits(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new RangeError('invalid Date');
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    p(d.getUTCMonth() + 1) +
    p(d.getUTCDate()) +
    p(d.getUTCHours()) +
    p(d.getUTCMinutes()) +
    p(d.getUTCSeconds()) +
    'Z'
  );
}

/** UTCTime `YYMMDDHHMMSSZ` (years 1950–2049; sub-second precision is dropped). */
export function utcTime(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new RangeError(`UTCTime cannot hold year ${y}`);
  return tlv(Tag.UTC_TIME, utf8.encode(String(y % 100).padStart(2, '0') + timeDigits(d)));
}

/** GeneralizedTime `YYYYMMDDHHMMSSZ` (no fractional seconds, as RFC 5280 §4.1.2.5.2 requires). */
export function generalizedTime(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new RangeError(`GeneralizedTime cannot hold year ${y}`);
  return tlv(Tag.GENERALIZED_TIME, utf8.encode(String(y).padStart(4, '0') + timeDigits(d)));
}

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  return y >= 1950 && y <= 2049 ? utcTime(d) : generalizedTime(d);
}

/** BOOLEAN (DER: TRUE is 0xFF). */
export function boolean(value: boolean): Uint8Array {
  return tlv(Tag.BOOLEAN, Uint8Array.of(value ? 0xff : 0x00));
}

/** NULL. */
export function nullValue(): Uint8Array {
  return tlv(Tag.NULL, new Uint8Array(0));
}

/** Context-specific EXPLICIT tag `[n]` wrapping a complete TLV. */
export function explicit(tagNumber: number, inner: Uint8Array): Uint8Array {
  return tlv(0xa0 | tagNumber, inner);
}

/** Context-specific IMPLICIT tag `[n]`: replaces the identifier of `inner`, keeping its form. */
export function implicit(tagNumber: number, inner: Uint8Array): Uint8Array {
  const node = parseDer(inner, 'implicit');
  return tlv(0x80 | (node.tag & 0x20) | tagNumber, node.value);
}
