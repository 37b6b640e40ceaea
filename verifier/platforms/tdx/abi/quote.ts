/**
 * Parsing and serializing whole TDX quotes (v4 and v5).
 *
 * @module
 */
import { ByteReader, ByteWriter } from '../../../../common/bytes.js';
import { readTdReportBody, writeTdReportBody } from './body.js';
import {
  readBodyDescriptor,
  readHeader,
  tdBodySize,
  writeBodyDescriptor,
  writeHeader,
} from './header.js';
import { readSignatureData, signatureDataSize, writeSignatureData } from './signature-data.js';
import { ATT_KEY_TYPE_ECDSA_P256, BODY_TYPE_TD10, TDX_HEADER_SIZE, TEE_TYPE_TDX } from './types.js';
import type { TdxBodyType, TdxQuote } from './types.js';

/**
 * Parses a TDX quote, version 4 or 5 (body type 2 = TD report 1.0 or 3 = TD report 1.5).
 *
 * Structure is taken from the length fields, never from the buffer size: bytes after the
 * signature data are returned in `trailing` and are not an error.
 *
 * @param bytes - the quote as produced by the quoting enclave (possibly with padding after it).
 * @returns the typed quote; all byte fields are copies.
 * @throws {@link EvidenceUnsupportedError} for another version, attestation key type, TEE type,
 *   body type (1 = SGX) or certification data type (anything but 6 wrapping 5).
 * @throws {@link EvidenceMalformedError} for truncation, a length field larger than what is left,
 *   a structure not filled exactly by its content, non-zero reserved bytes in the QE report or
 *   an unreadable PEM chain; the error names the field and its offset.
 *
 * @example
 * ```ts
 * const quote = parseTdxQuote(bytes);
 * console.log(quote.header.version, toHex(quote.body.mrTd), quote.trailing.length);
 * ```
 */
export function parseTdxQuote(bytes: Uint8Array): TdxQuote {
  const r = new ByteReader(bytes);
  const header = readHeader(r);
  const bodyType: TdxBodyType = header.version === 5 ? readBodyDescriptor(r) : BODY_TYPE_TD10;
  const body = readTdReportBody(r, bodyType);
  const signatureData = readSignatureData(r);
  const trailing = bytes.slice(r.pos);
  return { header, bodyType, body, signatureData, trailing };
}

function checkShape(q: TdxQuote): void {
  if (q.header.version !== 4 && q.header.version !== 5) {
    throw new TypeError(`quote version must be 4 or 5, got ${String(q.header.version)}`);
  }
  if (q.header.version === 4 && q.bodyType !== BODY_TYPE_TD10) {
    throw new TypeError('a version 4 quote carries only a TD report 1.0 (body type 2)');
  }
}

function writeSignedRegion(w: ByteWriter, q: TdxQuote): void {
  checkShape(q);
  writeHeader(w, q.header);
  if (q.header.version === 5) writeBodyDescriptor(w, q.bodyType);
  writeTdReportBody(w, q.body, q.bodyType);
}

/**
 * Serializes a quote: header, (v5: body type and size), body, `signature_data_len` and the
 * signature data. `trailing` is not written, so
 * `serializeTdxQuote(parseTdxQuote(b))` equals `b.subarray(0, b.length - trailing.length)`.
 *
 * @throws TypeError when a field has the wrong size or the shape is inconsistent
 *   (e.g. a v4 quote with a TD 1.5 body).
 *
 * @example
 * ```ts
 * const bytes = serializeTdxQuote({ ...quote, signatureData: { ...quote.signatureData, signature } });
 * ```
 */
export function serializeTdxQuote(q: TdxQuote): Uint8Array {
  const w = new ByteWriter();
  writeSignedRegion(w, q);
  writeSignatureData(w, q.signatureData);
  return w.finish();
}

/**
 * The bytes the quote signature (by the attestation key) covers: header and body, for v5
 * including the body type and size fields — everything before `signature_data_len`
 * (v4: `[0, 0x278)`).
 *
 * @example
 * ```ts
 * const ok = verify('sha256', quoteSignedBytes(q), { key, dsaEncoding: 'ieee-p1363' },
 *   q.signatureData.signature);
 * ```
 */
export function quoteSignedBytes(q: TdxQuote): Uint8Array {
  const w = new ByteWriter();
  writeSignedRegion(w, q);
  return w.finish();
}

/** Length of the signed-region part of a quote (header, v5 descriptor, body). */
export function signedRegionLength(q: TdxQuote): number {
  return TDX_HEADER_SIZE + (q.header.version === 5 ? 6 : 0) + tdBodySize(q.bodyType);
}

/**
 * Length of the quote proper: everything up to the end of the signature data, i.e. the input
 * length minus `trailing`.
 */
export function tdxQuoteLength(q: TdxQuote): number {
  return signedRegionLength(q) + 4 + signatureDataSize(q.signatureData);
}

/**
 * Cheap sniff: true when the bytes start like a TDX quote (version 4 or 5, attestation key
 * type 2, TEE type 0x81). Does not parse further; use {@link parseTdxQuote} for that.
 *
 * @example
 * ```ts
 * if (looksLikeTdxQuote(blob)) plugin = tdx;
 * ```
 */
export function looksLikeTdxQuote(bytes: Uint8Array): boolean {
  if (bytes.length < TDX_HEADER_SIZE) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(0, true);
  return (
    (version === 4 || version === 5) &&
    view.getUint16(2, true) === ATT_KEY_TYPE_ECDSA_P256 &&
    view.getUint32(4, true) === TEE_TYPE_TDX
  );
}
