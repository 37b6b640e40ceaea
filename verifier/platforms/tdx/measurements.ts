/**
 * What TDX evidence names about the code it runs: the measurements supply-chain records match
 * (MRTD, RTMR0-3) and the launch identity the derived identifiers digest.
 *
 * @internal
 * @module
 */
import type { ClaimsOf, LaunchIdentityField, NamedMeasurement } from '../../verify/types.js';

/** The registers supply-chain records can name, in order, then the replayed shim digest. */
const MEASURED = ['mrtd', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3', 'shim'] as const;

/**
 * MRTD, RTMR0..RTMR3 and `shim` (when the event log replayed), in that order (a claim that is
 * not a string is left out).
 *
 * @example
 * ```ts
 * tdxMeasurements(verified.claims)[0]; // { field: 'mrtd', value: '91eb2b44…' }
 * ```
 */
export function tdxMeasurements(claims: Readonly<ClaimsOf<'tdx'>>): NamedMeasurement[] {
  return MEASURED.flatMap((field) => {
    const value: unknown = claims[field];
    return typeof value === 'string' ? [{ field, value }] : [];
  });
}

/**
 * The code-identifying measurements of a TD, in digest order: MRTD, RTMR0-3, MRCONFIGID,
 * MROWNER (claims) and MROWNERCONFIG (details).
 */
export const TDX_LAUNCH_IDENTITY: readonly LaunchIdentityField[] = [
  ['MRTD', 'claims', 'mrtd'],
  ['RTMR0', 'claims', 'rtmr0'],
  ['RTMR1', 'claims', 'rtmr1'],
  ['RTMR2', 'claims', 'rtmr2'],
  ['RTMR3', 'claims', 'rtmr3'],
  ['MRCONFIGID', 'claims', 'mrconfigid'],
  ['MROWNER', 'claims', 'mrowner'],
  ['MROWNERCONFIG', 'details', 'mrOwnerConfig'],
];
