/**
 * Typed form of the AMD SEV-SNP ATTESTATION_REPORT (SEV-SNP Firmware ABI 56860, Table 22).
 *
 * @module
 */

/** AMD EPYC generations whose SEV-SNP reports twi decodes. */
export type SnpProduct = 'Milan' | 'Genoa' | 'Turin' | 'Venice';

/** Every {@link SnpProduct}, in release order. */
export const SNP_PRODUCTS: readonly SnpProduct[] = ['Milan', 'Genoa', 'Turin', 'Venice'];

/**
 * Security patch levels of a TCB_VERSION. `fmc` exists only in the Turin/Venice layout;
 * in the Milan/Genoa layout it is absent.
 */
export interface SnpTcbParts {
  fmc?: number;
  bl: number;
  tee: number;
  snp: number;
  ucode: number;
}

/** A firmware version as CURRENT_* / COMMITTED_* bytes give it. */
export interface SnpFirmwareVersion {
  major: number;
  minor: number;
  build: number;
}

/** CPUID_FAM_ID, CPUID_MOD_ID and CPUID_STEP (report VERSION 3 and later). */
export interface SnpCpuid {
  family: number;
  model: number;
  stepping: number;
}

/**
 * One ATTESTATION_REPORT, field by field. Byte arrays are copies of the report's bytes;
 * the u64 fields are `bigint`. Reserved bytes are not kept: the parser guarantees they are
 * zero and the serializer writes zeros.
 */
export interface SnpReport {
  /** VERSION (2, 3, 4 or 5 when parsed). */
  version: number;
  /** GUEST_SVN. */
  guestSvn: number;
  /** POLICY (see {@link decodeSnpPolicy}). */
  policy: bigint;
  /** FAMILY_ID, 16 bytes. */
  familyId: Uint8Array;
  /** IMAGE_ID, 16 bytes. */
  imageId: Uint8Array;
  /** VMPL the report was requested at. */
  vmpl: number;
  /** SIGNATURE_ALGO (1 = ECDSA P-384 with SHA-384). */
  signatureAlgo: number;
  /** CURRENT_TCB. */
  currentTcb: bigint;
  /** PLATFORM_INFO. */
  platformInfo: bigint;
  /** The u32 at 0x48: AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY. */
  signerInfo: number;
  /** REPORT_DATA, 64 bytes. */
  reportData: Uint8Array;
  /** MEASUREMENT, 48 bytes. */
  measurement: Uint8Array;
  /** HOST_DATA, 32 bytes. */
  hostData: Uint8Array;
  /** ID_KEY_DIGEST, 48 bytes. */
  idKeyDigest: Uint8Array;
  /** AUTHOR_KEY_DIGEST, 48 bytes. */
  authorKeyDigest: Uint8Array;
  /** REPORT_ID, 32 bytes. */
  reportId: Uint8Array;
  /** REPORT_ID_MA, 32 bytes. */
  reportIdMa: Uint8Array;
  /** REPORTED_TCB: the TCB of the VCEK/VLEK that signed the report. */
  reportedTcb: bigint;
  /** CPUID fields; `undefined` for VERSION 2, which has none. */
  cpuid: SnpCpuid | undefined;
  /** CHIP_ID, 64 bytes. */
  chipId: Uint8Array;
  /** COMMITTED_TCB. */
  committedTcb: bigint;
  /** CURRENT_BUILD / CURRENT_MINOR / CURRENT_MAJOR. */
  currentVersion: SnpFirmwareVersion;
  /** COMMITTED_BUILD / COMMITTED_MINOR / COMMITTED_MAJOR. */
  committedVersion: SnpFirmwareVersion;
  /** LAUNCH_TCB. */
  launchTcb: bigint;
  /** LAUNCH_MIT_VECTOR; `undefined` before VERSION 5. */
  launchMitVector: bigint | undefined;
  /** CURRENT_MIT_VECTOR; `undefined` before VERSION 5. */
  currentMitVector: bigint | undefined;
  /** SIGNATURE, all 512 bytes (R and S little-endian, see {@link snpSignatureRS}). */
  signature: Uint8Array;
  /**
   * Processor generation: from the CPUID fields when they name a known product, otherwise
   * the caller's hint, otherwise `undefined`. Decides the TCB_VERSION layout.
   */
  product: SnpProduct | undefined;
  /** Bytes that followed the 1184-byte report in the input (not signed, not parsed). */
  trailing: Uint8Array;
}
