/**
 * The veraison/ear EAR profile (`tag:github.com,2023:veraison/ear`): twi's claims-set written
 * with the claim names and encodings github.com/veraison/ear validates (`ear.go`,
 * `ear_appraisal.go`, `verifier.go`), and read back into the draft shape.
 *
 * Mapping (draft-ietf-rats-ear-04 → veraison/ear):
 * `ear_verifier_id` → `ear.verifier-id` (`build` and `developer` only), `ear_raw_evidence`
 * (a CMW record) → `ear.raw-evidence` (base64url of the bytes), per submodule `ear_status` →
 * `ear.status` (tier name), `ear_trustworthiness_vector` → `ear.trustworthiness-vector`
 * (same AR4SI claim names and integers), `ear_appraisal_policy_ids` (a list) →
 * `ear.appraisal-policy-id` (its first entry). `eat_profile`, `iat`, `exp`, `eat_nonce` and
 * `submods` keep their names. The draft's top-level `ear_status` and the submodule
 * `eat_profile` / `eat_nonce` have no veraison counterpart and are left out; twi's
 * collision-resistant extensions are kept (veraison/ear ignores claims it does not know).
 *
 * @module
 */
import type { Tier, TrustVector } from '../policy/ar4si.js';
import { OCTET_STREAM_MEDIA_TYPE } from '../../wire/media-types.js';
import { worstTier } from '../policy/ar4si.js';
import { EAR_TOP_CLAIMS, type EarAppraisal, type EarClaims } from './claims.js';
import { VERAISON_EAR_PROFILE } from './profiles.js';

/** One veraison/ear appraisal (a `submods` value). */
export interface VeraisonEarAppraisal {
  'ear.status': Tier;
  'ear.trustworthiness-vector'?: TrustVector;
  'ear.appraisal-policy-id'?: string;
  [extension: string]: unknown;
}

/** A veraison/ear attestation result (`AttestationResult` in veraison/ear `ear.go`). */
export interface VeraisonEarClaims {
  eat_profile: typeof VERAISON_EAR_PROFILE | string;
  iat: number;
  exp?: number;
  'ear.verifier-id': { build: string; developer: string };
  'ear.raw-evidence'?: string;
  eat_nonce?: string;
  submods: Record<string, VeraisonEarAppraisal>;
  [extension: string]: unknown;
}

const DRAFT_TOP = new Set(EAR_TOP_CLAIMS);
const DRAFT_APPRAISAL = new Set([
  'eat_profile',
  'ear_status',
  'ear_trustworthiness_vector',
  'ear_appraisal_policy_ids',
  'eat_nonce',
]);
const VERAISON_TOP = new Set([
  'eat_profile',
  'iat',
  'exp',
  'ear.verifier-id',
  'ear.raw-evidence',
  'submods',
  'eat_nonce',
]);
const VERAISON_APPRAISAL = new Set([
  'ear.status',
  'ear.trustworthiness-vector',
  'ear.appraisal-policy-id',
]);

function extensions(from: Record<string, unknown>, standard: Set<string>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(from)
      .filter(([k]) => !standard.has(k))
      .map(([k, v]) => [k, structuredClone(v)]),
  );
}

/** The raw evidence bytes of a draft `ear_raw_evidence` (a -04 CMW record or -03 text), base64url. */
function rawEvidenceText(raw: EarClaims['ear_raw_evidence']): string | undefined {
  if (raw === undefined) return undefined;
  return typeof raw === 'string' ? raw : raw[1];
}

function toVeraisonAppraisal(a: EarAppraisal): VeraisonEarAppraisal {
  const policy = a.ear_appraisal_policy_ids?.[0];
  return {
    'ear.status': a.ear_status,
    ...(a.ear_trustworthiness_vector && {
      'ear.trustworthiness-vector': { ...a.ear_trustworthiness_vector },
    }),
    ...(policy !== undefined && { 'ear.appraisal-policy-id': policy }),
    ...extensions(a, DRAFT_APPRAISAL),
  };
}

