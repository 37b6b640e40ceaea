/**
 * A minimal DER reader: one TLV at a time, its children, and the primitive values the
 * simulated certificates use. Malformed input raises {@link EvidenceMalformedError}
 * naming the offset; it never reads past the buffer.
 *
 * @module
 */
import { EvidenceMalformedError } from '../../verifier/errors.js';

/** Tag classes, from the top two bits of the identifier byte. */
export type DerTagClass = 'universal' | 'application' | 'context' | 'private';

const CLASSES: readonly DerTagClass[] = ['universal', 'application', 'context', 'private'];

/** One decoded TLV. `value` and `raw` are views into the input, not copies. */
export interface DerNode {
  /** Identifier byte as encoded (e.g. 0x30 for SEQUENCE, 0xa3 for `[3]` constructed). */
  tag: number;
  tagClass: DerTagClass;
  tagNumber: number;
  constructed: boolean;
  /** Offset of the identifier byte in the buffer passed to {@link readDer}. */
  offset: number;
  headerLength: number;
  /** Content length. */
  length: number;
  /** Content octets. */
  value: Uint8Array;
  /** The whole TLV (header and content). */
  raw: Uint8Array;
}

function malformed(message: string, offset: number): EvidenceMalformedError {
  return new EvidenceMalformedError(message, { field: 'DER', offset });
}

/** Reads the TLV starting at `offset`; trailing bytes after it are left alone. */
export function readDer(bytes: Uint8Array, offset = 0): DerNode {
  if (offset + 2 > bytes.length) throw malformed('truncated header', offset);
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw malformed('high tag numbers are not supported', offset);
  let len = bytes[offset + 1]!;
  let header = 2;
  if (len === 0x80) throw malformed('indefinite length is not DER', offset);
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4 || offset + 2 + n > bytes.length) throw malformed('bad length of length', offset);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[offset + 2 + i]!;
    if (len < 0x80 || bytes[offset + 2] === 0) throw malformed('non-minimal length', offset);
    header += n;
  }
  const end = offset + header + len;
  if (end > bytes.length) throw malformed(`content of ${len} bytes runs past the end`, offset);
  return {
    tag,
    tagClass: CLASSES[tag >> 6]!,
    tagNumber: tag & 0x1f,
    constructed: (tag & 0x20) !== 0,
    offset,
    headerLength: header,
    length: len,
    value: bytes.subarray(offset + header, end),
    raw: bytes.subarray(offset, end),
  };
}

/** Reads exactly one TLV that spans the whole buffer. */
export function readDerExact(bytes: Uint8Array): DerNode {
  const node = readDer(bytes);
  if (node.raw.length !== bytes.length) {
    throw malformed(`${bytes.length - node.raw.length} trailing bytes`, node.raw.length);
  }
  return node;
}

/** The elements inside a constructed node. */
export function childrenOf(node: DerNode): DerNode[] {
  if (!node.constructed) throw malformed('primitive node has no children', node.offset);
  const out: DerNode[] = [];
  for (let at = 0; at < node.value.length;) {
    const child = readDer(node.value, at);
    out.push({ ...child, offset: node.offset + node.headerLength + at });
    at += child.raw.length;
  }
  return out;
}

function expectTag(node: DerNode, tag: number, what: string): void {
  if (node.tag !== tag) {
    throw malformed(
      `expected ${what} (tag 0x${tag.toString(16)}), got 0x${node.tag.toString(16)}`,
      node.offset,
    );
  }
}

/** INTEGER or ENUMERATED as a signed bigint (any tag is accepted; IMPLICIT ones too). */
export function readInteger(node: DerNode): bigint {
  if (node.length === 0) throw malformed('empty INTEGER', node.offset);
  let v = BigInt('0x' + Buffer.from(node.value).toString('hex'));
  if (node.value[0]! & 0x80) v -= 1n << BigInt(8 * node.length);
  return v;
}

/** OBJECT IDENTIFIER as dotted-decimal text. */
export function readOid(node: DerNode): string {
  expectTag(node, 0x06, 'OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let v = 0n;
  for (let i = 0; i < node.value.length; i++) {
    const b = node.value[i]!;
    v = (v << 7n) | BigInt(b & 0x7f);
    if (b & 0x80) {
      if (i === node.value.length - 1) throw malformed('truncated OID arc', node.offset);
      continue;
    }
    arcs.push(v);
    v = 0n;
  }
  if (arcs.length === 0) throw malformed('empty OID', node.offset);
  const first = arcs[0]! < 80n ? arcs[0]! / 40n : 2n;
  return [first, arcs[0]! - first * 40n, ...arcs.slice(1)].join('.');
}

/** BOOLEAN. */
export function readBoolean(node: DerNode): boolean {
  expectTag(node, 0x01, 'BOOLEAN');
  if (node.length !== 1) throw malformed('BOOLEAN must be one byte', node.offset);
  return node.value[0] !== 0;
}

/** BIT STRING: its bytes and unused-bit count. */
export function readBitString(node: DerNode): { bytes: Uint8Array; unusedBits: number } {
  expectTag(node, 0x03, 'BIT STRING');
  if (node.length === 0 || node.value[0]! > 7) throw malformed('bad BIT STRING', node.offset);
  return { bytes: node.value.subarray(1), unusedBits: node.value[0]! };
}

/** OCTET STRING contents. */
export function readOctetString(node: DerNode): Uint8Array {
  expectTag(node, 0x04, 'OCTET STRING');
  return node.value;
}

/** UTF8String, PrintableString or IA5String as text. */
export function readString(node: DerNode): string {
  if (node.tag !== 0x0c && node.tag !== 0x13 && node.tag !== 0x16) {
    throw malformed(`tag 0x${node.tag.toString(16)} is not a string type`, node.offset);
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(node.value);
}

/** UTCTime or GeneralizedTime in the `Z` forms RFC 5280 allows. */
export function readTime(node: DerNode): Date {
  const text = new TextDecoder().decode(node.value);
  const m =
    node.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : node.tag === 0x18
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
        : null;
  if (!m) throw malformed(`bad time ${JSON.stringify(text)}`, node.offset);
  const n = m.slice(1).map(Number);
  const year = node.tag === 0x17 ? (n[0]! < 50 ? 2000 + n[0]! : 1900 + n[0]!) : n[0]!;
  return new Date(Date.UTC(year, n[1]! - 1, n[2]!, n[3]!, n[4]!, n[5]!));
}
