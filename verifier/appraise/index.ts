/**
 * Appraisal (pure policy): policy files and their schema, the AR4SI model, and
 * {@link appraise}, which turns verified evidence into a trustworthiness vector, a tier and
 * every violation.
 *
 * @example
 * ```ts
 * import { appraise, loadPolicy } from './appraise/index.js';
 * const appraisal = appraise(verified, loadPolicy('policy.yaml'), { nonce, jkt });
 * ```
 *
 * @module
 */
export { appraise } from './appraise.js';
export type {
  Appraisal,
  Expectations,
  JsonValue,
  Platform,
  VerificationFailure,
  VerificationSummary,
  Violation,
  ViolationCode,
} from './types.js';
export { loadPolicy, parsePolicy } from './policy-loader.js';
export type { LoadPolicyOptions } from './policy-loader.js';
export { defaultPolicy, DEFAULT_POLICY_ID, DEFAULT_TCB_TIERS } from './policy-normalize.js';
export { policySchema } from './policy-schema.js';
export {
  normalizeRegistrations,
  OPTIONAL_FIELDS,
  REGISTRATION_FIELDS,
  registrationsOverlap,
  REQUIRED_FIELDS,
} from './policy-registrations.js';
export { PolicyError } from './policy-error.js';
export type { PolicyErrorCode, PolicyIssue } from './policy-error.js';
export type * from './policy-types.js';
export {
  AR4SI,
  pickClaim,
  TIER_CBOR,
  tierOf,
  VECTOR_KEYS,
  vectorStatus,
  worstTier,
} from './ar4si.js';
export type { Tier, TrustVector, VectorKey } from './ar4si.js';
