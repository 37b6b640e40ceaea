/**
 * The appraise stage (ARCHITECTURE "The appraisal pipeline", step 3): verified claims ×
 * reference values × policy → an AR4SI trustworthiness vector, a tier and every violation.
 * Pure: no I/O, no clock.
 *
 * @module
 */
import { isVerified } from '../verify/mint.js';
import type { VerifiedEvidence } from '../verify/types.js';
import { pickClaim, uniformVector, VECTOR_KEYS, vectorStatus } from '../policy/ar4si.js';
import type { TrustVector } from '../policy/ar4si.js';
import { getPlatform, isPlatformName } from '../platforms/registry.js';
import { checkBinding, checkExpectations } from './binding-checks.js';
import type { Check, CheckContext, Finding, WingChecks } from './check-kit.js';
import { checkAnchor, checkDebug, checkPlatform, checkRuntime, checkTcb } from './common-checks.js';
import type { Policy } from '../policy/types.js';
import type { Appraisal, Expectations, VerificationFailure, Violation } from './types.js';

/** The checks of evidence whose wing is `wing`, in report order: shared ones, then the wing's. */
function checksOf(wing: WingChecks): readonly Check[] {
  return [
    checkPlatform,
    checkAnchor,
    checkRuntime,
    (ctx) => checkTcb(ctx, wing),
    (ctx) => checkDebug(ctx, wing),
    (ctx) => checkBinding(ctx, wing),
    (ctx) => wing.references(ctx),
  ];
}

/** Verification codes that mean "genuine, but no TCB level recognises it" (hardware 97). */
const UNRECOGNIZED_TCB = new Set(['ERR_TCB_LEVEL_NOT_FOUND']);

const BINDING_CODES = new Set([
  'ERR_NONCE_MISMATCH',
  'ERR_REPORT_DATA_MISMATCH',
  'ERR_PUBLIC_KEY_MISMATCH',
]);

function isFailure(value: unknown): value is VerificationFailure {
  if (typeof value !== 'object' || value === null || isVerified(value)) return false;
  const error = (value as { error?: unknown }).error;
  return typeof error === 'object' && error !== null && 'code' in error;
}

function combine(findings: readonly Finding[]): TrustVector {
  const vector: TrustVector = {};
  for (const key of VECTOR_KEYS) {
    const value = pickClaim(findings.filter((f) => f.claim === key).map((f) => f.value));
    if (value !== undefined) vector[key] = value;
  }
  return vector;
}

function failureAppraisal(failure: VerificationFailure, policy: Policy): Appraisal {
  const { code, message } = failure.error;
  const tcb = UNRECOGNIZED_TCB.has(code);
  const trustVector: TrustVector = tcb ? { hardware: 97 } : uniformVector(99);
  const violation: Violation = {
    code: 'ERR_VERIFICATION_FAILED',
    field: 'evidence',
    expected: 'verified evidence',
    actual: code,
    message: `evidence failed verification with ${code}: ${message}`,
    tier: 'contraindicated',
    claim: tcb ? 'hardware' : 'instance-identity',
  };
  return Object.freeze({
    platform: failure.platform,
    status: vectorStatus(trustVector),
    trustVector: Object.freeze(trustVector),
    violations: Object.freeze([violation]),
    policyId: policy.id,
    notes: Object.freeze([]),
    verification: Object.freeze({
      verified: false,
      advisoryIds: [],
      collateral: [],
      error: { code, message },
    }),
  });
}

function boundNonce(ctx: CheckContext, violations: readonly Violation[]): Uint8Array | undefined {
  const { nonce } = ctx.expectations;
  if (nonce === undefined || nonce.length < 8 || nonce.length > 64) return undefined;
  return violations.some((v) => BINDING_CODES.has(v.code)) ? undefined : nonce;
}

function appraiseVerified(evidence: VerifiedEvidence, policy: Policy, e: Expectations): Appraisal {
  const ctx: CheckContext = { evidence, policy, expectations: e, notes: [] };
  const checks = checksOf(getPlatform(evidence.platform).checks);
  const findings = checks.flatMap((check) => check(ctx));
  const trustVector = combine(findings);
  const violations = findings.flatMap((f) => (f.violation ? [f.violation] : []));
  const nonce = boundNonce(ctx, violations);
  const shim = evidence.platform === 'tdx' ? evidence.claims.shim : undefined;
  return Object.freeze({
    platform: evidence.platform,
    status: vectorStatus(trustVector),
    trustVector: Object.freeze(trustVector),
    violations: Object.freeze(violations),
    policyId: policy.id,
    notes: Object.freeze(ctx.notes),
    verification: Object.freeze({
      verified: true,
      anchor: evidence.anchor,
      tcbStatus: evidence.tcbStatus,
      advisoryIds: evidence.advisoryIds,
      collateral: evidence.collateral,
      ...(shim !== undefined && { shim }),
    }),
    ...(nonce ? { nonce } : {}),
  });
}

/**
 * Appraises verified evidence (or a verification failure) against a policy and the
 * caller's expectations. Every check runs, so `violations` lists every problem; the status is
 * the worst tier of the trustworthiness vector (EAR §3.1).
 *
 * A {@link VerificationFailure} appraises as contraindicated with every claim 99 (cryptographic
 * validation failed), or hardware 97 when the only failure is an unrecognised TCB level.
 *
 * @throws TypeError when `verified` is neither a failure nor evidence minted by the verify
 *   stage (a forged value), or when the expectations are malformed.
 *
 * @example
 * ```ts
 * const appraisal = appraise(verified, loadPolicy('policy.yaml'), { nonce, jkt });
 * if (appraisal.status !== 'affirming') console.log(appraisal.violations.map((v) => v.message));
 * ```
 */
export function appraise(
  verified: VerifiedEvidence | VerificationFailure,
  policy: Policy,
  expectations: Expectations = {},
): Appraisal {
  if (typeof policy !== 'object' || policy === null || typeof policy.id !== 'string') {
    throw new TypeError('appraise needs a Policy (see loadPolicy and defaultPolicy)');
  }
  if (isFailure(verified)) {
    if (!isPlatformName(verified.platform)) {
      throw new TypeError(`unknown platform ${String(verified.platform)}`);
    }
    return failureAppraisal(verified, policy);
  }
  if (!isVerified(verified)) {
    throw new TypeError('appraise needs VerifiedEvidence minted by the verify stage');
  }
  checkExpectations(expectations);
  return appraiseVerified(verified, policy, expectations);
}
