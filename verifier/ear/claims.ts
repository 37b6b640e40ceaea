/**
 * EAR claims-sets (draft-ietf-rats-ear-04, SPEC-DIGEST D3) built from appraisals, with
 * twi's private extensions under collision-resistant `tag:twi.dev,2026:` names. The
 * veraison/ear profile is written from these by `toVeraisonEar` (`veraison.ts`).
 *
 * @module
 */
import {
  EAR_PROFILE,
  EAT_JWT_MEDIA_TYPE,
  joseTyp,
  OCTET_STREAM_MEDIA_TYPE,
} from '../../wire/media-types.js';
import type { Tier, TrustVector } from '../policy/ar4si.js';
import { worstTier } from '../policy/ar4si.js';
import type { Appraisal } from '../appraise/types.js';
import type { CollateralRef } from '../verify/types.js';

/** JOSE `typ` of a signed EAR: the media type without `application/` (RFC 7515 §4.1.9). */
export const EAR_JWT_TYP = joseTyp(EAT_JWT_MEDIA_TYPE);
/** Profile of a twi EAR-appraisal (submodule), naming the twi extensions below. */
export const TWI_APPRAISAL_PROFILE = 'tag:twi.dev,2026:ear-appraisal#1';
/** Present (submodule and top level) when a chain ended at an operator-configured root. */
export const TWI_SIMULATED_CLAIM = 'tag:twi.dev,2026:ear#simulated';
/** Per submodule: what verification established (TCB status, advisories, collateral, anchor). */
export const TWI_VERIFICATION_CLAIM = 'tag:twi.dev,2026:ear#verification';
/** Per submodule, when there is something to say: the policy violations and notes. */
export const TWI_POLICY_CLAIM = 'tag:twi.dev,2026:ear#policy';

/** `ear_verifier_id` (AR4SI §3.3). */
export interface VerifierId {
  readonly developer: string;
  readonly build: string;
}

/** One EAR-appraisal (a `submods` value, EAR §3.1). */
export interface EarAppraisal {
  eat_profile?: string;
  ear_status: Tier;
  ear_trustworthiness_vector?: TrustVector;
  ear_appraisal_policy_ids?: string[];
  eat_nonce?: string;
  [extension: string]: unknown;
}

/** A CMW record `[media type, base64url value]` (draft-ietf-rats-msg-wrap JSON form). */
export type EarRawEvidenceRecord = [type: string, value: string];

/**
 * An EAR claims-set (EAR §3). `buildEar` writes the draft-ietf-rats-ear-04 profile; a claims-set
 * read by `verifyEar` has this shape whatever its profile, with its `eat_profile` as received.
 */
export interface EarClaims {
  eat_profile: typeof EAR_PROFILE | string;
  iat: number;
  exp?: number;
  ear_verifier_id: VerifierId;
  ear_status?: Tier;
  /** The evidence as a CMW record (-04); a -03 claims-set read back has base64url text. */
  ear_raw_evidence?: EarRawEvidenceRecord | string;
  submods: Record<string, EarAppraisal>;
  eat_nonce?: string;
  [extension: string]: unknown;
}

