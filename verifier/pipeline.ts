/**
 * The appraisal pipeline (ARCHITECTURE "The appraisal pipeline"): parse → verify → appraise,
 * kept apart. Parse errors are thrown (the evidence cannot be appraised at all); verification
 * failures become a contraindicated appraisal that says why; appraisal is pure policy.
 *
 * @module
 */
import { EventLogMalformedError, isTwiError } from '../common/errors.js';
import type { AttesterEventLog } from '../wire/messages.js';
import { appraise } from './appraise/appraise.js';
import { defaultPolicy } from './policy/normalize.js';
import type { Appraisal, Expectations } from './appraise/types.js';
import type { Policy } from './policy/types.js';
import type { Tier } from './policy/ar4si.js';
import {
  detectPlatform,
  getPlatform,
  type PlatformCodec,
  type PlatformName,
} from './platforms/registry.js';
import type {
  AnchorStore,
  CollateralSource,
  SuppliedEndorsements,
  TcbStatus,
  VerifiedEvidence,
} from './verify/types.js';
import type { VerificationCache } from './verify/cache.js';
import {
  checkNotRolledBack,
  raisesRecord,
  tdxMarksOf,
  type CollateralHistory,
} from './verify/collateral-history.js';
import { describeCollateral } from './verify/collateral-sources.js';
import { asSupplied, collectEndorsements } from './verify/collect.js';
import type { CrlPolicy, Endorsement, EndorsementProvider } from './verify/endorsement-provider.js';

/** What {@link appraiseEvidence} needs. */
export interface AppraiseEvidenceInput {
  /** Raw evidence bytes (TDX quote, SEV-SNP report, Nitro COSE_Sign1). */
  readonly evidence: Uint8Array;
  /** The platform; detected from the bytes when omitted. */
  readonly platform?: PlatformName;
  readonly endorsements?: SuppliedEndorsements;
  /** The instant every validity window is checked at. */
  readonly now: Date;
  readonly anchors: AnchorStore;
  readonly cache: VerificationCache;
  /** Appraisal policy; {@link defaultPolicy} when omitted. */
  readonly policy?: Policy;
  /** Nonce / REPORT_DATA / key binding the evidence must carry. */
  readonly expectations?: Expectations;
  /**
   * The attester's event log (`readAttestEventLog`): on TDX, one with a CC event log must
   * replay to the quote's RTMR0-3, and the shim's digest becomes the verified `shim` claim.
   */
  readonly eventLog?: AttesterEventLog;
}

/** One error of a report, with its stable code. */
export interface ReportError {
  readonly code: string;
  readonly message: string;
}

/** The outcome of one appraisal, before it is signed into an EAR. */
export interface EvidenceReport {
  readonly platform: PlatformName;
  /** Every signature, chain, CRL and collateral check passed and a TCB level was found. */
  readonly verified: boolean;
  readonly tcbStatus?: TcbStatus;
  readonly advisoryIds: readonly string[];
  /** The overall tier. */
  readonly status: Tier;
  /** The verification error (if any) followed by every policy violation. */
  readonly errors: readonly ReportError[];
  /** The codec's claims (present even when verification failed; then they are unverified). */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly appraisal: Appraisal;
  /** The verified evidence, when verification passed. */
  readonly verifiedEvidence?: VerifiedEvidence;
}

/**
 * Checks the attester's event log against parsed evidence (before anything is verified).
 *
 * @throws {EventLogMalformedError} `ERR_EVENT_LOG_MALFORMED`; a CC event log with evidence of
 *   a platform that has no RTMRs.
 * @throws {EventLogMismatchError} `ERR_EVENT_LOG_MISMATCH`, naming the RTMR.
 *
 * @internal
 */
export function checkEventLog(
  codec: PlatformCodec,
  parsed: unknown,
  log: AttesterEventLog | undefined,
): void {
  if (log === undefined) return;
  if (codec.replayEventLog) return codec.replayEventLog(parsed, log);
  if (log.ccel !== undefined) {
    throw new EventLogMalformedError(`a CC event log does not go with ${codec.platform} evidence`, {
      field: 'event_log.ccel',
    });
  }
}

