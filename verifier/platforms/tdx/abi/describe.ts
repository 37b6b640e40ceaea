/**
 * A JSON-safe description of a quote's format and of the fields that are not claims,
 * for diagnostics, `twi inspect`-style tools and test reports.
 *
 * @module
 */
import { subjectCnOrNull } from '../../../../common/x509/certificate.js';
import { toHex } from '../../../../common/bytes.js';
import { decodeTdAttributes, decodeXfam } from './attributes.js';
import { tdBodySize } from './header.js';
import { signedRegionLength, tdxQuoteLength } from './quote.js';
import { INTEL_QE_VENDOR_ID } from './types.js';
import type { PckCertChain, SgxReportBody, TdxQuote } from './types.js';

function describeChain(chain: PckCertChain): Record<string, unknown> {
  const pem = chain.pem;
  return {
    pem_bytes: pem.length,
    pem_trailing_nul: pem.length > 0 && pem[pem.length - 1] === 0,
    certificates: chain.certificates.length,
    subject_cns: chain.certificates.map(subjectCnOrNull),
  };
}

function describeQeReport(r: SgxReportBody): Record<string, unknown> {
  return {
    cpusvn: toHex(r.cpuSvn),
    miscselect: r.miscSelect,
    isvextprodid: toHex(r.isvExtProdId),
    attributes: toHex(r.attributes),
    mrenclave: toHex(r.mrEnclave),
    mrsigner: toHex(r.mrSigner),
    configid: toHex(r.configId),
    isvprodid: r.isvProdId,
    isvsvn: r.isvSvn,
    configsvn: r.configSvn,
    isvfamilyid: toHex(r.isvFamilyId),
    report_data: toHex(r.reportData),
  };
}

/**
 * Describes a parsed quote: `version`, `body_type`, `body_size`, `att_key_type`, `tee_type`,
 * `qe_vendor_id` (and whether it is Intel's), header `reserved` and `user_data`,
 * `signed_length` (bytes up to the end of the signature data), `signature_covered_length`
 * (bytes the quote signature covers), `trailing_bytes`, `certification_data_types` (outer,
 * inner), the PCK chain (size, certificate count, subject CNs), the QE report fields,
 * the QE auth data, the attestation key, and the body fields that are not claims
 * (`mrsignerseam`, `seam_attributes`, `mrownerconfig`), and TDATTRIBUTES and XFAM decoded
 * bit by bit (`td_attributes`, `xfam`: see {@link decodeTdAttributes}). Every value is JSON-safe.
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(describeTdxFormat(parseTdxQuote(bytes)), null, 2));
 * ```
 */
export function describeTdxFormat(q: TdxQuote): Record<string, unknown> {
  const sig = q.signatureData;
  const cert = sig.certificationData;
  return {
    version: q.header.version,
    body_type: q.bodyType,
    body_size: tdBodySize(q.bodyType),
    att_key_type: q.header.attestationKeyType,
    tee_type: q.header.teeType,
    qe_vendor_id: toHex(q.header.qeVendorId),
    qe_vendor_is_intel: toHex(q.header.qeVendorId) === INTEL_QE_VENDOR_ID,
    header_reserved: toHex(q.header.reserved),
    user_data: toHex(q.header.userData),
    signed_length: tdxQuoteLength(q),
    signature_covered_length: signedRegionLength(q),
    trailing_bytes: q.trailing.length,
    certification_data_types: [cert.type, cert.pckCertChain.type],
    pck_cert_chain: describeChain(cert.pckCertChain),
    qe_report: describeQeReport(cert.qeReport),
    qe_auth_data: toHex(cert.qeAuthData),
    attestation_key: toHex(sig.attestationKey),
    mrsignerseam: toHex(q.body.mrSignerSeam),
    seam_attributes: toHex(q.body.seamAttributes),
    mrownerconfig: toHex(q.body.mrOwnerConfig),
    td_attributes: decodeTdAttributes(q.body.tdAttributes),
    xfam: decodeXfam(q.body.xfam),
  };
}
