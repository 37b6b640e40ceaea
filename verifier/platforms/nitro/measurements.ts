/**
 * What Nitro evidence names about the code it runs: the PCRs supply-chain records match and
 * the launch identity the derived identifiers digest.
 *
 * @internal
 * @module
 */
import type { ClaimsOf, LaunchIdentityField, NamedMeasurement } from '../../verify/types.js';

/**
 * Every PCR as `pcr<i>`, in index order (a value that is not a string is left out).
 *
 * @example
 * ```ts
 * nitroMeasurements(verified.claims)[0]; // { field: 'pcr0', value: '5cb70295…' }
 * ```
 */
export function nitroMeasurements(claims: Readonly<ClaimsOf<'nitro'>>): NamedMeasurement[] {
  const pcrs: Readonly<Record<string, unknown>> = claims.pcrs ?? {};
  return Object.entries(pcrs).flatMap(([i, value]) =>
    typeof value === 'string' ? [{ field: `pcr${i}`, value }] : [],
  );
}

/**
 * The code-identifying measurements of an enclave, in digest order: PCR0 (image), PCR1
 * (kernel), PCR2 (application) and PCR8 (signing certificate).
 */
export const NITRO_LAUNCH_IDENTITY: readonly LaunchIdentityField[] = [
  ['PCR0', 'claims', 'pcrs.0'],
  ['PCR1', 'claims', 'pcrs.1'],
  ['PCR2', 'claims', 'pcrs.2'],
  ['PCR8', 'claims', 'pcrs.8'],
];