function codecFor(input: AppraiseEvidenceInput): PlatformCodec {
  return input.platform === undefined
    ? detectPlatform(input.evidence)
    : getPlatform(input.platform);
}

/**
 * Parses, verifies and appraises one piece of evidence.
 *
 * @throws {EvidenceMalformedError | EvidenceUnsupportedError | UnknownPlatformError} when the
 *   bytes, or the SEV-SNP endorsements supplied (VCEK/VLEK, chain, certificate table, CRL),
 *   cannot be parsed; {@link checkEventLog}'s errors for an event log that does not parse or
 *   replay; every later failure is reported in the result instead.
 *
 * @example
 * ```ts
 * const report = appraiseEvidence({ evidence, endorsements: { tdxCollateral }, now: new Date(),
 *   anchors: loadAnchorStore(), cache: createVerificationCache() });
 * if (report.status === 'affirming') issueCredential();
 * ```
 */
export function appraiseEvidence(input: AppraiseEvidenceInput): EvidenceReport {
  const codec = codecFor(input);
  const parsed = codec.parse(input.evidence);
  checkEventLog(codec, parsed, input.eventLog);
  return appraiseParsed(codec, parsed, input, input.endorsements ?? {});
}

/** Options of {@link appraiseEvidenceWithProvider}. @internal */
export interface AppraiseWithProviderInput extends AppraiseEvidenceInput {
  /**
   * Where endorsements come from (PCS, KDS, cache, bundles); they take precedence over
   * `endorsements` (docs/endorsements.md "Collateral precedence"). Without one, the supplied
   * endorsements are used as they are.
   */
  readonly provider?: EndorsementProvider;
  /** `require` (default) or `allow-missing` for an AMD CRL that cannot be had. */
  readonly crlPolicy?: CrlPolicy;
  readonly signal?: AbortSignal;
  /**
   * The newest TDX collateral seen per FMSPC (the service passes its store). Supplied TDX
   * collateral older than the record is refused (`ERR_COLLATERAL_ROLLBACK`); every verified
   * TDX collateral raises the record.
   */
  readonly collateralHistory?: CollateralHistory;
}

/** An {@link EvidenceReport} with the endorsements the provider supplied. @internal */
export interface ProvidedEvidenceReport extends EvidenceReport {
  /** Collateral fetched or served from cache or a bundle, by request and SHA-256. */
  readonly endorsementsUsed: readonly Endorsement[];
  readonly endorsementNotes: readonly string[];
}

/**
 * {@link appraiseEvidence}, with the endorsements the evidence needs decided first: the
 * provider stack's (offline bundle → cache → Intel PCS / AMD KDS) over the attester's, and
 * supplied TDX collateral checked against the newest seen for its FMSPC. The report's
 * `appraisal.verification.collateral` names each piece's source.
 *
 * @throws {EndorsementUnavailableError} (`ERR_ENDORSEMENT_UNAVAILABLE`, retryable) when a
 *   needed endorsement cannot be had; `ERR_ENDORSEMENT_INVALID` when what the services
 *   returned does not verify; store errors from `collateralHistory`; parse errors as
 *   {@link appraiseEvidence}.
 *
 * @example
 * ```ts
 * const report = await appraiseEvidenceWithProvider({ evidence, provider, now: new Date(),
 *   anchors: loadAnchorStore(), cache: createVerificationCache(), collateralHistory: store.collateral });
 * ```
 *
 * @internal
 */
