/**
 * The COSE_Sign1 envelope of a Nitro attestation document (SPEC-DIGEST B4.1, RFC 9052 §4.2):
 * `[protected: bstr .cbor {1: -35}, unprotected: {}, payload: bstr, signature: bstr]`,
 * optionally wrapped in CBOR tag 18.
 *
 * @module
 */
import { EvidenceMalformedError, EvidenceUnsupportedError } from '../../../common/errors.js';
import { CborReader, CborWriter, Major } from './cbor.js';
import type { Head, HeadLog } from './cbor.js';
import { COSE_ALG_ES384, COSE_SIGN1_TAG, ES384_SIGNATURE_BYTES, NITRO_LIMITS } from './types.js';
import type { NitroHeadWidths } from './types.js';

const COSE_HEADER_ALG = 1;
const MAX_PROTECTED_ENTRIES = 8;

/** Where the parts of a COSE_Sign1 sit in the input. @internal */
export interface CoseSign1Layout {
  tagged: boolean;
  protectedHeader: { start: number; end: number };
  payload: { start: number; end: number };
  signature: Uint8Array;
  /** Offset just past the COSE structure. */
  end: number;
}

function readStringSpan(r: CborReader, field: string, min: number, max: number, log: HeadLog) {
  const head = r.expect(Major.bytes, field, 'a byte string');
  const start = r.pos;
  r.content(head, field, min, max);
  log.note(field, head);
  return { start, end: r.pos };
}

function readUnprotected(r: CborReader, log: HeadLog): void {
  const head = r.expect(Major.map, 'unprotected', 'a map');
  log.note('unprotected', head);
  const empty = head.width === 'indefinite' ? r.takeBreak() : head.value === 0;
  if (!empty) {
    throw new EvidenceUnsupportedError('unprotected header parameters are not supported', {
      field: 'unprotected',
      offset: head.offset,
    });
  }
}

function readArrayHead(r: CborReader, log: HeadLog): { tagged: boolean; array: Head } {
  let head = r.head('COSE_Sign1');
  let tagged = false;
  if (head.major === Major.tag) {
    if (head.value !== COSE_SIGN1_TAG) {
      throw new EvidenceUnsupportedError(`CBOR tag ${head.value} is not COSE_Sign1 (18)`, {
        field: 'tag',
        offset: head.offset,
      });
    }
    log.note('tag', head);
    tagged = true;
    head = r.head('COSE_Sign1');
  }
  const fourItems = head.width === 'indefinite' || head.value === 4;
  if (head.major !== Major.array || !fourItems) {
    throw new EvidenceMalformedError('expected an array of 4 items', {
      field: 'COSE_Sign1',
      offset: head.offset,
    });
  }
  log.note('COSE_Sign1', head);
  return { tagged, array: head };
}

/**
 * Reads the envelope structure, leaving the protected header and payload contents undecoded.
 *
 * @internal
 */
export function readCoseSign1(bytes: Uint8Array, log: HeadLog): CoseSign1Layout {
  const r = new CborReader(bytes);
  const { tagged, array } = readArrayHead(r, log);
  const protectedHeader = readStringSpan(r, 'protected', 0, NITRO_LIMITS.protectedHeader, log);
  readUnprotected(r, log);
  const payload = readStringSpan(r, 'payload', 1, NITRO_LIMITS.payload, log);
  const sig = r.byteString('signature', ES384_SIGNATURE_BYTES, ES384_SIGNATURE_BYTES);
  log.note('signature', sig.head);
  if (array.width === 'indefinite' && !r.takeBreak()) {
    throw new EvidenceMalformedError('expected a break after 4 items', {
      field: 'COSE_Sign1',
      offset: r.pos,
    });
  }
  return { tagged, protectedHeader, payload, signature: sig.value, end: r.pos };
}

function checkAlg(alg: Head): typeof COSE_ALG_ES384 {
  if (alg.major === Major.nint && -1 - alg.value === COSE_ALG_ES384) return COSE_ALG_ES384;
  const where = { field: 'alg', offset: alg.offset };
  if (alg.major === Major.uint || alg.major === Major.nint) {
    const id = alg.major === Major.uint ? alg.value : -1 - alg.value;
    throw new EvidenceUnsupportedError(`COSE algorithm ${id} (only ES384, -35)`, where);
  }
  if (alg.major === Major.text)
    throw new EvidenceUnsupportedError('text algorithm names are not supported', where);
  throw new EvidenceMalformedError('not an integer or text string', where);
}

