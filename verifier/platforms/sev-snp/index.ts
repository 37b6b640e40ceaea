/**
 * AMD SEV-SNP codec: the ATTESTATION_REPORT (versions 2–5) and the GHCB certificate table.
 * Parsing is pure and synchronous; signature and chain verification live elsewhere.
 *
 * @example
 * ```ts
 * import { parseSnpReport, snpClaims, snpSignedBytes, snpSignatureP1363 } from './index.js';
 * const report = parseSnpReport(bytes);
 * const ok = crypto.verify('sha384', snpSignedBytes(report),
 *   { key: vcek.publicKey, dsaEncoding: 'ieee-p1363' }, snpSignatureP1363(report));
 * const claims = snpClaims(report);
 * ```
 *
 * @module
 */
export type {
  SnpCpuid,
  SnpFirmwareVersion,
  SnpProduct,
  SnpReport,
  SnpTcbParts,
} from './abi/types.js';
export { SNP_PRODUCTS } from './abi/types.js';
export {
  SNP_REPORT_SIZE,
  SNP_SIGNED_SIZE,
  SNP_SIG_ALGO_ECDSA_P384_SHA384,
  SNP_SUPPORTED_VERSIONS,
} from './abi/layout.js';
export type { SnpPlatformInfo, SnpPolicy, SnpSignerInfo, SnpSigningKey } from './abi/bit-fields.js';
export {
  decodeSnpPlatformInfo,
  decodeSnpPolicy,
  decodeSnpSignerInfo,
  encodeSnpPlatformInfo,
  encodeSnpPolicy,
  encodeSnpSignerInfo,
} from './abi/bit-fields.js';
export {
  decodeSnpTcb,
  encodeSnpTcb,
  hasFmcTcbLayout,
  SNP_PRODUCT_CPUID,
  snpProductFromCpuid,
  snpTcbHex,
} from './abi/tcb.js';
export type { ParseSnpReportOptions } from './abi/report.js';
export { parseSnpReport, serializeSnpReport } from './abi/report.js';
export type { SnpSignatureRS } from './abi/signature.js';
export {
  snpSignatureFromRS,
  snpSignatureP1363,
  snpSignatureRS,
  snpSignedBytes,
} from './abi/signature.js';
export type { SnpCertKind, SnpCertTableEntry, SnpCertTableInput } from './abi/cert-table.js';
export { parseSnpCertTable, SNP_CERT_GUIDS, serializeSnpCertTable } from './abi/cert-table.js';
export type { SnpClaims, SnpDetails, SnpFormatDescription } from './abi/claims.js';
export { describeSnpFormat, looksLikeSnpReport, snpClaims } from './abi/claims.js';
export { verifySnp } from './verify/verify.js';
