/**
 * Options of the simulated SEV-SNP attestation report and how their defaults are derived.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import {
  encodeSnpPlatformInfo,
  encodeSnpPolicy,
} from '../verifier/platforms/sev-snp/abi/bit-fields.js';
import { SNP_PRODUCT_CPUID } from '../verifier/platforms/sev-snp/abi/tcb.js';
import type {
  SnpCpuid,
  SnpFirmwareVersion,
  SnpTcbParts,
} from '../verifier/platforms/sev-snp/abi/types.js';
import type { SnpPlatformInfo, SnpPolicy } from '../verifier/platforms/sev-snp/abi/bit-fields.js';
import type { AmdProduct } from './pki/amd.js';

/** Options of {@link simulateSnp}; every field has a default. */
export interface SnpSimOptions {
  /** Seed of the derived values (CHIP_ID, MEASUREMENT, REPORT_ID). Default `'twi-sev-snp-sim'`. */
  seed?: string;
  /** Report VERSION. Default 5 (firmware 1.58 and later). 4 is written in the VERSION 3 layout. */
  version?: 2 | 3 | 4 | 5;
  /** MEASUREMENT (48 bytes). Default derived from the seed. */
  measurement?: Uint8Array;
  /** REPORT_DATA (64 bytes). Default zeros. */
  reportData?: Uint8Array;
  /** HOST_DATA (32 bytes). Default zeros. */
  hostData?: Uint8Array;
  /** ID_KEY_DIGEST (48 bytes). Default zeros (launched without an ID block). */
  idKeyDigest?: Uint8Array;
  /** AUTHOR_KEY_DIGEST (48 bytes). Default zeros. */
  authorKeyDigest?: Uint8Array;
  /** AUTHOR_KEY_EN. Default: true when `authorKeyDigest` is given. */
  authorKeyEn?: boolean;
  /** FAMILY_ID (16 bytes). Default zeros. */
  familyId?: Uint8Array;
  /** IMAGE_ID (16 bytes). Default zeros. */
  imageId?: Uint8Array;
  /** GUEST_SVN. Default 0. */
  guestSvn?: number;
  /** POLICY, raw or as flags (bit 17 is set for flags). Default 0x30000 (SMT allowed). */
  policy?: bigint | Partial<SnpPolicy>;
  /** Shortcut: set POLICY.DEBUG. */
  debug?: boolean;
  /** VMPL. Default 0. */
  vmpl?: number;
  /** REPORTED_TCB parts (the VCEK/VLEK is issued for these). Default a recent TCB of the product. */
  reportedTcb?: Partial<SnpTcbParts>;
  /** CURRENT_TCB parts. Default REPORTED_TCB. */
  currentTcb?: Partial<SnpTcbParts>;
  /** COMMITTED_TCB parts. Default REPORTED_TCB. */
  committedTcb?: Partial<SnpTcbParts>;
  /** LAUNCH_TCB parts. Default REPORTED_TCB. */
  launchTcb?: Partial<SnpTcbParts>;
  /**
   * CHIP_ID (64 bytes) written in the report. Default: the chip's id derived from the seed
   * (Turin: only the first 8 bytes non-zero), or zeros with MASK_CHIP_KEY or a VLEK.
   * The VCEK is always issued for the chip's real (seed-derived) id.
   */
  chipId?: Uint8Array;
  /** MASK_CHIP_KEY. Default false. */
  maskChipKey?: boolean;
  /** Which key signs: SIGNING_KEY 0 (VCEK) or 1 (VLEK). Default `'vcek'`. */
  signingKey?: 'vcek' | 'vlek';
  /** The VLEK's CSP id. Default `'CN=sim.twi.example'`. */
  cspId?: string;
  /** PLATFORM_INFO, raw or as flags. Default SMT_EN (VERSION 2) or SMT_EN, ECC_EN, ALIAS_CHECK_COMPLETE. */
  platformInfo?: bigint | Partial<SnpPlatformInfo>;
  /** LAUNCH_MIT_VECTOR (VERSION 5 only). Default 0. */
  launchMitVector?: bigint;
  /** CURRENT_MIT_VECTOR (VERSION 5 only). Default 0. */
  currentMitVector?: bigint;
  /** CPUID_FAM_ID / MOD_ID / STEP (VERSION 3+). Default a CPU of the PKI's product. */
  cpuid?: SnpCpuid;
  /** REPORT_ID (32 bytes). Default derived from the seed. */
  reportId?: Uint8Array;
  /** REPORT_ID_MA (32 bytes). Default all 0xFF (no migration agent), as real reports have. */
  reportIdMa?: Uint8Array;
  /** CURRENT_MAJOR/MINOR/BUILD. Default a firmware version that produces the VERSION. */
  currentVersion?: SnpFirmwareVersion;
  /** COMMITTED_MAJOR/MINOR/BUILD. Default `currentVersion`. */
  committedVersion?: SnpFirmwareVersion;
  /** Validity of the issued VCEK/VLEK. Default as the PKI issues them. */
  keyCertValidity?: { notBefore?: Date; notAfter?: Date };
}

