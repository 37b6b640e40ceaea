/**
 * The workload identifier a WIT is issued for (see `docs/service.md`, "The `sub` rule").
 *
 * @module
 */
import type { PlatformName } from '../platforms/registry.js';

/** Hex digits of the launch measurement that name the workload. */
export const MEASUREMENT_PREFIX_HEX = 16;

function launchMeasurement(
  platform: PlatformName,
  claims: Readonly<Record<string, unknown>>,
): unknown {
  if (platform === 'tdx') return claims.mrtd;
  if (platform === 'sev-snp') return claims.measurement;
  return (claims.pcrs as Record<string, unknown> | undefined)?.['0'];
}

/**
 * `spiffe://<trustDomain>/<platform>/<first 16 hex digits of the launch measurement>`, followed
 * by `/<workload>` when the attester names one. The launch measurement is TDX `MRTD`, SEV-SNP
 * `MEASUREMENT` or Nitro `PCR0`. The attester's name is only ever a suffix below the
 * measurement, so it cannot claim the identifier of different code.
 *
 * @example
 * ```ts
 * workloadSubject('example.org', 'tdx', { mrtd: 'a1b2…' }, 'api'); // spiffe://example.org/tdx/a1b2…/api
 * ```
 */
export function workloadSubject(
  trustDomain: string,
  platform: PlatformName,
  claims: Readonly<Record<string, unknown>>,
  workload?: string,
): string {
  const m = launchMeasurement(platform, claims);
  const prefix =
    typeof m === 'string' && /^[0-9a-f]+$/.test(m) ? m.slice(0, MEASUREMENT_PREFIX_HEX) : 'unknown';
  const base = `spiffe://${trustDomain}/${platform}/${prefix}`;
  return workload === undefined ? base : `${base}/${workload}`;
}