/** Decodes the protected header `bytes[start, end)`; only `{1: -35}` is accepted. @internal */
export function decodeProtectedHeader(
  bytes: Uint8Array,
  start: number,
  end: number,
  log: HeadLog,
): typeof COSE_ALG_ES384 {
  const r = new CborReader(bytes, start, end);
  if (r.remaining === 0)
    throw new EvidenceMalformedError('missing (empty protected header)', {
      field: 'alg',
      offset: start,
    });
  const map = r.expect(Major.map, 'protected', 'a map');
  log.note('protected.map', map);
  let alg: typeof COSE_ALG_ES384 | undefined;
  r.items(map, 'protected', MAX_PROTECTED_ENTRIES, () => {
    const label = r.head('protected');
    if (label.major !== Major.uint || label.value !== COSE_HEADER_ALG) {
      throw new EvidenceUnsupportedError('header parameters other than alg are not supported', {
        field: 'protected',
        offset: label.offset,
      });
    }
    if (alg !== undefined)
      throw new EvidenceMalformedError('duplicate', { field: 'alg', offset: label.offset });
    log.note('protected.label', label);
    const head = r.head('alg');
    alg = checkAlg(head);
    log.note('alg', head);
  });
  if (alg === undefined)
    throw new EvidenceMalformedError('missing', { field: 'alg', offset: map.offset });
  if (r.remaining !== 0) {
    throw new EvidenceMalformedError(`${r.remaining} bytes after the header map`, {
      field: 'protected',
      offset: r.pos,
    });
  }
  return alg;
}

/**
 * Encodes the protected header `{1: alg}` (default ES384, giving `a1 01 38 22`).
 * `heads` may carry non-minimal widths under `protected.map`, `protected.label` and `alg`.
 */
export function encodeNitroProtectedHeader(
  alg: number = COSE_ALG_ES384,
  heads: NitroHeadWidths = {},
): Uint8Array {
  const w = new CborWriter();
  const mapWidth = heads['protected.map'];
  w.head(Major.map, mapWidth === 'indefinite' ? 0 : 1, mapWidth, 'protected.map');
  w.head(Major.uint, COSE_HEADER_ALG, heads['protected.label'], 'protected.label');
  w.integer(alg, heads['alg'], 'alg');
  if (mapWidth === 'indefinite') w.break();
  return w.finish();
}

/** The four parts of a COSE_Sign1 and how to wrap them. */
export interface CoseSign1Parts {
  /** Protected header bytes (the content of the `protected` bstr). */
  protectedHeader: Uint8Array;
  /** Payload bytes (the content of the `payload` bstr). */
  payload: Uint8Array;
  /** Signature bytes (r‖s for ES384). */
  signature: Uint8Array;
  /** Wrap in CBOR tag 18. Default false, as the NSM returns it. */
  tagged?: boolean;
  /** Non-minimal head widths (`tag`, `COSE_Sign1`, `protected`, `unprotected`, `payload`, `signature`). */
  heads?: NitroHeadWidths;
}

/**
 * Encodes a COSE_Sign1 with an empty unprotected header.
 *
 * @example
 * ```ts
 * const doc = encodeCoseSign1({ protectedHeader: encodeNitroProtectedHeader(), payload, signature });
 * ```
 */
export function encodeCoseSign1(parts: CoseSign1Parts): Uint8Array {
  const heads = parts.heads ?? {};
  const w = new CborWriter();
  if (parts.tagged === true) w.head(Major.tag, COSE_SIGN1_TAG, heads['tag'], 'tag');
  const arrayWidth = heads['COSE_Sign1'];
  w.head(Major.array, arrayWidth === 'indefinite' ? 0 : 4, arrayWidth, 'COSE_Sign1');
  w.byteString(parts.protectedHeader, heads['protected'], 'protected');
  const unprotectedWidth = heads['unprotected'];
  w.head(Major.map, 0, unprotectedWidth, 'unprotected');
  if (unprotectedWidth === 'indefinite') w.break();
  w.byteString(parts.payload, heads['payload'], 'payload');
  w.byteString(parts.signature, heads['signature'], 'signature');
  if (arrayWidth === 'indefinite') w.break();
  return w.finish();
}

/**
 * The COSE `Sig_structure` that an ES384 COSE_Sign1 signature covers (RFC 9052 §4.4):
 * `["Signature1", protected, h'' (external_aad), payload]`, deterministically encoded.
 */
export function encodeSigStructure(protectedHeader: Uint8Array, payload: Uint8Array): Uint8Array {
  return new CborWriter()
    .head(Major.array, 4)
    .textString('Signature1')
    .byteString(protectedHeader)
    .byteString(new Uint8Array(0))
    .byteString(payload)
    .finish();
}
