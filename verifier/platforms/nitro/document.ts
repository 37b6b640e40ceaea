/**
 * Parsing and serialising whole Nitro attestation documents.
 *
 * @module
 */
import { EvidenceMalformedError } from '../../../common/errors.js';
import { CborReader, HeadLog, Major } from './cbor.js';
import {
  decodeProtectedHeader,
  encodeCoseSign1,
  encodeNitroProtectedHeader,
  encodeSigStructure,
  readCoseSign1,
} from './cose.js';
import { decodeNitroPayload, encodeNitroPayload } from './payload.js';
import { COSE_SIGN1_TAG, NITRO_LIMITS } from './types.js';
import type { NitroDocument } from './types.js';

/** A plain Uint8Array view of the input (a Buffer's `slice` would share memory), size-checked. */
function checkInput(input: Uint8Array): Uint8Array {
  if (!(input instanceof Uint8Array)) throw new TypeError('document must be a Uint8Array');
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.length > NITRO_LIMITS.document) {
    const message = `${bytes.length} bytes exceeds the ${NITRO_LIMITS.document}-byte limit`;
    throw new EvidenceMalformedError(message, { field: 'document', offset: 0 });
  }
  return bytes;
}

/**
 * Parses an AWS Nitro Enclaves attestation document: a COSE_Sign1, untagged (as the NSM
 * returns it) or in CBOR tag 18, with ES384 and the AttestationDocument payload, definite or
 * indefinite-length. Every field is validated against SPEC-DIGEST B4.2. Bytes after the COSE
 * structure are returned in `trailing`. No signature or certificate is checked here.
 *
 * @throws {@link EvidenceMalformedError} (naming the field and offset) for bytes that break the
 *   format or its limits; {@link EvidenceUnsupportedError} for another `alg`, another CBOR tag,
 *   unprotected header parameters, chunked strings or a digest other than SHA384.
 *
 * @example
 * ```ts
 * const doc = parseNitroDocument(bytes);
 * doc.payload.moduleId; // 'i-0827e799ec9232d44-enc019b55a68bd2ed4b'
 * ```
 */
export function parseNitroDocument(input: Uint8Array): NitroDocument {
  const bytes = checkInput(input);
  const log = new HeadLog();
  const layout = readCoseSign1(bytes, log);
  const alg = decodeProtectedHeader(
    bytes,
    layout.protectedHeader.start,
    layout.protectedHeader.end,
    log,
  );
  const decoded = decodeNitroPayload(bytes, layout.payload.start, layout.payload.end, log);
  return {
    alg,
    protectedHeader: bytes.slice(layout.protectedHeader.start, layout.protectedHeader.end),
    payloadBytes: bytes.slice(layout.payload.start, layout.payload.end),
    signature: layout.signature,
    payload: decoded.payload,
    encoding: {
      tagged: layout.tagged,
      payloadMap: decoded.payloadMap,
      keyOrder: decoded.keyOrder,
      heads: log.widths,
    },
    trailing: bytes.slice(layout.end),
  };
}

/**
 * Re-encodes a document from its decoded fields and recorded encoding choices (tag, payload
 * map kind, key order, head widths); `protectedHeader` and `payloadBytes` are not reused.
 * `trailing` is not written, so `serializeNitroDocument(parseNitroDocument(b))` equals
 * `b.subarray(0, b.length - trailing.length)`.
 */
export function serializeNitroDocument(doc: NitroDocument): Uint8Array {
  const { heads, keyOrder, payloadMap, tagged } = doc.encoding;
  const protectedHeader = encodeNitroProtectedHeader(doc.alg, heads);
  const payload = encodeNitroPayload(doc.payload, {
    indefinite: payloadMap === 'indefinite',
    keyOrder,
    heads,
  });
  return encodeCoseSign1({ protectedHeader, payload, signature: doc.signature, tagged, heads });
}

/**
 * The bytes the document's ES384 signature covers: the COSE Sig_structure
 * `["Signature1", protected, h'', payload]` over the protected header and payload as received.
 *
 * @example
 * ```ts
 * crypto.verify('sha384', nitroSigStructure(doc), { key, dsaEncoding: 'ieee-p1363' }, doc.signature);
 * ```
 */
export function nitroSigStructure(doc: NitroDocument): Uint8Array {
  return encodeSigStructure(doc.protectedHeader, doc.payloadBytes);
}

/**
 * Cheap sniff: true when the bytes start like a Nitro document (optional tag 18, a 4-item
 * array, a small protected-header byte string holding a map, an empty unprotected map and a
 * byte-string payload). Decodes no payload; a `true` does not mean the document is valid.
 */
export function looksLikeNitroDocument(bytes: Uint8Array): boolean {
  if (!(bytes instanceof Uint8Array) || bytes.length > NITRO_LIMITS.document) return false;
  try {
    const r = new CborReader(bytes);
    let head = r.head('COSE_Sign1');
    if (head.major === Major.tag && head.value === COSE_SIGN1_TAG) head = r.head('COSE_Sign1');
    if (head.major !== Major.array || (head.width !== 'indefinite' && head.value !== 4))
      return false;
    const prot = r.byteString('protected', 1, NITRO_LIMITS.protectedHeader);
    if (prot.value[0] === undefined || prot.value[0] >> 5 !== Major.map) return false;
    if (r.head('unprotected').major !== Major.map) return false;
    return r.head('payload').major === Major.bytes;
  } catch {
    return false;
  }
}
