/**
 * Intel TDX quote codec (DCAP quote v4 and v5): byte-exact parse and serialize, the bytes each
 * signature covers, claim extraction and a format description. Pure and synchronous; signature
 * and chain verification live in the verify stage.
 *
 * @example
 * ```ts
 * import { parseTdxQuote, tdxClaims } from './platforms/tdx/index.js';
 * const quote = parseTdxQuote(bytes);
 * const claims = tdxClaims(quote);
 * ```
 *
 * @module
 */
export * from './abi/types.js';
export {
  parseTdxQuote,
  serializeTdxQuote,
  quoteSignedBytes,
  looksLikeTdxQuote,
} from './abi/quote.js';
export { signedRegionLength, tdxQuoteLength } from './abi/quote.js';
export { parseSgxReportBody, serializeSgxReportBody } from './abi/sgx-report.js';
export {
  checkPemCertificates,
  pckCertChainFromPem,
  pckCertChainOf,
  splitPemCertificates,
} from './collateral/pem.js';
export { signatureDataSize } from './abi/signature-data.js';
export { tdxClaims, tdAttributeFlags, tdAttributesValue, TD_ATTRIBUTE_BITS } from './abi/claims.js';
export type { TdAttributeFlags, TdxClaims, TdxDetails } from './abi/claims.js';
export { describeTdxFormat } from './abi/describe.js';
export {
  decodeTdAttributes,
  decodeXfam,
  TD_ATTRIBUTE_NAMES,
  XFAM_COMPONENT_NAMES,
} from './abi/attributes.js';
export type { DecodedBits } from './abi/attributes.js';
export { tdBodySize } from './abi/header.js';
export type { TdxCollateralV3 } from './collateral/v3.js';
export { TDX_COLLATERAL_KEYS } from './collateral/v3.js';
export { verifyTdx } from './verify/verify.js';
