/**
 * The measurements the linker matches, and the matching convention (`docs/provenance.md`):
 * a measurement of `n` bytes is read as a digest of the algorithm with that output size
 * (32 → `sha256`, 48 → `sha384`, 64 → `sha512`), and matches an in-toto subject whose digest
 * set has that algorithm with the same lowercase hex — e.g. the 48-byte TDX MRTD in hex as
 * `{"sha384": "<96 hex digits>"}`. Reference values (policy or CoRIM) match only the field
 * they are stated for.
 *
 * Fields: those each platform's wing names (`measurements` in
 * `verifier/platforms/registry.ts`: TDX `mrtd`, `rtmr0`..`rtmr3`; SEV-SNP `measurement`,
 * `host_data`; Nitro `pcr<i>`); and `shim` — the in-guest shim's own digest, when the
 * evidence claims carry `shim_digest`.
 *
 * @internal
 * @module
 */
import { getPlatform, isPlatformName } from '../verifier/platforms/registry.js';
import type { Policy } from '../verifier/policy/types.js';
import type { ClaimsOf, PlatformName } from '../verifier/verify/types.js';
import type { CorimReferences } from '../endorsements/corim/policy.js';
import type { DigestAlg } from './statement.js';

/** One appraised measurement. */
export interface Measurement {
  /** `tdx`, `sev-snp`, `nitro`, or `any` for the shim digest. */
  readonly platform: string;
  /** e.g. `mrtd`, `rtmr1`, `measurement`, `host_data`, `pcr0`, `shim`. */
  readonly field: string;
  readonly alg: DigestAlg;
  /** Lowercase hex. */
  readonly value: string;
}

/** A reference value stated for one measurement field. */
export interface ReferenceValue {
  readonly platform: string;
  readonly field: string;
  readonly value: string;
}

const ALG_BY_HEX_LENGTH: Readonly<Record<number, DigestAlg>> = {
  64: 'sha256',
  96: 'sha384',
  128: 'sha512',
};

/** The digest algorithm a measurement's size stands for, or `undefined`. */
export function algOfHex(hex: string): DigestAlg | undefined {
  return /^[0-9a-f]+$/.test(hex) ? ALG_BY_HEX_LENGTH[hex.length] : undefined;
}

/** The index key of a digest: `alg:hex`. */
export function digestKey(alg: DigestAlg, value: string): string {
  return `${alg}:${value}`;
}

function push(out: Measurement[], platform: string, field: string, value: unknown): void {
  if (typeof value !== 'string') return;
  const alg = algOfHex(value);
  // An all-zero register (an unused RTMR, an unset PCR) names no artefact.
  if (alg && !/^0+$/.test(value)) out.push({ platform, field, alg, value });
}

/** The measurements of verified claims (see the module notes for the fields). */
export function measurementsOf(
  platform: string,
  claims: Readonly<Record<string, unknown>>,
): Measurement[] {
  const out: Measurement[] = [];
  if (isPlatformName(platform)) {
    // Claims recorded for `platform` have its codec's shape; the wing reads them defensively.
    const typed = claims as Readonly<ClaimsOf<PlatformName>>;
    for (const m of getPlatform(platform).measurements(typed)) {
      push(out, platform, m.field, m.value);
    }
  }
  push(out, 'any', 'shim', claims.shim_digest);
  return out;
}

type RefLists = Readonly<Record<string, readonly string[] | undefined>>;

function listed(platform: string, refs: RefLists | undefined, fields: string[]): ReferenceValue[] {
  if (!refs) return [];
  return fields.flatMap((field) =>
    (refs[field] ?? []).map((value) => ({ platform, field, value: value.toLowerCase() })),
  );
}

function nitroPcrs(
  pcrs: Readonly<Record<string, readonly string[]>> | undefined,
): ReferenceValue[] {
  return Object.entries(pcrs ?? {}).flatMap(([i, values]) =>
    values.map((value) => ({ platform: 'nitro', field: `pcr${i}`, value: value.toLowerCase() })),
  );
}

/** The measurement reference values a policy or CoRIM states, flattened. */
export function referenceValuesOf(
  refs: Pick<Policy, 'tdx' | 'sev-snp' | 'nitro'> | CorimReferences | undefined,
): ReferenceValue[] {
  if (!refs) return [];
  return [
    ...listed('tdx', refs.tdx as RefLists | undefined, [
      'mrtd',
      'rtmr0',
      'rtmr1',
      'rtmr2',
      'rtmr3',
    ]),
    ...listed('sev-snp', refs['sev-snp'] as RefLists | undefined, ['measurement', 'host_data']),
    ...nitroPcrs(refs.nitro?.pcrs),
  ];
}

/** The reference values among `refs` that equal one of `measurements` (same field). */
export function matchingReferences(
  measurements: readonly Measurement[],
  refs: readonly ReferenceValue[],
): ReferenceValue[] {
  const seen = new Set(measurements.map((m) => `${m.platform}.${m.field}=${m.value}`));
  return refs.filter((r) => seen.has(`${r.platform}.${r.field}=${r.value}`));
}