export async function appraiseEvidenceWithProvider(
  input: AppraiseWithProviderInput,
): Promise<ProvidedEvidenceReport> {
  const codec = codecFor(input);
  const parsed = codec.parse(input.evidence);
  checkEventLog(codec, parsed, input.eventLog);
  const supplied = input.endorsements ?? {};
  const collected = input.provider
    ? await collectEndorsements(codec.endorsements, parsed, supplied, {
        provider: input.provider,
        now: input.now,
        ...(input.signal && { signal: input.signal }),
        ...(input.crlPolicy && { crlPolicy: input.crlPolicy }),
      })
    : asSupplied(codec.endorsements, supplied);
  let outcome = verifyParsed(codec, parsed, input, collected.endorsements);
  if (input.collateralHistory && outcome.verified) {
    const fromAttester = collected.sources['tcb-info'] === 'attester';
    outcome = await applyHistory(
      outcome.verified,
      fromAttester,
      input.collateralHistory,
      input.now,
    );
  }
  const report = reportOf(codec, parsed, input, outcome, collected.sources);
  return { ...report, endorsementsUsed: collected.used, endorsementNotes: collected.notes };
}

interface VerifyOutcome {
  readonly verified?: VerifiedEvidence;
  readonly failure?: ReportError;
  /** Evidence that verified but whose collateral was then refused (rollback), for the report. */
  readonly refused?: VerifiedEvidence;
}

function verifyParsed(
  codec: PlatformCodec,
  parsed: unknown,
  input: AppraiseEvidenceInput,
  endorsements: SuppliedEndorsements,
): VerifyOutcome {
  // A supplied endorsement that does not parse is bad input, not a failed verification.
  codec.checkSupplied?.(parsed, endorsements, input.cache);
  const ctx = {
    now: input.now,
    anchors: input.anchors,
    cache: input.cache,
    ...(input.eventLog && { eventLog: input.eventLog }),
  };
  try {
    return { verified: codec.verify(parsed, endorsements, ctx) };
  } catch (err) {
    if (!isTwiError(err)) throw err;
    return { failure: { code: err.code, message: err.message } };
  }
}

/** The rollback check (supplied TDX collateral only) and the record of what was seen. */
async function applyHistory(
  verified: VerifiedEvidence,
  fromAttester: boolean,
  history: CollateralHistory,
  now: Date,
): Promise<VerifyOutcome> {
  const marks = tdxMarksOf(verified);
  if (marks === undefined) return { verified };
  const newest = await history.newestTdx(marks.fmspc);
  if (fromAttester) {
    try {
      checkNotRolledBack(marks, newest);
    } catch (err) {
      if (!isTwiError(err)) throw err;
      const failure = { code: err.code, message: err.message };
      return { failure, refused: verified };
    }
  }
  if (raisesRecord(marks, newest)) await history.recordTdx(marks, now);
  return { verified };
}

function appraiseParsed(
  codec: PlatformCodec,
  parsed: unknown,
  input: AppraiseEvidenceInput,
  endorsements: SuppliedEndorsements,
): EvidenceReport {
  const outcome = verifyParsed(codec, parsed, input, endorsements);
  return reportOf(codec, parsed, input, outcome, codec.endorsements.suppliedSources);
}

function reportOf(
  codec: PlatformCodec,
  parsed: unknown,
  input: AppraiseEvidenceInput,
  outcome: VerifyOutcome,
  sources?: Readonly<Record<string, CollateralSource>>,
): EvidenceReport {
  const policy = input.policy ?? defaultPolicy();
  const { verified, failure } = outcome;
  const appraised = verified
    ? appraise(verified, policy, input.expectations)
    : appraise({ platform: codec.platform, error: failure! }, policy, input.expectations);
  const appraisal = sources
    ? describeCollateral(appraised, verified ?? outcome.refused, sources)
    : appraised;
  const errors: ReportError[] = [
    ...(failure ? [failure] : []),
    // The appraisal restates a verification failure as a violation; report it once.
    ...appraisal.violations
      .filter((v) => !failure || v.code !== 'ERR_VERIFICATION_FAILED')
      .map((v) => ({ code: v.code, message: v.message })),
  ];
  return {
    platform: codec.platform,
    verified: verified !== undefined,
    ...(verified?.tcbStatus !== undefined && { tcbStatus: verified.tcbStatus }),
    advisoryIds: verified?.advisoryIds ?? [],
    status: appraisal.status,
    errors,
    claims: verified?.claims ?? codec.claims(parsed),
    appraisal,
    ...(verified && { verifiedEvidence: verified }),
  };
}