/** @internal */
export const DEFAULT_SEED = 'twi-sev-snp-sim';
/** @internal */
export const DEFAULT_CSP_ID = 'CN=sim.twi.example';

/** Recent real-world TCBs of each product (Turin's FMC SPL is not yet public; 1 here). */
const DEFAULT_TCB: Readonly<Record<AmdProduct, SnpTcbParts>> = {
  Milan: { bl: 4, tee: 0, snp: 27, ucode: 222 },
  Genoa: { bl: 10, tee: 0, snp: 23, ucode: 84 },
  Turin: { fmc: 1, bl: 1, tee: 1, snp: 4, ucode: 9 },
};

/** The TCB with `over` applied; `fmc` kept only on Turin. @internal */
export function tcbParts(product: AmdProduct, over?: Partial<SnpTcbParts>): SnpTcbParts {
  const t = { ...DEFAULT_TCB[product], ...over };
  if (product !== 'Turin') delete t.fmc;
  return t;
}

/** `n` (≤ 64) bytes derived from the seed for a purpose. @internal */
export function derived(seed: string, label: string, n: number): Uint8Array {
  const h = createHash('sha512').update(`twi-sev-snp-sim\0${seed}\0${label}`).digest();
  return new Uint8Array(h.subarray(0, n));
}

/** The chip's CHIP_ID: 64 seed-derived bytes, or 8 followed by zeros on Turin. @internal */
export function chipIdFor(product: AmdProduct, seed: string): Uint8Array {
  const id = new Uint8Array(64);
  id.set(derived(seed, 'chip-id', product === 'Turin' ? 8 : 64));
  return id;
}

/** @internal */
export function policyOf(o: SnpSimOptions): bigint {
  const base = typeof o.policy === 'bigint' ? o.policy : encodeSnpPolicy(o.policy ?? { smt: true });
  return o.debug ? base | (1n << 19n) : base;
}

/** @internal */
export function platformInfoOf(o: SnpSimOptions, version: number): bigint {
  if (typeof o.platformInfo === 'bigint') return o.platformInfo;
  if (o.platformInfo) return encodeSnpPlatformInfo(o.platformInfo);
  return version >= 3 ? 0x25n : 0x1n;
}

/** @internal */
export function cpuidOf(o: SnpSimOptions, product: AmdProduct, version: number) {
  if (version < 3) {
    if (o.cpuid) throw new TypeError('cpuid needs report VERSION 3 or later');
    return undefined;
  }
  return { ...(o.cpuid ?? SNP_PRODUCT_CPUID[product]) };
}

/** @internal */
export function firmwareOf(version: number): SnpFirmwareVersion {
  if (version >= 5) return { major: 1, minor: 58, build: 1 };
  if (version >= 3) return { major: 1, minor: 55, build: 40 };
  return { major: 1, minor: 51, build: 3 };
}

/** @internal */
export function mitVectorsOf(o: SnpSimOptions, version: number) {
  if (version >= 5) {
    return { launch: o.launchMitVector ?? 0n, current: o.currentMitVector ?? 0n };
  }
  if (o.launchMitVector !== undefined || o.currentMitVector !== undefined) {
    throw new TypeError('mitigation vectors need report VERSION 5');
  }
  return { launch: undefined, current: undefined };
}
