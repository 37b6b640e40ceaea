/**
 * Strict DER decoding (ITU-T X.690 §10) on asn1js for certificates, CRLs and their extensions,
 * with typed readers for the values X.509 uses. Every failure is an
 * {@link EvidenceMalformedError} naming the field and, where known, its byte offset in the
 * decoded input; no asn1js or RangeError escapes.
 *
 * asn1js decodes BER. DER is its one canonical subset, so after `fromBER` the input must be
 * consumed exactly and a walk over the decoded blocks refuses what BER allows and DER does not:
 * indefinite lengths, long-form lengths a short form or fewer octets could carry, lengths of more
 * than four octets, constructed strings, multi-byte tags (X.509 uses none), end-of-contents
 * octets and NULL with contents; the readers check values (BOOLEAN octets, minimal OID arcs,
 * RFC 5280 times). The walk reads the header bookkeeping asn1js keeps anyway; re-encoding with `toBER` and
 * comparing would be a second pass as costly as decoding, and keeps indefinite lengths as they
 * came. The contents of OCTET STRING and BIT STRING are not decoded (`parseEmbedded: false`): an
 * extension value is decoded, with the same checks, when it is read.
 *
 * The input is decoded in place when it is a whole `Uint8Array` buffer (offsets of blocks are
 * then their `byteOffset`), else from a copy.
 *
 * @internal
 * @module
 */
import * as asn1js from 'asn1js';
import { EvidenceMalformedError } from '../errors.js';

/** Identifier octets of the universal types X.509 uses (SEQUENCE and SET constructed). */
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
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** A decoded value: an asn1js block whose header the DER walk has checked. */
export type Block = asn1js.BaseBlock;

/** Identifier octet of a context-specific tag `[n]`, constructed or primitive. */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** Longest length field accepted: four octets covers anything a certificate or CRL needs. */
const MAX_LENGTH_OCTETS = 4;

function fail(message: string, field: string, offset: number | undefined): never {
  throw new EvidenceMalformedError(message, { field, offset });
}

/** Where `block` starts in the decoded input. */
export function offsetOf(block: Block): number {
  return block.valueBeforeDecodeView.byteOffset;
}

/** The whole TLV of `block`: a view into the decoded input. */
export function tlvOf(block: Block): Uint8Array {
  return block.valueBeforeDecodeView;
}

/** The contents octets of `block`: a view into the decoded input. */
export function contentsOf(block: Block): Uint8Array {
  return block.valueBeforeDecodeView.subarray(
    block.idBlock.blockLength + block.lenBlock.blockLength,
  );
}

/** The identifier octet of `block` (tags are single-octet after the DER walk). */
export function tagOf(block: Block): number {
  const { tagClass, isConstructed, tagNumber } = block.idBlock;
  return ((tagClass - 1) << 6) | (isConstructed ? 0x20 : 0) | tagNumber;
}

/**
 * Decodes exactly one DER value spanning all of `bytes`.
 *
 * @throws {EvidenceMalformedError} for truncated input, trailing bytes, BER that is not DER,
 *   or anything asn1js cannot decode; the field names the innermost failing element.
 */
export function decodeDer(bytes: Uint8Array, field: string): Block {
  const input =
    Object.getPrototypeOf(bytes) === Uint8Array.prototype &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
      ? bytes
      : new Uint8Array(bytes);
  if (input.length === 0) fail('empty input', field, 0);
  const parsed = fromBer(input, 0, input.length);
  if (parsed.offset === -1) return locateFailure(input, field);
  if (parsed.offset !== input.length) {
    fail(`${input.length - parsed.offset} trailing bytes after the DER value`, field, 0);
  }
  const root = parsed.result as Block;
  const path: number[] = [];
  const problem = nonDer(root, path);
  if (problem !== undefined) {
    fail(problem.message, field + path.map((i) => `[${i}]`).join(''), offsetOf(problem.block));
  }
  return root;
}

function fromBer(input: Uint8Array, start: number, end: number): asn1js.FromBerResult {
  try {
    return asn1js.fromBER(input.subarray(start, end), {
      copyInput: false,
      parseEmbedded: false,
      // Every value takes two octets at least, so this bound never refuses a well-formed input.
      maxNodes: Math.max(10_000, (end - start) >> 1),
    });
  } catch (err) {
    // Some asn1js value decoders (times) throw instead of reporting.
    const result = new asn1js.BaseBlock();
    result.error = err instanceof Error ? err.message : String(err);
    return { offset: -1, result };
  }
}

/**
 * On a failed decode, descends through the partially decoded values (asn1js keeps the children
 * that decoded before the failing one) to name the innermost failing element and its offset.
 */
