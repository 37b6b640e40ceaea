/**
 * A small bounds-checked DER reader (ITU-T X.690 §8, §10) for certificates, CRLs and
 * their extensions. Every failure is an {@link EvidenceMalformedError} naming the field
 * and its byte offset, never a RangeError. Only what X.509 needs is supported:
 * single-byte tags, definite lengths of at most four length octets, minimal length
 * encodings (DER), and UTCTime/GeneralizedTime in the RFC 5280 §4.1.2.5 profile.
 *
 * @module
 */
import { EvidenceMalformedError } from '../errors.js';

/** Universal tags (and the constructed SEQUENCE/SET identifier octets) used by X.509. @internal */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Identifier octet of a context-specific tag `[n]`, constructed or primitive. @internal */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** One decoded TLV. `bytes` and `value` are views into the input, not copies. @internal */
export interface DerNode {
  /** The identifier octet. */
  readonly tag: number;
  /** Offset of the identifier octet in the outermost input. */
  readonly offset: number;
  /** Identifier plus length octets. */
  readonly headerLength: number;
  /** The whole TLV. */
  readonly bytes: Uint8Array;
  /** The contents octets. */
  readonly value: Uint8Array;
  /** Field name used in error messages. */
  readonly field: string;
}

/** Longest length field accepted: four octets covers anything a certificate or CRL needs. */
const MAX_LENGTH_OCTETS = 4;

function fail(message: string, field: string, offset: number | undefined): never {
  throw new EvidenceMalformedError(message, { field, offset });
}

function readTlv(buf: Uint8Array, pos: number, base: number, field: string): DerNode {
  const at = base + pos;
  if (pos >= buf.length) fail('truncated: missing tag', field, at);
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) fail(`unsupported multi-byte tag 0x${tag.toString(16)}`, field, at);
  if (pos + 1 >= buf.length) fail('truncated: missing length', field, at);
  const first = buf[pos + 1]!;
  let length = first;
  let headerLength = 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0) fail('indefinite length is not DER', field, at);
    if (n > MAX_LENGTH_OCTETS) fail(`length of ${n} octets is too long`, field, at);
    if (pos + 2 + n > buf.length) fail('truncated: length octets', field, at);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos + 2 + i]!;
    if (buf[pos + 2]! === 0 || length < 0x80) fail('non-minimal length encoding', field, at);
    headerLength = 2 + n;
  }
  const end = pos + headerLength + length;
  if (end > buf.length) {
    fail(`truncated: needs ${length} bytes, ${buf.length - pos - headerLength} left`, field, at);
  }
  return {
    tag,
    offset: at,
    headerLength,
    bytes: buf.subarray(pos, end),
    value: buf.subarray(pos + headerLength, end),
    field,
  };
}

/** Decodes exactly one TLV spanning all of `bytes`. @internal */
export function parseDer(bytes: Uint8Array, field: string): DerNode {
  const node = readTlv(bytes, 0, 0, field);
  if (node.bytes.length !== bytes.length) {
    fail(`${bytes.length - node.bytes.length} trailing bytes after the DER value`, field, 0);
  }
  return node;
}

/** Decodes the contents of a constructed node as a list of TLVs. @internal */
export function derChildren(node: DerNode, field = node.field): DerNode[] {
  if ((node.tag & 0x20) === 0) fail('expected a constructed value', field, node.offset);
  const out: DerNode[] = [];
  const base = node.offset + node.headerLength;
  let pos = 0;
  while (pos < node.value.length) {
    const child = readTlv(node.value, pos, base, `${field}[${out.length}]`);
    out.push(child);
    pos += child.bytes.length;
  }
  return out;
}

/** Throws unless `node` carries the identifier octet `tag`. @internal */
export function expectTag(node: DerNode | undefined, tag: number, field: string): DerNode {
  if (node === undefined) fail('missing', field, undefined);
  if (node.tag !== tag) {
    fail(`expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`, field, node.offset);
  }
  return node;
}

/** The children of a SEQUENCE, checked to be one. @internal */
export function derSequence(node: DerNode | undefined, field: string): DerNode[] {
  return derChildren(expectTag(node, Tag.SEQUENCE, field), field);
}