/**
 * A draft claims-set (from `buildEar`) written in the veraison/ear profile; see the module
 * comment for the mapping. Sign it with `signEar` like a draft claims-set.
 *
 * @example
 * ```ts
 * const jwt = await signEar(toVeraisonEar(buildEar({ ... })), { key, alg: 'ES256', kid });
 * ```
 */
export function toVeraisonEar(claims: EarClaims): VeraisonEarClaims {
  const raw = rawEvidenceText(claims.ear_raw_evidence);
  const submods: Record<string, VeraisonEarAppraisal> = {};
  for (const [label, a] of Object.entries(claims.submods)) submods[label] = toVeraisonAppraisal(a);
  return {
    eat_profile: VERAISON_EAR_PROFILE,
    iat: claims.iat,
    ...(claims.exp !== undefined && { exp: claims.exp }),
    'ear.verifier-id': {
      build: claims.ear_verifier_id.build,
      developer: claims.ear_verifier_id.developer,
    },
    ...(raw !== undefined && { 'ear.raw-evidence': raw }),
    ...(claims.eat_nonce !== undefined && { eat_nonce: claims.eat_nonce }),
    submods,
    ...extensions(claims, DRAFT_TOP),
  };
}

const TIER_BY_NUMBER: Readonly<Record<number, Tier>> = {
  0: 'none',
  2: 'affirming',
  32: 'warning',
  96: 'contraindicated',
};

/** A veraison/ear status value (tier name, or its number as integer or text) as a tier name. */
export function veraisonTier(v: unknown): Tier | undefined {
  if (v === 'none' || v === 'affirming' || v === 'warning' || v === 'contraindicated') return v;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) ? TIER_BY_NUMBER[n] : undefined;
}

function fromVeraisonAppraisal(a: VeraisonEarAppraisal): EarAppraisal {
  const vector = a['ear.trustworthiness-vector'];
  const policy = a['ear.appraisal-policy-id'];
  return {
    ear_status: veraisonTier(a['ear.status']) ?? 'none',
    ...(vector && {
      ear_trustworthiness_vector: Object.fromEntries(
        Object.entries(vector).map(([k, v]) => [k, Number(v)]),
      ) as TrustVector,
    }),
    ...(policy !== undefined && { ear_appraisal_policy_ids: [policy] }),
    ...extensions(a, VERAISON_APPRAISAL),
  };
}

/**
 * A veraison/ear claims-set read into the draft shape (`ear_*` names), so relying-party code
 * reads one shape whatever the profile. `eat_profile` keeps the veraison URI; the top-level
 * `ear_status` is the worst submodule status; `ear.raw-evidence` becomes a CMW record of type
 * `application/octet-stream`. Call it on a claims-set `earProblems` accepted.
 */
export function fromVeraisonEar(claims: VeraisonEarClaims): EarClaims {
  const submods: Record<string, EarAppraisal> = {};
  for (const [label, a] of Object.entries(claims.submods)) {
    submods[label] = fromVeraisonAppraisal(a);
  }
  const raw = claims['ear.raw-evidence'];
  const vid = claims['ear.verifier-id'];
  return {
    eat_profile: claims.eat_profile,
    iat: Math.trunc(claims.iat),
    ...(claims.exp !== undefined && { exp: claims.exp }),
    ear_verifier_id: { developer: vid.developer, build: vid.build },
    ear_status: worstTier(Object.values(submods).map((s) => s.ear_status)),
    ...(raw !== undefined && { ear_raw_evidence: [OCTET_STREAM_MEDIA_TYPE, raw] }),
    submods,
    ...(claims.eat_nonce !== undefined && { eat_nonce: claims.eat_nonce }),
    ...extensions(claims, VERAISON_TOP),
  };
}