function locateFailure(input: Uint8Array, field: string): never {
  let start = 0;
  let end = input.length;
  let result = fromBer(input, start, end).result;
  for (let depth = 0; depth < 100; depth++) {
    const { idBlock, lenBlock } = result;
    const done = (result.valueBlock as { value?: unknown }).value;
    if (idBlock.error !== '' || lenBlock.error !== '' || !idBlock.isConstructed) break;
    if (!Array.isArray(done)) break;
    const contents = start + idBlock.blockLength + lenBlock.blockLength;
    const contentsEnd = lenBlock.isIndefiniteForm ? end : contents + lenBlock.length;
    if (contentsEnd > end) break;
    let child = contents;
    for (const b of done as Block[]) child += b.blockLength;
    if (child >= contentsEnd) break;
    const next = fromBer(input, child, contentsEnd);
    // A child that decodes on its own means the failure is this value's (say, a bad terminator).
    if (next.offset !== -1) break;
    field = `${field}[${done.length}]`;
    start = child;
    end = contentsEnd;
    result = next.result;
  }
  return fail(result.error || 'not DER', field, start);
}

/** True when every header in `block` is DER (the walk {@link decodeDer} applies). */
export function isDerEncoded(block: Block): boolean {
  return nonDer(block, []) === undefined;
}

interface Problem {
  readonly message: string;
  readonly block: Block;
}

/** The first header DER forbids, depth first; `path` is left at its position. */
function nonDer(block: Block, path: number[]): Problem | undefined {
  const { idBlock, lenBlock } = block;
  if (idBlock.blockLength !== 1) return { message: 'unsupported multi-byte tag', block };
  if (idBlock.tagClass === 1 && idBlock.tagNumber === 0) {
    return { message: 'end-of-contents octets are not DER', block };
  }
  if (lenBlock.isIndefiniteForm) return { message: 'indefinite length is not DER', block };
  if (lenBlock.longFormUsed) {
    const n = lenBlock.blockLength - 1;
    if (n > MAX_LENGTH_OCTETS) return { message: `length of ${n} octets is too long`, block };
    if (lenBlock.length < 0x80 || n !== octetsFor(lenBlock.length)) {
      return { message: 'non-minimal length encoding', block };
    }
  }
  if (!idBlock.isConstructed) {
    const nonEmptyNull = idBlock.tagClass === 1 && idBlock.tagNumber === 5 && lenBlock.length !== 0;
    return nonEmptyNull ? { message: 'NULL with contents', block } : undefined;
  }
  if (idBlock.tagClass === 1 && idBlock.tagNumber !== 16 && idBlock.tagNumber !== 17) {
    return { message: 'constructed encoding of a primitive type is not DER', block };
  }
  const children = (block.valueBlock as unknown as { value: Block[] }).value;
  for (let i = 0; i < children.length; i++) {
    path.push(i);
    const problem = nonDer(children[i]!, path);
    if (problem !== undefined) return problem;
    path.pop();
  }
  return undefined;
}

function octetsFor(length: number): number {
  let n = 1;
  while (length > 0xff) {
    length = Math.floor(length / 256);
    n++;
  }
  return n;
}

/** The elements of a constructed value. */
export function childrenOf(block: Block, field: string): Block[] {
  if (!block.idBlock.isConstructed) fail('expected a constructed value', field, offsetOf(block));
  return (block.valueBlock as unknown as { value: Block[] }).value;
}

/** Throws unless `block` carries the identifier octet `tag`. */
export function expectTag(block: Block | undefined, tag: number, field: string): Block {
  if (block === undefined) return fail('missing', field, undefined);
  const got = tagOf(block);
  if (got !== tag) {
    fail(`expected tag 0x${tag.toString(16)}, got 0x${got.toString(16)}`, field, offsetOf(block));
  }
  return block;
}

/** The elements of a SEQUENCE, checked to be one. */
export function readSequence(block: Block | undefined, field: string): Block[] {
  return childrenOf(expectTag(block, Tag.SEQUENCE, field), field);
}

/** An OBJECT IDENTIFIER in dotted form; arcs of any size, minimal encoding required. */
export function readOid(block: Block | undefined, field: string): string {
  const value = contentsOf(expectTag(block, Tag.OID, field));
  const at = offsetOf(block!);
  if (value.length === 0) fail('empty OID', field, at);
  const arcs: (number | bigint)[] = [];
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i]! & 0x80) continue;
    if (value[start] === 0x80) fail('non-minimal OID arc', field, at);
    arcs.push(arcOf(value, start, i + 1));
    start = i + 1;
  }
  if (start !== value.length) fail('truncated OID arc', field, at);
  const head = arcs[0]!;
  if (typeof head === 'bigint') return ['2', head - 80n, ...arcs.slice(1)].join('.');
  const first = head < 40 ? 0 : head < 80 ? 1 : 2;
  return [first, head - first * 40, ...arcs.slice(1)].join('.');
}

/** One base-128 arc: a number while it fits in 49 bits (seven octets), else a bigint. */
function arcOf(bytes: Uint8Array, from: number, to: number): number | bigint {
  if (to - from <= 7) {
    let n = 0;
    for (let i = from; i < to; i++) n = n * 128 + (bytes[i]! & 0x7f);
    return n;
  }
  let n = 0n;
  for (let i = from; i < to; i++) n = (n << 7n) | BigInt(bytes[i]! & 0x7f);
  return n;
}

/** A two's-complement INTEGER as a bigint. */
export function readInteger(block: Block | undefined, field: string): bigint {
  return twosComplement(contentsOf(expectTag(block, Tag.INTEGER, field)), field, block!);
}

