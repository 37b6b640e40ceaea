/**
 * What SEV-SNP evidence names about the code it runs: the measurements supply-chain records
 * match (MEASUREMENT, HOST_DATA) and the launch identity the derived identifiers digest.
 *
 * @internal
 * @module
 */
import type { ClaimsOf, LaunchIdentityField, NamedMeasurement } from '../../verify/types.js';

/** The fields supply-chain records can name, in order. */
const MEASURED = ['measurement', 'host_data'] as const;

/**
 * MEASUREMENT (the launch digest) and HOST_DATA, in that order (a claim that is not a string
 * is left out).
 *
 * @example
 * ```ts
 * snpMeasurements(verified.claims)[0]; // { field: 'measurement', value: '…' } (96 hex digits)
 * ```
 */
export function snpMeasurements(claims: Readonly<ClaimsOf<'sev-snp'>>): NamedMeasurement[] {
  return MEASURED.flatMap((field) => {
    const value: unknown = claims[field];
    return typeof value === 'string' ? [{ field, value }] : [];
  });
}

/**
 * The code-identifying measurements of an SEV-SNP guest, in digest order: MEASUREMENT,
 * HOST_DATA, ID_KEY_DIGEST (claims), AUTHOR_KEY_DIGEST, FAMILY_ID, IMAGE_ID (details) and VMPL
 * (claims; it enters as the report's 4-byte little-endian field).
 */
export const SNP_LAUNCH_IDENTITY: readonly LaunchIdentityField[] = [
  ['MEASUREMENT', 'claims', 'measurement'],
  ['HOST_DATA', 'claims', 'host_data'],
  ['ID_KEY_DIGEST', 'claims', 'id_key_digest'],
  ['AUTHOR_KEY_DIGEST', 'details', 'authorKeyDigest'],
  ['FAMILY_ID', 'details', 'familyId'],
  ['IMAGE_ID', 'details', 'imageId'],
  ['VMPL', 'claims', 'vmpl'],
];