/** Input of {@link buildEar}. */
export interface BuildEarInput {
  /** Appraisals by submodule label (twi uses the platform name: `tdx`, `sev-snp`, `nitro`). */
  readonly appraisals: Readonly<Record<string, Appraisal>>;
  readonly verifierId: VerifierId;
  /** The relying party's nonce echoed for result freshness (8–64 bytes). */
  readonly nonce?: Uint8Array;
  /** Issue time, seconds since the epoch (an integer). */
  readonly iat: number;
  /** Expiry, seconds since the epoch (an integer after `iat`). */
  readonly exp?: number;
  /** The evidence as submitted; omit it where privacy matters (EAR §8). */
  readonly rawEvidence?: Uint8Array;
  /** Media type of {@link rawEvidence} in its CMW record (default `application/octet-stream`). */
  readonly rawEvidenceType?: string;
  /** Further top-level extensions: collision-resistant names → maps. */
  readonly extensions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** The draft's top-level claim names (extensions are any other name). @internal */
export const EAR_TOP_CLAIMS: readonly string[] = [
  'eat_profile',
  'iat',
  'exp',
  'ear_verifier_id',
  'ear_status',
  'ear_raw_evidence',
  'submods',
  'eat_nonce',
];

const STANDARD = new Set([...EAR_TOP_CLAIMS, TWI_SIMULATED_CLAIM]);

const b64u = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkInput(input: BuildEarInput): void {
  const { appraisals, verifierId, nonce, iat, exp } = input;
  if (!isMap(appraisals) || Object.keys(appraisals).length === 0) {
    throw new TypeError('buildEar needs at least one appraisal (submods must not be empty)');
  }
  if (typeof verifierId?.developer !== 'string' || typeof verifierId?.build !== 'string') {
    throw new TypeError('verifierId needs developer and build strings');
  }
  if (!Number.isSafeInteger(iat) || iat < 0) throw new TypeError('iat must be an integer');
  if (exp !== undefined && (!Number.isSafeInteger(exp) || exp <= iat)) {
    throw new TypeError('exp must be an integer after iat');
  }
  if (
    nonce !== undefined &&
    (!(nonce instanceof Uint8Array) || nonce.length < 8 || nonce.length > 64)
  ) {
    throw new TypeError('nonce must be 8 to 64 bytes');
  }
  const type = input.rawEvidenceType;
  if (type !== undefined && (typeof type !== 'string' || !/^[^\s/]+\/[^\s]+$/.test(type))) {
    throw new TypeError('rawEvidenceType must be a media type');
  }
  for (const [name, value] of Object.entries(input.extensions ?? {})) {
    if (STANDARD.has(name)) throw new TypeError(`extension ${name} would replace a standard claim`);
    if (!isMap(value)) throw new TypeError(`extension ${name} must be a map (EAR §4)`);
  }
}

function collateralClaim(c: CollateralRef): Record<string, unknown> {
  return {
    kind: c.kind,
    sha256: c.sha256,
    ...(c.source !== undefined && { source: c.source }),
    ...(c.tcbEvaluationDataNumber !== undefined && {
      tcb_evaluation_data_number: c.tcbEvaluationDataNumber,
    }),
    ...(c.issueDate !== undefined && { issue_date: c.issueDate }),
  };
}

function verificationClaim(a: Appraisal): Record<string, unknown> {
  const v = a.verification;
  return {
    platform: a.platform,
    verified: v.verified,
    ...(v.anchor ? { anchor: { ...v.anchor } } : {}),
    ...(v.tcbStatus ? { tcb_status: v.tcbStatus } : {}),
    advisory_ids: [...v.advisoryIds],
    collateral: v.collateral.map(collateralClaim),
    ...(v.error ? { error: { ...v.error } } : {}),
    ...(v.shim ? { shim: v.shim } : {}),
  };
}

function policyClaim(a: Appraisal): Record<string, unknown> | undefined {
  if (a.violations.length === 0 && a.notes.length === 0) return undefined;
  const violations = a.violations.map(
    ({ code, field, expected, actual, message, tier, claim }) => ({
      code,
      field,
      expected,
      actual,
      message,
      tier,
      claim,
    }),
  );
  return { violations, notes: [...a.notes] };
}

function submod(a: Appraisal): EarAppraisal {
  const out: EarAppraisal = {
    eat_profile: TWI_APPRAISAL_PROFILE,
    ear_status: a.status,
    ear_trustworthiness_vector: { ...a.trustVector },
    ear_appraisal_policy_ids: [a.policyId],
  };
  if (a.nonce) out.eat_nonce = b64u(a.nonce);
  out[TWI_VERIFICATION_CLAIM] = verificationClaim(a);
  const policy = policyClaim(a);
  if (policy) out[TWI_POLICY_CLAIM] = policy;
  const anchor = a.verification.anchor;
  if (anchor?.source === 'configured') {
    out[TWI_SIMULATED_CLAIM] = { anchor_sha256: anchor.sha256, anchor_subject: anchor.subject };
  }
  return out;
}

/**
 * Builds an EAR claims-set: one submodule per appraisal (status, trustworthiness vector,
 * policy ids, evidence nonce, and the twi verification, policy and simulated-hardware
 * extensions), the overall `ear_status` (the worst submodule status), and the echoed nonce.
 *
 * @throws TypeError for an empty appraisal map, a non-integer `iat`/`exp`, a nonce outside
 *   8–64 bytes, or an extension that is not a map or shadows a standard claim.
 *
 * @example
 * ```ts
 * const claims = buildEar({
 *   appraisals: { tdx: appraisal },
 *   verifierId: { developer: 'https://twi.dev', build: 'twi 0.1.0' },
 *   nonce,
 *   iat: Math.floor(now.getTime() / 1000),
 * });
 * ```
 */
export function buildEar(input: BuildEarInput): EarClaims {
  checkInput(input);
  const submods: Record<string, EarAppraisal> = {};
  for (const [label, a] of Object.entries(input.appraisals)) submods[label] = submod(a);
  const simulated = Object.entries(input.appraisals)
    .filter(([, a]) => a.verification.anchor?.source === 'configured')
    .map(([label]) => label);
  const claims: EarClaims = {
    eat_profile: EAR_PROFILE,
    iat: input.iat,
    ...(input.exp !== undefined ? { exp: input.exp } : {}),
    ear_verifier_id: { developer: input.verifierId.developer, build: input.verifierId.build },
    ear_status: worstTier(Object.values(submods).map((s) => s.ear_status)),
    ...(input.rawEvidence && {
      ear_raw_evidence: [
        input.rawEvidenceType ?? OCTET_STREAM_MEDIA_TYPE,
        b64u(input.rawEvidence),
      ] as EarRawEvidenceRecord,
    }),
    submods,
    ...(input.nonce ? { eat_nonce: b64u(input.nonce) } : {}),
    ...structuredClone(input.extensions ?? {}),
  };
  if (simulated.length > 0) claims[TWI_SIMULATED_CLAIM] = { submods: simulated };
  return claims;
}
