/**
 * Typed model of an Intel TDX DCAP quote (versions 4 and 5), mirroring Intel's
 * `sgx_quote_4.h` / `sgx_quote_5.h` tables. All byte fields are copies owned by the model;
 * multi-byte integers are decoded from little-endian, ECDSA values stay raw big-endian.
 *
 * @module
 */

/** Size of the quote header (`sgx_quote4_header_t`). */
export const TDX_HEADER_SIZE = 48;
/** Size of a TD report 1.0 body (`sgx_report2_body_t`). */
export const TD_REPORT10_SIZE = 584;
/** Size of a TD report 1.5 body (`sgx_report2_body_v1_5_t`). */
export const TD_REPORT15_SIZE = 648;
/** Size of an SGX report body (`sgx_report_body_t`), e.g. the QE report. */
export const SGX_REPORT_BODY_SIZE = 384;
/** `att_key_type` of ECDSA-256-with-P-256, the only attestation key type TDX quotes use. */
export const ATT_KEY_TYPE_ECDSA_P256 = 2;
/** `tee_type` of TDX. */
export const TEE_TYPE_TDX = 0x81;
/** v5 body type of an SGX enclave report (not a TDX quote; unsupported). */
export const BODY_TYPE_SGX = 1;
/** v5 body type of a TD report 1.0 (584 bytes). */
export const BODY_TYPE_TD10 = 2;
/** v5 body type of a TD report 1.5 (648 bytes). */
export const BODY_TYPE_TD15 = 3;
/** Certification data type: PCK certificate chain (PEM). */
export const CERT_TYPE_PCK_CHAIN = 5;
/** Certification data type: QE report certification data. */
export const CERT_TYPE_QE_REPORT = 6;
/** QE vendor ID of Intel's quoting enclave, lowercase hex. */
export const INTEL_QE_VENDOR_ID = '939a7233f79c4ca9940a0db3957f0607';

/** TD body type: 2 = TD report 1.0, 3 = TD report 1.5. */
export type TdxBodyType = typeof BODY_TYPE_TD10 | typeof BODY_TYPE_TD15;

/** Quote header (48 bytes, identical in v4 and v5). */
export interface TdxQuoteHeader {
  /** Quote format version: 4 or 5. */
  version: 4 | 5;
  /** Attestation key algorithm; always 2 (ECDSA-P256). */
  attestationKeyType: typeof ATT_KEY_TYPE_ECDSA_P256;
  /** TEE type; always 0x81 (TDX). */
  teeType: typeof TEE_TYPE_TDX;
  /** Bytes 8..12, `reserved` in Intel's v4 header (older tools read QE/PCE SVNs here); kept verbatim. */
  reserved: Uint8Array;
  /** QE vendor ID (16 bytes). */
  qeVendorId: Uint8Array;
  /** Attestation key owner's custom data (20 bytes). */
  userData: Uint8Array;
}

/** TD report body: the TD's measurements and the TDX module's TCB, as signed by the QE. */
export interface TdReportBody {
  /** TEE_TCB_SVN (16): [0] module minor SVN, [1] module major version, [2] late microcode SVN, … */
  teeTcbSvn: Uint8Array;
  /** MRSEAM (48): measurement of the TDX module. */
  mrSeam: Uint8Array;
  /** MRSIGNERSEAM (48): signer of the TDX module (zero for Intel's). */
  mrSignerSeam: Uint8Array;
  /** SEAMATTRIBUTES (8). */
  seamAttributes: Uint8Array;
  /** TDATTRIBUTES (8), little-endian bit field (bit 0 DEBUG, bit 28 SEPT_VE_DISABLE, …). */
  tdAttributes: Uint8Array;
  /** XFAM (8). */
  xfam: Uint8Array;
  /** MRTD (48): initial TD contents. */
  mrTd: Uint8Array;
  /** MRCONFIGID (48). */
  mrConfigId: Uint8Array;
  /** MROWNER (48). */
  mrOwner: Uint8Array;
  /** MROWNERCONFIG (48). */
  mrOwnerConfig: Uint8Array;
  /** RTMR0..RTMR3 (48 each). */
  rtmr: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  /** REPORTDATA (64). */
  reportData: Uint8Array;
  /** TEE_TCB_SVN2 (16), TD report 1.5 only. */
  teeTcbSvn2?: Uint8Array;
  /** MRSERVICETD (48), TD report 1.5 only. */
  mrServiceTd?: Uint8Array;
}

/** SGX report body (384 bytes), here the quoting enclave's report. Reserved ranges are zero. */
export interface SgxReportBody {
  /** CPUSVN (16). */
  cpuSvn: Uint8Array;
  /** MISCSELECT (u32). */
  miscSelect: number;
  /** ISVEXTPRODID (16). */
  isvExtProdId: Uint8Array;
  /** ATTRIBUTES (16). */
  attributes: Uint8Array;
  /** MRENCLAVE (32). */
  mrEnclave: Uint8Array;
  /** MRSIGNER (32). */
  mrSigner: Uint8Array;
  /** CONFIGID (64). */
  configId: Uint8Array;
  /** ISVPRODID (u16). */
  isvProdId: number;
  /** ISVSVN (u16). */
  isvSvn: number;
  /** CONFIGSVN (u16). */
  configSvn: number;
  /** ISVFAMILYID (16). */
  isvFamilyId: Uint8Array;
  /** REPORTDATA (64). */
  reportData: Uint8Array;
}

/** Certification data type 5: the PCK certificate chain. */
export interface PckCertChain {
  type: typeof CERT_TYPE_PCK_CHAIN;
  /** The PEM text exactly as carried in the quote (may end with a NUL byte); serialized verbatim. */
  pem: Uint8Array;
  /** The chain split into DER certificates, leaf first (derived from `pem` on first use; not serialized). */
  readonly certificates: Uint8Array[];
}

/** Certification data type 6: QE report certification data wrapping the PCK chain. */
export interface QeReportCertificationData {
  type: typeof CERT_TYPE_QE_REPORT;
  /** The QE's SGX report body, signed by the PCK key. */
  qeReport: SgxReportBody;
  /** ECDSA-P256 signature r‖s (64) over the 384 QE report bytes. */
  qeReportSignature: Uint8Array;
  /** QE authentication data (hashed with the attestation key into the QE REPORTDATA). */
  qeAuthData: Uint8Array;
  /** Inner certification data (type 5). */
  pckCertChain: PckCertChain;
}

/** ECDSA signature data (`sgx_ecdsa_sig_data_v4_t`). */
export interface TdxSignatureData {
  /** ECDSA-P256 signature r‖s (64) over the header and body. */
  signature: Uint8Array;
  /** Attestation public key X‖Y (64). */
  attestationKey: Uint8Array;
  /** Certification data (type 6 only). */
  certificationData: QeReportCertificationData;
}

/** A parsed TDX quote (v4 or v5). */
export interface TdxQuote {
  header: TdxQuoteHeader;
  /** Body type; a v4 quote always carries a TD report 1.0 (type 2). */
  bodyType: TdxBodyType;
  body: TdReportBody;
  signatureData: TdxSignatureData;
  /** Bytes after the signature data: reported, never signed, never serialized. */
  trailing: Uint8Array;
}
