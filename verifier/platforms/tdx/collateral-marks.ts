/**
 * The marks of the TDX collateral an appraisal used, as the EAR reports them: the TCB
 * evaluation data number and issue date of the TCB Info and of the QE identity, from the
 * verify stage's details.
 *
 * @internal
 * @module
 */
import type { CollateralMark, VerifiedEvidence } from '../../verify/types.js';

function mark(n: unknown, d: unknown): CollateralMark {
  return {
    ...(typeof n === 'number' && { tcbEvaluationDataNumber: n }),
    ...(typeof d === 'string' && { issueDate: d }),
  };
}

/**
 * The marks of `tcb-info` and `qe-identity` (no other kind has any).
 *
 * @example
 * ```ts
 * tdxCollateralMarks(verified)['tcb-info']; // { tcbEvaluationDataNumber: 17, issueDate: '…' }
 * ```
 */
export function tdxCollateralMarks(
  evidence: VerifiedEvidence<'tdx'>,
): Readonly<Record<string, CollateralMark>> {
  const d = evidence.details;
  return {
    'tcb-info': mark(d.tcbEvaluationDataNumber, d.tcbInfoIssueDate),
    'qe-identity': mark(d.qeIdentityTcbEvaluationDataNumber, d.qeIdentityIssueDate),
  };
}
