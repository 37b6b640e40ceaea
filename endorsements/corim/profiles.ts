/**
 * How TEE reference values are spelled in CoRIM: the AMD SEV-SNP CoRIM profile
 * (draft-deeglaze-amd-sev-snp-corim-profile-02) and twi's own conventions for Intel TDX TDs
 * and AWS Nitro Enclaves, for which no profile exists (see `docs/corim.md`).
 *
 * @internal
 * @module
 */
import type { ClassId, Environment } from './types.js';

/** The AMD SEV-SNP CoRIM profile identifier. */
export const SNP_PROFILE: { readonly uri: string } = Object.freeze({
  uri: 'tag:amd.com,2025:snp-corim-profile',
});

/** SEV-SNP class-id, attestation by chip (VCEK): 1.3.6.1.4.1.3704.3.1. */
export const SNP_CLASS_BY_CHIP = '1.3.6.1.4.1.3704.3.1';

/** SEV-SNP class-id, attestation by CSP (VLEK): 1.3.6.1.4.1.3704.3.2. */
export const SNP_CLASS_BY_CSP = '1.3.6.1.4.1.3704.3.2';

/**
 * twi class-id of an Intel TDX trust domain: the name-based (SHA-1, version 5) UUID of
 * `tag:twi.dev,2026:corim/class/tdx-td` in the RFC 9562 URL namespace.
 */
export const TDX_TD_CLASS_UUID = 'be16d4d9-438a-54dc-bee7-209c93deba06';

/**
 * twi class-id of an AWS Nitro Enclave: the version 5 UUID of
 * `tag:twi.dev,2026:corim/class/nitro-enclave` in the RFC 9562 URL namespace.
 */
export const NITRO_ENCLAVE_CLASS_UUID = '5d33191b-1ede-5c0d-8624-78e7ab34362f';

/** The profile twi writes into CoRIMs that use its TDX or Nitro conventions. */
export const TWI_PROFILE: { readonly uri: string } = Object.freeze({
  uri: 'tag:twi.dev,2026:corim-profile/tee#1',
});

/** AMD profile mkeys twi maps to policy fields (the rest are refused when stated). */
export const SNP_MKEY = Object.freeze({
  GUEST_SVN: 1,
  POLICY: 2,
  VMPL: 5,
  CURRENT_TCB: 6,
  MEASUREMENT: 641,
  HOST_DATA: 642,
  ID_KEY_DIGEST: 643,
  AUTHOR_KEY_DIGEST: 644,
  REPORTED_TCB: 647,
  CPUID_FAM_ID: 648,
  CPUID_MOD_ID: 649,
  CHIP_ID: 3328,
});

/** Names of every AMD profile mkey, for messages and `twi corim inspect`. */
export const SNP_MKEY_NAMES: Readonly<Record<number, string>> = {
  0: 'VERSION',
  1: 'GUEST_SVN',
  2: 'POLICY',
  3: 'FAMILY_ID',
  4: 'IMAGE_ID',
  5: 'VMPL',
  6: 'CURRENT_TCB',
  7: 'PLATFORM_INFO',
  640: 'REPORT_DATA',
  641: 'MEASUREMENT',
  642: 'HOST_DATA',
  643: 'ID_KEY_DIGEST',
  644: 'AUTHOR_KEY_DIGEST',
  645: 'REPORT_ID',
  646: 'REPORT_ID_MA',
  647: 'REPORTED_TCB',
  648: 'CPUID_FAM_ID',
  649: 'CPUID_MOD_ID',
  650: 'CPUID_STEP',
  3328: 'CHIP_ID',
  3329: 'COMMITTED_TCB',
  3330: 'CurrentVersion',
  3936: 'CommittedVersion',
  3968: 'LAUNCH_TCB',
};

/** twi's TDX mkeys (text), each naming the TD report field it holds. */
export const TDX_MKEYS = [
  'mrtd',
  'mrseam',
  'mrconfigid',
  'mrowner',
  'mrownerconfig',
  'mrservicetd',
  'tdattributes',
  'xfam',
  'rtmr',
] as const;

/** One of {@link TDX_MKEYS}. */
export type TdxMkey = (typeof TDX_MKEYS)[number];

/** twi's Nitro mkey of the measurement holding the PCRs as integrity registers. */
export const NITRO_PCR_MKEY = 'pcr';

/** Named-information hash algorithm ids used in `digests` (RFC 6920 registry). */
export const DIGEST_ALG = Object.freeze({ 'sha-256': 1, 'sha-384': 7, 'sha-512': 8 });

/** Digest length of each algorithm id or name twi compares; others are ignored. */
export function digestLength(alg: number | string): number | undefined {
  const id =
    typeof alg === 'string' ? DIGEST_ALG[alg.toLowerCase() as keyof typeof DIGEST_ALG] : alg;
  return id === 1 ? 32 : id === 7 ? 48 : id === 8 ? 64 : undefined;
}

/** The platforms reference triples can describe. */
export type CorimPlatform = 'tdx' | 'sev-snp' | 'nitro';

/** Which platform a class-id names, if any. */
export function platformOfClass(id: ClassId | undefined): CorimPlatform | undefined {
  if (id === undefined) return undefined;
  if ('oid' in id) {
    return id.oid === SNP_CLASS_BY_CHIP || id.oid === SNP_CLASS_BY_CSP ? 'sev-snp' : undefined;
  }
  if ('uuid' in id) {
    if (id.uuid === TDX_TD_CLASS_UUID) return 'tdx';
    if (id.uuid === NITRO_ENCLAVE_CLASS_UUID) return 'nitro';
  }
  return undefined;
}

/** The environment twi writes for each platform (SEV-SNP: by chip unless `byCsp`). */
export function platformEnvironment(platform: CorimPlatform, byCsp = false): Environment {
  if (platform === 'sev-snp') {
    return { class: { classId: { oid: byCsp ? SNP_CLASS_BY_CSP : SNP_CLASS_BY_CHIP } } };
  }
  if (platform === 'tdx') {
    return { class: { classId: { uuid: TDX_TD_CLASS_UUID }, vendor: 'Intel Corporation' } };
  }
  return {
    class: { classId: { uuid: NITRO_ENCLAVE_CLASS_UUID }, vendor: 'Amazon Web Services' },
  };
}
