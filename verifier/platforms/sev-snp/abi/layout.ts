/**
 * Offsets and sizes of the ATTESTATION_REPORT (ABI 56860 Table 22; SPEC-DIGEST B3.1).
 *
 * @module
 */
import type { SnpReport } from './types.js';

/** Size of an ATTESTATION_REPORT. */
export const SNP_REPORT_SIZE = 0x4a0;
/** The signature covers bytes [0, SNP_SIGNED_SIZE). */
export const SNP_SIGNED_SIZE = 0x2a0;
/** SIGNATURE_ALGO value for ECDSA P-384 with SHA-384, the only one defined. */
export const SNP_SIG_ALGO_ECDSA_P384_SHA384 = 1;
/** Report versions this codec parses. */
export const SNP_SUPPORTED_VERSIONS: readonly number[] = [2, 3, 4, 5];

/** @internal */
export const OFF = {
  VERSION: 0x000,
  GUEST_SVN: 0x004,
  POLICY: 0x008,
  VMPL: 0x030,
  SIGNATURE_ALGO: 0x034,
  CURRENT_TCB: 0x038,
  PLATFORM_INFO: 0x040,
  SIGNER_INFO: 0x048,
  REPORTED_TCB: 0x180,
  CPUID_FAM_ID: 0x188,
  CPUID_MOD_ID: 0x189,
  CPUID_STEP: 0x18a,
  COMMITTED_TCB: 0x1e0,
  CURRENT_BUILD: 0x1e8,
  COMMITTED_BUILD: 0x1ec,
  LAUNCH_TCB: 0x1f0,
  LAUNCH_MIT_VECTOR: 0x1f8,
  CURRENT_MIT_VECTOR: 0x200,
  SIGNATURE: 0x2a0,
} as const;

/** Size of each little-endian R and S field in SIGNATURE. @internal */
export const SIG_COMPONENT_SIZE = 72;
/** Significant bytes of R and S for P-384. @internal */
export const P384_SCALAR_SIZE = 48;
/** SIGNATURE is 512 bytes: R (72), S (72), then zeros. @internal */
export const SIGNATURE_SIZE = SNP_REPORT_SIZE - OFF.SIGNATURE;

type BytesKey = {
  [K in keyof SnpReport]: SnpReport[K] extends Uint8Array ? K : never;
}[keyof SnpReport];

/**
 * The fixed-size byte-array fields, in report order: [spec name, offset, size, property].
 *
 * @internal
 */
export const BYTE_FIELDS: readonly (readonly [
  string,
  number,
  number,
  Exclude<BytesKey, 'trailing'>,
])[] = [
  ['FAMILY_ID', 0x010, 16, 'familyId'],
  ['IMAGE_ID', 0x020, 16, 'imageId'],
  ['REPORT_DATA', 0x050, 64, 'reportData'],
  ['MEASUREMENT', 0x090, 48, 'measurement'],
  ['HOST_DATA', 0x0c0, 32, 'hostData'],
  ['ID_KEY_DIGEST', 0x0e0, 48, 'idKeyDigest'],
  ['AUTHOR_KEY_DIGEST', 0x110, 48, 'authorKeyDigest'],
  ['REPORT_ID', 0x140, 32, 'reportId'],
  ['REPORT_ID_MA', 0x160, 32, 'reportIdMa'],
  ['CHIP_ID', 0x1a0, 64, 'chipId'],
  ['SIGNATURE', OFF.SIGNATURE, SIGNATURE_SIZE, 'signature'],
];

/** A must-be-zero byte range [lo, hi) and the name errors give it. @internal */
export interface ReservedRange {
  field: string;
  lo: number;
  hi: number;
}

function range(lo: number, hi: number, field?: string): ReservedRange {
  const hex = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(3, '0');
  return { field: field ?? `reserved[${hex(lo)}:${hex(hi)}]`, lo, hi };
}

const SIG_R_HIGH = OFF.SIGNATURE + P384_SCALAR_SIZE;
const SIG_S_HIGH = OFF.SIGNATURE + SIG_COMPONENT_SIZE + P384_SCALAR_SIZE;
const SIG_TAIL = OFF.SIGNATURE + 2 * SIG_COMPONENT_SIZE;

/**
 * Must-be-zero ranges for a report version. VERSION 3 added the CPUID bytes at 0x188 and
 * VERSION 5 the mitigation vectors at 0x1F8; R and S are zero-extended P-384 scalars.
 *
 * @internal
 */
export function reservedRanges(version: number): ReservedRange[] {
  return [
    range(0x04c, 0x050),
    range(version >= 3 ? 0x18b : 0x188, 0x1a0),
    range(0x1eb, 0x1ec),
    range(0x1ef, 0x1f0),
    range(version >= 5 ? 0x208 : 0x1f8, OFF.SIGNATURE),
    range(SIG_R_HIGH, SIG_R_HIGH + SIG_COMPONENT_SIZE - P384_SCALAR_SIZE, 'SIGNATURE.R'),
    range(SIG_S_HIGH, SIG_S_HIGH + SIG_COMPONENT_SIZE - P384_SCALAR_SIZE, 'SIGNATURE.S'),
    range(SIG_TAIL, SNP_REPORT_SIZE, 'SIGNATURE.reserved'),
  ];
}
