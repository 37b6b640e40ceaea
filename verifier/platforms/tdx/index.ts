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
export * from './types.js';
export { parseTdxQuote, serializeTdxQuote, quoteSignedBytes, looksLikeTdxQuote } from './quote.js';
export { signedRegionLength, tdxQuoteLength } from './quote.js';
export { parseSgxReportBody, serializeSgxReportBody } from './sgx-report.js';
export {
  checkPemCertificates,
  pckCertChainFromPem,
  pckCertChainOf,
  splitPemCertificates,
} from './pem.js';
export { signatureDataSize } from './signature-data.js';
export { tdxClaims, tdAttributeFlags, tdAttributesValue, TD_ATTRIBUTE_BITS } from './claims.js';
export { describeTdxFormat } from './describe.js';
export { tdBodySize } from './header.js';
export type { TdxCollateralV3 } from './collateral.js';
export { TDX_COLLATERAL_KEYS } from './collateral.js';
export { verifyTdx } from './verify.js';
