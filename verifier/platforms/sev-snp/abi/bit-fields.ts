/**
 * POLICY, PLATFORM_INFO and the signer-info word (SPEC-DIGEST B3.1–B3.3).
 *
 * @module
 */

/** Decoded guest POLICY (ABI 56860 Table 9). */
export interface SnpPolicy {
  /** Minimum ABI minor version the guest requires. */
  abiMinor: number;
  /** Minimum ABI major version the guest requires. */
  abiMajor: number;
  /** SMT is allowed. */
  smt: boolean;
  /** Association with a migration agent is allowed. */
  migrateMa: boolean;
  /** Debugging is allowed: the hypervisor can read and write guest memory. */
  debug: boolean;
  /** The guest may run on one socket only. */
  singleSocket: boolean;
  /** CXL may be populated with devices or memory. */
  cxlAllow: boolean;
  /** AES-256-XTS memory encryption is required. */
  memAes256Xts: boolean;
  /** Running Average Power Limit must be disabled. */
  raplDis: boolean;
  /** Ciphertext hiding for DRAM must be enabled. */
  ciphertextHidingDram: boolean;
  /** Guest page swapping (SNP_PAGE_MOVE etc.) is disabled. */
  pageSwapDisable: boolean;
}

/** Bit 17 of POLICY is reserved and must be 1. @internal */
export const POLICY_RESERVED_ONE = 1n << 17n;
/** POLICY bits 63:26 must be zero. @internal */
export const POLICY_MBZ_MASK = ~((1n << 26n) - 1n) & 0xffff_ffff_ffff_ffffn;

const POLICY_FLAGS = [
  ['smt', 16],
  ['migrateMa', 18],
  ['debug', 19],
  ['singleSocket', 20],
  ['cxlAllow', 21],
  ['memAes256Xts', 22],
  ['raplDis', 23],
  ['ciphertextHidingDram', 24],
  ['pageSwapDisable', 25],
] as const satisfies readonly (readonly [keyof SnpPolicy, number])[];

const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;

/** Decodes POLICY. Does not check the reserved bits (the parser does). */
export function decodeSnpPolicy(policy: bigint): SnpPolicy {
  const out = {
    abiMinor: Number(policy & 0xffn),
    abiMajor: Number((policy >> 8n) & 0xffn),
  } as SnpPolicy;
  for (const [name, n] of POLICY_FLAGS) out[name] = bit(policy, n);
  return out;
}

/** Encodes a POLICY, setting the reserved bit 17. Unset flags are 0. */
export function encodeSnpPolicy(policy: Partial<SnpPolicy>): bigint {
  let v = POLICY_RESERVED_ONE;
  v |= BigInt((policy.abiMinor ?? 0) & 0xff) | (BigInt((policy.abiMajor ?? 0) & 0xff) << 8n);
  for (const [name, n] of POLICY_FLAGS) if (policy[name]) v |= 1n << BigInt(n);
  return v;
}

/** Decoded PLATFORM_INFO. */
export interface SnpPlatformInfo {
  smtEn: boolean;
  tsmeEn: boolean;
  eccEn: boolean;
  raplDis: boolean;
  ciphertextHidingDramEn: boolean;
  /** ALIAS_CHECK_COMPLETE (BadRAM alias check done). */
  aliasCheckComplete: boolean;
  /** SEV_TIO_EN. */
  sevTioEn: boolean;
  /** Bit 6 and bits 63:8, which no ABI revision read for twi defines. */
  unknownBits: bigint;
}

const PLATFORM_FLAGS = [
  ['smtEn', 0],
  ['tsmeEn', 1],
  ['eccEn', 2],
  ['raplDis', 3],
  ['ciphertextHidingDramEn', 4],
  ['aliasCheckComplete', 5],
  ['sevTioEn', 7],
] as const satisfies readonly (readonly [keyof SnpPlatformInfo, number])[];

const PLATFORM_KNOWN_MASK = PLATFORM_FLAGS.reduce((m, [, n]) => m | (1n << BigInt(n)), 0n);

/** Decodes PLATFORM_INFO; undefined bits are collected in `unknownBits`, not rejected. */
export function decodeSnpPlatformInfo(info: bigint): SnpPlatformInfo {
  const out = { unknownBits: info & ~PLATFORM_KNOWN_MASK } as SnpPlatformInfo;
  for (const [name, n] of PLATFORM_FLAGS) out[name] = bit(info, n);
  return out;
}

/** Encodes PLATFORM_INFO from flags (plus any `unknownBits`). */
export function encodeSnpPlatformInfo(info: Partial<SnpPlatformInfo>): bigint {
  let v = info.unknownBits ?? 0n;
  for (const [name, n] of PLATFORM_FLAGS) if (info[name]) v |= 1n << BigInt(n);
  return v;
}

/** Which key signed the report: SIGNING_KEY 0 (VCEK), 1 (VLEK) or 7 (none). */
export type SnpSigningKey = 'vcek' | 'vlek' | 'none';

/** Decoded signer-info word at 0x48. */
export interface SnpSignerInfo {
  /** AUTHOR_KEY_EN: AUTHOR_KEY_DIGEST is valid. */
  authorKeyEn: boolean;
  /** MASK_CHIP_KEY: CHIP_ID is zeroed (and the VCEK was not used). */
  maskChipKey: boolean;
  signingKey: SnpSigningKey;
}

/** Bits 31:5 of the signer-info word must be zero. @internal */
export const SIGNER_INFO_MBZ_MASK = 0xffff_ffe0;

const SIGNING_KEY_CODES: Readonly<Record<SnpSigningKey, number>> = { vcek: 0, vlek: 1, none: 7 };

/** Raw SIGNING_KEY (bits 4:2). @internal */
export function signingKeyCode(signerInfo: number): number {
  return (signerInfo >>> 2) & 7;
}

/**
 * Decodes the signer-info word. SIGNING_KEY values 2–6 are reserved: the parser rejects
 * them, and here they decode as `'none'`.
 */
export function decodeSnpSignerInfo(signerInfo: number): SnpSignerInfo {
  const code = signingKeyCode(signerInfo);
  return {
    authorKeyEn: (signerInfo & 1) !== 0,
    maskChipKey: (signerInfo & 2) !== 0,
    signingKey: code === 0 ? 'vcek' : code === 1 ? 'vlek' : 'none',
  };
}

/** Encodes the signer-info word. */
export function encodeSnpSignerInfo(info: Partial<SnpSignerInfo>): number {
  const key = SIGNING_KEY_CODES[info.signingKey ?? 'vcek'];
  return ((info.authorKeyEn ? 1 : 0) | (info.maskChipKey ? 2 : 0) | (key << 2)) >>> 0;
}
