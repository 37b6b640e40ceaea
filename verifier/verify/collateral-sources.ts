/**
 * The collateral an appraisal used, as the EAR reports it: each piece's kind and SHA-256
 * (from the verify stage), where it came from (from the endorsement collector) and the marks
 * the evidence's wing gives it (`collateralMarks`: for TDX TCB Info and QE identity, its
 * `tcbEvaluationDataNumber` and `issueDate`).
 *
 * @internal
 * @module
 */
import type { Appraisal } from '../appraise/types.js';
import { getPlatform } from '../platforms/registry.js';
import type { CollateralRef, CollateralSource, VerifiedEvidence } from './types.js';

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
  const marks = getPlatform(evidence.platform).collateralMarks(evidence);
  const collateral = evidence.collateral.map((c): CollateralRef =>
    Object.freeze({
      kind: c.kind,
      sha256: c.sha256,
      ...(sources[c.kind] !== undefined && { source: sources[c.kind] }),
      ...(Object.hasOwn(marks, c.kind) && marks[c.kind]),
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
