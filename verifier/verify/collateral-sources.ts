/**
 * The collateral an appraisal used, as the EAR reports it: each piece's kind and SHA-256
 * (from the verify stage), where it came from (from the endorsement collector) and, for TDX
 * TCB Info and QE identity, its `tcbEvaluationDataNumber` and `issueDate`.
 *
 * @module
 */
import type { Appraisal } from '../appraise/types.js';
import type { CollateralRef, CollateralSource, VerifiedEvidence } from './types.js';

function tdxMark(
  kind: string,
  details: Readonly<Record<string, unknown>>,
): Pick<CollateralRef, 'tcbEvaluationDataNumber' | 'issueDate'> {
  const [n, d] =
    kind === 'tcb-info'
      ? [details.tcbEvaluationDataNumber, details.tcbInfoIssueDate]
      : kind === 'qe-identity'
        ? [details.qeIdentityTcbEvaluationDataNumber, details.qeIdentityIssueDate]
        : [undefined, undefined];
  return {
    ...(typeof n === 'number' && { tcbEvaluationDataNumber: n }),
    ...(typeof d === 'string' && { issueDate: d }),
  };
}

/**
 * `appraisal` with `verification.collateral` naming every piece of `evidence`'s collateral
 * with its source. A failed appraisal lists the collateral of `evidence` when there is one
 * (collateral that verified and was then refused, e.g. a rollback), else none.
 *
 * @example
 * ```ts
 * const described = describeCollateral(appraisal, verified, { 'tcb-info': 'pcs' });
 * described.verification.collateral[1]; // { kind: 'tcb-info', sha256, source: 'pcs', ... }
 * ```
 */
export function describeCollateral(
  appraisal: Appraisal,
  evidence: VerifiedEvidence | undefined,
  sources: Readonly<Record<string, CollateralSource>>,
): Appraisal {
  if (evidence === undefined) return appraisal;
  const collateral = evidence.collateral.map((c): CollateralRef =>
    Object.freeze({
      kind: c.kind,
      sha256: c.sha256,
      ...(sources[c.kind] !== undefined && { source: sources[c.kind] }),
      ...(evidence.platform === 'tdx' && tdxMark(c.kind, evidence.details)),
    }),
  );
  return Object.freeze({
    ...appraisal,
    verification: Object.freeze({
      ...appraisal.verification,
      collateral: Object.freeze(collateral),
    }),
  });
}
