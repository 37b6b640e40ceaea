/**
 * AR4SI trustworthiness claims, tiers and vectors (draft-ietf-rats-ar4si §2.3, §3;
 * SPEC-DIGEST D3.3, D4): the value space every appraisal is expressed in.
 *
 * @module
 */

/** The four trustworthiness tiers, by their JSON names. */
export type Tier = 'none' | 'affirming' | 'warning' | 'contraindicated';

/** The eight trustworthiness claims, by their JSON labels. */
export const VECTOR_KEYS = [
  'instance-identity',
  'configuration',
  'executables',
  'file-system',
  'hardware',
  'runtime-opaque',
  'storage-opaque',
  'sourced-data',
] as const;

/** A trustworthiness claim label. */
export type VectorKey = (typeof VECTOR_KEYS)[number];

/** A trustworthiness vector: claim label → value in -128..127. Absent means "no claim". */
export type TrustVector = { -readonly [K in VectorKey]?: number };

/** CBOR encodings of the tiers (EAR uses them in CWT form). */
export const TIER_CBOR: Readonly<Record<Tier, number>> = {
  none: 0,
  affirming: 2,
  warning: 32,
  contraindicated: 96,
};

/** Standard claim values twi assigns (AR4SI §2.3.4). */
export const AR4SI = {
  /** Any claim: the Evidence failed cryptographic validation. */
  CRYPTO_FAILED: 99,
  /** Any claim: the Verifier makes no assertion. */
  NO_CLAIM: 0,
  identity: { RECOGNIZED: 2, UNTRUSTWORTHY: 96, UNRECOGNIZED: 97 },
  configuration: { APPROVED: 2, NO_KNOWN_VULNS: 3, KNOWN_VULNS: 32, UNSUPPORTABLE: 96 },
  executables: { APPROVED: 2, APPROVED_BOOT: 3, KNOWN_BUGS: 32, UNRECOGNIZED: 33, FORBIDDEN: 96 },
  hardware: { GENUINE: 2, KNOWN_VULNS: 32, CONTRAINDICATED: 96, UNRECOGNIZED: 97 },
  runtimeOpaque: { ENCRYPTED: 2, ISOLATED: 32, VISIBLE: 96 },
} as const;

const TIER_RANK: Readonly<Record<Tier, number>> = {
  none: 0,
  affirming: 1,
  warning: 2,
  contraindicated: 3,
};

/**
 * The tier a claim value falls in (AR4SI §2.3.2): 2..31 and -2..-32 affirming, 32..95 and
 * -33..-96 warning, 96..127 and -97..-128 contraindicated, everything else none.
 *
 * @example
 * ```ts
 * tierOf(33); // 'warning'
 * ```
 */
export function tierOf(value: number): Tier {
  if (!Number.isInteger(value) || value < -128 || value > 127) return 'none';
  const v = Math.abs(value);
  const negative = value < 0;
  if (v >= (negative ? 97 : 96)) return 'contraindicated';
  if (v >= (negative ? 33 : 32)) return 'warning';
  if (v >= 2) return 'affirming';
  return 'none';
}

/** The least trustworthy of `tiers` (contraindicated < warning < affirming < none). */
export function worstTier(tiers: Iterable<Tier>): Tier {
  let worst: Tier = 'none';
  for (const t of tiers) if (TIER_RANK[t] > TIER_RANK[worst]) worst = t;
  return worst;
}

/**
 * The status of a vector: the worst tier across its claims (EAR §3.1 "no higher trust than
 * the worst trustworthiness claim"); `none` for an empty vector.
 */
export function vectorStatus(vector: TrustVector): Tier {
  return worstTier(Object.values(vector).map((v) => tierOf(v as number)));
}

/** True when `a` takes precedence over `b` under the assignment order of AR4SI §2.3.3. */
function outranks(a: number, b: number): boolean {
  const ta = TIER_RANK[tierOf(a)];
  const tb = TIER_RANK[tierOf(b)];
  if (ta !== tb) return ta > tb;
  if (a >= 0 !== b >= 0) return a >= 0;
  return Math.abs(a) > Math.abs(b);
}

/**
 * Merges candidate values for one claim: a contraindicated standard value beats a
 * contraindicated private one, which beats a standard warning, and so on (AR4SI §2.3.3).
 */
export function pickClaim(values: Iterable<number>): number | undefined {
  let best: number | undefined;
  for (const v of values) if (best === undefined || outranks(v, best)) best = v;
  return best;
}

/**
 * A vector with every one of the eight claims set to `value` (e.g. 99 after a failure).
 *
 * @internal
 */
export function uniformVector(value: number): TrustVector {
  const out: TrustVector = {};
  for (const k of VECTOR_KEYS) out[k] = value;
  return out;
}

/** The hardware claim value that stands for a tier chosen by policy. @internal */
export function hardwareValueFor(tier: Exclude<Tier, 'none'>): number {
  if (tier === 'affirming') return AR4SI.hardware.GENUINE;
  return tier === 'warning' ? AR4SI.hardware.KNOWN_VULNS : AR4SI.hardware.CONTRAINDICATED;
}