/** An OBJECT IDENTIFIER in dotted form. @internal */
export function derOid(node: DerNode | undefined, field: string): string {
  const { value, offset } = expectTag(node, Tag.OID, field);
  if (value.length === 0) fail('empty OID', field, offset);
  const arcs: bigint[] = [];
  let acc = 0n;
  let started = false;
  for (const b of value) {
    if (!started && b === 0x80) fail('non-minimal OID arc', field, offset);
    started = true;
    acc = (acc << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(acc);
      acc = 0n;
      started = false;
    }
  }
  if (started) fail('truncated OID arc', field, offset);
  const head = arcs[0]!;
  const first = head < 40n ? 0n : head < 80n ? 1n : 2n;
  return [first, head - first * 40n, ...arcs.slice(1)].join('.');
}

/** A two's-complement INTEGER as a bigint. @internal */
export function derInteger(node: DerNode | undefined, field: string): bigint {
  const { value, offset } = expectTag(node, Tag.INTEGER, field);
  return twosComplement(value, field, offset);
}

/** An ENUMERATED as a bigint. @internal */
export function derEnumerated(node: DerNode | undefined, field: string): bigint {
  const { value, offset } = expectTag(node, Tag.ENUMERATED, field);
  return twosComplement(value, field, offset);
}

function twosComplement(value: Uint8Array, field: string, offset: number): bigint {
  if (value.length === 0) fail('empty INTEGER', field, offset);
  let n = 0n;
  for (const b of value) n = (n << 8n) | BigInt(b);
  if (value[0]! & 0x80) n -= 1n << BigInt(value.length * 8);
  return n;
}

/** An INTEGER that must lie in `[min, max]`, as a number. @internal */
export function derSmallInt(
  node: DerNode | undefined,
  field: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = derInteger(node, field);
  if (n < BigInt(min) || n > BigInt(max)) {
    fail(`value ${n} outside [${min}, ${max}]`, field, node!.offset);
  }
  return Number(n);
}

/** A BOOLEAN (DER: 0x00 or 0xff). @internal */
export function derBoolean(node: DerNode | undefined, field: string): boolean {
  const { value, offset } = expectTag(node, Tag.BOOLEAN, field);
  if (value.length !== 1 || (value[0] !== 0 && value[0] !== 0xff)) {
    fail('BOOLEAN must be one octet 0x00 or 0xff', field, offset);
  }
  return value[0] === 0xff;
}

/** An OCTET STRING's contents. @internal */
export function derOctetString(node: DerNode | undefined, field: string): Uint8Array {
  return expectTag(node, Tag.OCTET_STRING, field).value;
}

/** A BIT STRING's contents and its count of unused trailing bits. @internal */
export function derBitString(
  node: DerNode | undefined,
  field: string,
): { bytes: Uint8Array; unusedBits: number } {
  const { value, offset } = expectTag(node, Tag.BIT_STRING, field);
  if (value.length === 0) fail('empty BIT STRING', field, offset);
  const unusedBits = value[0]!;
  if (unusedBits > 7 || (value.length === 1 && unusedBits !== 0)) {
    fail(`invalid unused-bits count ${unusedBits}`, field, offset);
  }
  return { bytes: value.subarray(1), unusedBits };
}

/** A character string of any of the types X.509 names use. @internal */
export function derString(node: DerNode | undefined, field: string): string {
  if (node === undefined) fail('missing', field, undefined);
  const buf = Buffer.from(node.value.buffer, node.value.byteOffset, node.value.byteLength);
  switch (node.tag) {
    case Tag.UTF8_STRING:
      return buf.toString('utf8');
    case Tag.PRINTABLE_STRING:
    case Tag.IA5_STRING:
    case Tag.T61_STRING:
      return buf.toString('latin1');
    case Tag.BMP_STRING:
      if (buf.length % 2) fail('odd BMPString length', field, node.offset);
      return Buffer.from(buf).swap16().toString('utf16le');
    default:
      return fail(`tag 0x${node.tag.toString(16)} is not a string type`, field, node.offset);
  }
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/**
 * A UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5: seconds present, Zulu, no fraction).
 *
 * @internal
 */
export function derTime(node: DerNode | undefined, field: string): Date {
  if (node === undefined) fail('missing', field, undefined);
  const text = Buffer.from(node.value).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (node.tag === Tag.UTC_TIME && (m = UTC_TIME.exec(text))) {
    const yy = Number(m[1]);
    // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, otherwise 20YY.
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (node.tag === Tag.GENERALIZED_TIME && (m = GENERALIZED_TIME.exec(text))) {
    year = Number(m[1]);
    if (year < 1950) fail(`year ${year} out of range`, field, node.offset);
  } else {
    return fail(`invalid time '${text}'`, field, node.offset);
  }
  const [mo, d, h, mi, s] = m.slice(2).map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(year, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    fail(`invalid calendar time '${text}'`, field, node.offset);
  }
  return back;
}