/** An ENUMERATED as a bigint. */
export function readEnumerated(block: Block | undefined, field: string): bigint {
  return twosComplement(contentsOf(expectTag(block, Tag.ENUMERATED, field)), field, block!);
}

function twosComplement(value: Uint8Array, field: string, block: Block): bigint {
  if (value.length === 0) fail('empty INTEGER', field, offsetOf(block));
  const n = BigInt(
    `0x${Buffer.from(value.buffer, value.byteOffset, value.length).toString('hex')}`,
  );
  return value[0]! & 0x80 ? n - (1n << BigInt(value.length * 8)) : n;
}

/** An INTEGER that must lie in `[min, max]`, as a number. */
export function readSmallInt(
  block: Block | undefined,
  field: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = readInteger(block, field);
  if (n < BigInt(min) || n > BigInt(max)) {
    fail(`value ${n} outside [${min}, ${max}]`, field, offsetOf(block!));
  }
  return Number(n);
}

/** A BOOLEAN (DER: 0x00 or 0xff). */
export function readBoolean(block: Block | undefined, field: string): boolean {
  const value = contentsOf(expectTag(block, Tag.BOOLEAN, field));
  if (value.length !== 1 || (value[0] !== 0 && value[0] !== 0xff)) {
    fail('BOOLEAN must be one octet 0x00 or 0xff', field, offsetOf(block!));
  }
  return value[0] === 0xff;
}

/** An OCTET STRING's contents (a view into the decoded input). */
export function readOctetString(block: Block | undefined, field: string): Uint8Array {
  return contentsOf(expectTag(block, Tag.OCTET_STRING, field));
}

/** A BIT STRING's contents and its count of unused trailing bits. */
export function readBitString(
  block: Block | undefined,
  field: string,
): { bytes: Uint8Array; unusedBits: number } {
  const value = contentsOf(expectTag(block, Tag.BIT_STRING, field));
  if (value.length === 0) fail('empty BIT STRING', field, offsetOf(block!));
  const unusedBits = value[0]!;
  if (unusedBits > 7 || (value.length === 1 && unusedBits !== 0)) {
    fail(`invalid unused-bits count ${unusedBits}`, field, offsetOf(block!));
  }
  return { bytes: value.subarray(1), unusedBits };
}

/** True for the character string types X.509 names use. */
export function isStringTag(tag: number): boolean {
  return (
    tag === Tag.UTF8_STRING ||
    tag === Tag.PRINTABLE_STRING ||
    tag === Tag.IA5_STRING ||
    tag === Tag.T61_STRING ||
    tag === Tag.BMP_STRING
  );
}

/** A character string of any of the types X.509 names use. */
export function readString(block: Block | undefined, field: string): string {
  if (block === undefined) return fail('missing', field, undefined);
  const value = contentsOf(block);
  const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  switch (tagOf(block)) {
    case Tag.UTF8_STRING:
      return buf.toString('utf8');
    case Tag.PRINTABLE_STRING:
    case Tag.IA5_STRING:
    case Tag.T61_STRING:
      return buf.toString('latin1');
    case Tag.BMP_STRING:
      if (buf.length % 2) fail('odd BMPString length', field, offsetOf(block));
      return Buffer.from(buf).swap16().toString('utf16le');
    default:
      return fail(
        `tag 0x${tagOf(block).toString(16)} is not a string type`,
        field,
        offsetOf(block),
      );
  }
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/** A UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5: seconds present, Zulu, no fraction). */
export function readTime(block: Block | undefined, field: string): Date {
  if (block === undefined) return fail('missing', field, undefined);
  const text = Buffer.from(contentsOf(block)).toString('latin1');
  const tag = tagOf(block);
  let m: RegExpExecArray | null;
  let year: number;
  if (tag === Tag.UTC_TIME && (m = UTC_TIME.exec(text))) {
    const yy = Number(m[1]);
    // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, otherwise 20YY.
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (tag === Tag.GENERALIZED_TIME && (m = GENERALIZED_TIME.exec(text))) {
    year = Number(m[1]);
    if (year < 1950) fail(`year ${year} out of range`, field, offsetOf(block));
  } else {
    return fail(`invalid time '${text}'`, field, offsetOf(block));
  }
  const [mo, d, h, mi, s] = m.slice(2).map(Number) as [number, number, number, number, number];
  const back = new Date(Date.UTC(year, mo - 1, d, h, mi, s));
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    fail(`invalid calendar time '${text}'`, field, offsetOf(block));
  }
  return back;
}

/**
 * Checks `block` against an asn1js schema (`compareSchema`) and returns its named parts.
 * Schemas do not bound the number of elements; callers check what must not repeat.
 */
export function matchSchema(
  block: Block,
  schema: asn1js.AsnSchemaType,
  field: string,
): Record<string, Block | Block[] | undefined> {
  let verified = false;
  const root: Record<string, Block | Block[] | undefined> = {};
  try {
    verified = asn1js.compareSchema(root as never, block, schema).verified;
  } catch {
    verified = false;
  }
  if (!verified) fail('does not match the expected structure', field, offsetOf(block));
  return root;
}
