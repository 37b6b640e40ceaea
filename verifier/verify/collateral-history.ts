/**
 * The newest TDX collateral the verifier has seen, per FMSPC, and the rollback rule built on
 * it: collateral the attester supplies must be at least as recent as that record (compared by
 * `tcbEvaluationDataNumber`, then `issueDate`, for the TCB Info and for the QE identity), so
 * that once a TCB recovery has been seen an attester cannot choose the TCB Info from before it.
 *
 * @internal
 * @module
 */
import { VerificationError } from '../../common/errors.js';
import type { VerifiedEvidence } from './types.js';

/** How recent one signed collateral document is. */
export interface CollateralMark {
  readonly tcbEvaluationDataNumber: number;
  readonly issueDate: Date;
}

/** How recent the TCB Info of one FMSPC and the QE identity used with it are. */
export interface TdxCollateralMarks {
  /** Lowercase hex, 6 bytes. */
  readonly fmspc: string;
  readonly tcbInfo: CollateralMark;
  readonly qeIdentity: CollateralMark;
}

/**
 * Where the newest marks per FMSPC are kept (the store implements it, shared by every
 * instance). `recordTdx` only ever raises a record: each of the two marks is replaced only by
 * a newer one, atomically.
 */
export interface CollateralHistory {
  /** The newest marks seen for `fmspc`, or `undefined` when none were recorded. */
  newestTdx(fmspc: string): Promise<TdxCollateralMarks | undefined>;
  /** Raise the record of `marks.fmspc` to `marks` where they are newer. */
  recordTdx(marks: TdxCollateralMarks, at: Date): Promise<void>;
}

/** Negative when `a` is older than `b`, 0 when equal, positive when newer. */
export function compareMarks(a: CollateralMark, b: CollateralMark): number {
  if (a.tcbEvaluationDataNumber !== b.tcbEvaluationDataNumber) {
    return a.tcbEvaluationDataNumber - b.tcbEvaluationDataNumber;
  }
  return a.issueDate.getTime() - b.issueDate.getTime();
}

function num(details: Readonly<Record<string, unknown>>, key: string): number | undefined {
  const v = details[key];
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

function date(details: Readonly<Record<string, unknown>>, key: string): Date | undefined {
  const v = details[key];
  if (typeof v !== 'string') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The marks of verified TDX evidence (from its details), or `undefined` for other platforms. */
export function tdxMarksOf(verified: VerifiedEvidence): TdxCollateralMarks | undefined {
  if (verified.platform !== 'tdx') return undefined;
  const d = verified.details;
  const fmspc = typeof d.fmspc === 'string' ? d.fmspc.toLowerCase() : undefined;
  const tcbNumber = num(d, 'tcbEvaluationDataNumber');
  const tcbDate = date(d, 'tcbInfoIssueDate');
  const qeNumber = num(d, 'qeIdentityTcbEvaluationDataNumber');
  const qeDate = date(d, 'qeIdentityIssueDate');
  if (!fmspc || tcbNumber === undefined || !tcbDate || qeNumber === undefined || !qeDate) {
    return undefined;
  }
  return {
    fmspc,
    tcbInfo: { tcbEvaluationDataNumber: tcbNumber, issueDate: tcbDate },
    qeIdentity: { tcbEvaluationDataNumber: qeNumber, issueDate: qeDate },
  };
}

function describeMark(m: CollateralMark): string {
  return `tcbEvaluationDataNumber ${m.tcbEvaluationDataNumber}, issueDate ${m.issueDate.toISOString()}`;
}

/**
 * Refuses `marks` when either document is older than the newest seen.
 *
 * @throws {VerificationError} `ERR_COLLATERAL_ROLLBACK` naming the document and both marks.
 * @example
 * ```ts
 * checkNotRolledBack(tdxMarksOf(verified)!, await history.newestTdx(fmspc));
 * ```
 */
export function checkNotRolledBack(
  marks: TdxCollateralMarks,
  newest: TdxCollateralMarks | undefined,
): void {
  if (newest === undefined) return;
  const pairs = [
    [`TCB Info of FMSPC ${marks.fmspc}`, marks.tcbInfo, newest.tcbInfo, 'tcb_info'],
    ['QE identity', marks.qeIdentity, newest.qeIdentity, 'qe_identity'],
  ] as const;
  for (const [what, got, seen, subject] of pairs) {
    if (compareMarks(got, seen) < 0) {
      throw new VerificationError(
        'ERR_COLLATERAL_ROLLBACK',
        `the supplied ${what} (${describeMark(got)}) is older than the newest the verifier ` +
          `has seen (${describeMark(seen)})`,
        `collateral.${subject}`,
      );
    }
  }
}

/** True when `marks` would raise `newest` (or there is none yet). */
export function raisesRecord(
  marks: TdxCollateralMarks,
  newest: TdxCollateralMarks | undefined,
): boolean {
  return (
    newest === undefined ||
    compareMarks(marks.tcbInfo, newest.tcbInfo) > 0 ||
    compareMarks(marks.qeIdentity, newest.qeIdentity) > 0
  );
}
