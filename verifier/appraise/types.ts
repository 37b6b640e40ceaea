/**
 * What {@link appraise} (module `./appraise.js`) takes and returns.
 *
 * @module
 */
import type { AnchorInfo, CollateralRef, PlatformName, TcbStatus } from '../verify/types.js';
import type { Tier, TrustVector, VectorKey } from '../policy/ar4si.js';

/** The platform names of evidence. */
export type Platform = PlatformName;

/** The outcome of a verification that did not produce {@link VerifiedEvidence}. */
export interface VerificationFailure {
  readonly platform: Platform;
  readonly error: { readonly code: string; readonly message: string };
}

/** What the relying party expects the evidence to be bound to. */
export interface Expectations {
  /** The verifier nonce the evidence must carry (TDX/SNP REPORT_DATA, Nitro `nonce`). */
  readonly nonce?: Uint8Array;
  /** Exact REPORT_DATA (TDX/SNP) or `user_data` (Nitro); zero-padded to 64 bytes for TDX/SNP. */
  readonly reportData?: Uint8Array;
  /** RFC 7638 SHA-256 thumbprint of the workload key bound with the nonce (`bindingReportData`). */
  readonly jkt?: Uint8Array;
}

/** A JSON value, for the expected and actual sides of a violation. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[];

/** Stable codes of policy violations. */
export type ViolationCode =
  | 'ERR_VERIFICATION_FAILED'
  | 'ERR_PLATFORM_NOT_ALLOWED'
  | 'ERR_DEBUG_ENABLED'
  | 'ERR_TCB_STATUS'
  | 'ERR_TCB_TOO_LOW'
  | 'ERR_REFERENCE_MISMATCH'
  | 'ERR_POLICY_BIT'
  | 'ERR_ATTRIBUTES_MISMATCH'
  | 'ERR_VMPL_NOT_ALLOWED'
  | 'ERR_SVN_TOO_LOW'
  | 'ERR_CLAIM_MISSING'
  | 'ERR_NONCE_MISMATCH'
  | 'ERR_REPORT_DATA_MISMATCH'
  | 'ERR_PUBLIC_KEY_MISMATCH'
  | 'ERR_COLLATERAL_BELOW_MINIMUM';

/** One way the evidence falls short of the policy. */
export interface Violation {
  readonly code: ViolationCode;
  /** The spec name of the field, e.g. `MRTD`, `POLICY.MIGRATE_MA`, `PCR0`, `REPORTED_TCB.SNP`. */
  readonly field: string;
  readonly expected: JsonValue;
  readonly actual: JsonValue;
  /** Names the field, the actual and the expected value. */
  readonly message: string;
  /** The tier this violation puts its trustworthiness claim in. */
  readonly tier: Exclude<Tier, 'none' | 'affirming'>;
  /** The trustworthiness claim it lowers. */
  readonly claim: VectorKey;
}

/** What the verify stage established, carried into the EAR. */
export interface VerificationSummary {
  readonly verified: boolean;
  readonly anchor?: AnchorInfo;
  readonly tcbStatus?: TcbStatus;
  readonly advisoryIds: readonly string[];
  readonly collateral: readonly CollateralRef[];
  readonly error?: { readonly code: string; readonly message: string };
  /** TDX: the shim digest the event log replayed to (the verified `shim` claim). */
  readonly shim?: string;
}

/** The appraisal of one piece of evidence (one EAR submodule). */
export interface Appraisal {
  readonly platform: Platform;
  /** The worst tier across {@link Appraisal.trustVector}. */
  readonly status: Tier;
  readonly trustVector: Readonly<TrustVector>;
  /** Every violation found, in check order. */
  readonly violations: readonly Violation[];
  readonly policyId: string;
  /** Things worth knowing that are not violations (skipped checks, simulated anchors). */
  readonly notes: readonly string[];
  readonly verification: VerificationSummary;
  /** The nonce the evidence was shown to carry (8–64 bytes), for the submodule's `eat_nonce`. */
  readonly nonce?: Uint8Array;
}
