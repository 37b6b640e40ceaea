/**
 * AWS Nitro Enclaves attestation documents: a byte-exact codec (parse and serialize),
 * builders for simulators, the COSE Sig_structure that ES384 signs, and claim extraction.
 * Signature and certificate-chain verification live in the verify stage, not here.
 *
 * @example
 * ```ts
 * import { parseNitroDocument, nitroClaims, serializeNitroDocument } from './platforms/nitro/index.js';
 * const doc = parseNitroDocument(bytes);
 * nitroClaims(doc); // { pcrs: { '0': '…', … }, nonce, user_data, public_key }
 * serializeNitroDocument(doc); // equals `bytes`
 * ```
 *
 * @module
 */
export { describeNitroFormat, nitroClaims } from './claims.js';
export type {
  NitroClaims,
  NitroDetails,
  NitroFormatDescription,
  NitroOptionalShape,
} from './claims.js';
export type { HeadWidth } from './cbor.js';
export { encodeCoseSign1, encodeNitroProtectedHeader, encodeSigStructure } from './cose.js';
export type { CoseSign1Parts } from './cose.js';
export {
  looksLikeNitroDocument,
  nitroSigStructure,
  parseNitroDocument,
  serializeNitroDocument,
} from './document.js';
export { encodeNitroPayload } from './payload.js';
export type { EncodeNitroPayloadOptions } from './payload.js';
export {
  COSE_ALG_ES384,
  COSE_SIGN1_TAG,
  ES384_SIGNATURE_BYTES,
  NITRO_LIMITS,
  NITRO_PAYLOAD_KEYS,
  NITRO_PCR_LENGTHS,
} from './types.js';
export type {
  NitroDocument,
  NitroEncoding,
  NitroHeadWidths,
  NitroPayload,
  NitroPayloadKey,
} from './types.js';
export { verifyNitro } from './verify.js';
