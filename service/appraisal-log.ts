/**
 * The recent appraisals of one service instance, for `GET /v1/admin/appraisals`: a bounded
 * in-memory ring (oldest dropped first) filled by `POST /v1/attest` and `POST /v1/appraise`,
 * refusals included. It is not shared between instances and starts empty at each start; the
 * issued credentials themselves are in the store (`GET /v1/admin/credentials`).
 *
 * @internal
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { EvidenceReport } from '../verifier/pipeline.js';
import { problemFor } from './problem.js';

/** Default capacity of the ring. */
export const APPRAISAL_LOG_SIZE = 500;

/** One reason an appraisal was not `affirming`, or why the request was refused. */
export interface AppraisalViolation {
  readonly code: string;
  readonly message: string;
}

/** One entry of `GET /v1/admin/appraisals`. */
export interface AppraisalEntry {
  /** Random id of the entry. */
  readonly id: string;
  /** When the request was answered (ISO 8601). */
  readonly at: string;
  /** `attest` or `appraise`: the route that appraised. */
  readonly route: 'attest' | 'appraise';
  /** The evidence's platform (`tdx`, `sev-snp`, …); `unknown` when the CMW did not decode. */
  readonly platform: string;
  /** The appraisal tier; `none` when the request was refused before an appraisal. */
  readonly status: 'affirming' | 'warning' | 'contraindicated' | 'none';
  readonly tcb_status?: string;
  /** The report's errors (verification failure, policy violations), then the refusal if any. */
  readonly violations: readonly AppraisalViolation[];
  readonly workload_id?: string;
  /** The `jti` of the issued credential. */
  readonly jti?: string;
  /** The signed EAR (compact JWS), when one was signed. */
  readonly ear?: string;
  /** The HTTP status answered. */
  readonly http_status: number;
}

/**
 * What a request handler learns while it runs (`attest.ts` fills it step by step), so an entry
 * can be written whether the request succeeds or fails.
 */
export interface AppraisalTrace {
  platform?: string;
  report?: EvidenceReport;
  ear?: string;
  workloadId?: string;
  jti?: string;
}

/** A bounded ring of {@link AppraisalEntry}. */
export interface AppraisalLog {
  /** Appends an entry built from `trace` and, for a refusal, the error thrown. */
  record(route: AppraisalEntry['route'], trace: AppraisalTrace, err?: unknown): void;
  /** At most `limit` entries, newest first. */
  recent(limit: number): AppraisalEntry[];
  /** How many entries are held. */
  readonly size: number;
}

/** The problem the client got for `err` (`problem.ts`), as a violation. */
function refusal(err: unknown): { status: number; violation: AppraisalViolation } {
  const p = problemFor(err);
  return { status: p.status, violation: { code: p.code, message: p.detail } };
}

/** Builds one entry (exported for the tests). */
export function appraisalEntry(
  route: AppraisalEntry['route'],
  trace: AppraisalTrace,
  at: Date,
  err?: unknown,
): AppraisalEntry {
  const report = trace.report;
  const violations: AppraisalViolation[] = (report?.errors ?? []).map((e) => ({
    code: e.code,
    message: e.message,
  }));
  let httpStatus = 200;
  if (err !== undefined) {
    const r = refusal(err);
    httpStatus = r.status;
    // A tier refusal repeats the report's errors in its detail: the code is enough.
    if (!violations.some((v) => v.code === r.violation.code)) violations.push(r.violation);
  }
  return {
    id: randomUUID(),
    at: at.toISOString(),
    route,
    platform: report?.platform ?? trace.platform ?? 'unknown',
    status: report?.status ?? 'none',
    ...(report?.tcbStatus !== undefined && { tcb_status: String(report.tcbStatus) }),
    violations,
    ...(trace.workloadId !== undefined && { workload_id: trace.workloadId }),
    ...(trace.jti !== undefined && { jti: trace.jti }),
    ...(trace.ear !== undefined && { ear: trace.ear }),
    http_status: httpStatus,
  };
}

/**
 * A ring holding the newest `capacity` entries.
 *
 * @example
 * ```ts
 * const log = createAppraisalLog({ now: () => new Date() });
 * log.record('appraise', { platform: 'tdx' }, new ProblemError(400, 'ERR_X', 'bad'));
 * log.recent(10)[0].violations; // [{ code: 'ERR_X', message: 'bad' }]
 * ```
 */
export function createAppraisalLog(
  options: { now?: () => Date; capacity?: number } = {},
): AppraisalLog {
  const capacity = options.capacity ?? APPRAISAL_LOG_SIZE;
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError('the appraisal log capacity must be a positive integer');
  }
  const now = options.now ?? (() => new Date());
  const ring: AppraisalEntry[] = [];
  return {
    record(route, trace, err) {
      ring.push(appraisalEntry(route, trace, now(), err));
      if (ring.length > capacity) ring.splice(0, ring.length - capacity);
    },
    recent(limit) {
      return ring.slice(-limit).reverse();
    },
    get size() {
      return ring.length;
    },
  };
}
