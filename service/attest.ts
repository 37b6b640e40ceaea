/**
 * The passport-model exchange (ARCHITECTURE "Data flow"): nonce consumption, appraisal, EAR
 * signing, WIT issuance and the ledger write, in that order; and the background-check
 * appraisal that only returns an EAR.
 *
 * @internal
 * @module
 */
import { createHash, type JsonWebKey } from 'node:crypto';
import type { Expectations } from '../verifier/appraise/types.js';
import type { Policy } from '../verifier/policy/types.js';
import { jwkThumbprint } from '../wire/binding.js';
import { buildEar } from '../verifier/ear/claims.js';
import { signEar } from '../verifier/ear/jwt.js';
import type { EarProfile } from '../verifier/ear/profiles.js';
import { toVeraisonEar } from '../verifier/ear/veraison.js';
import { appraiseEvidenceWithProvider, checkEventLog } from '../verifier/pipeline.js';
import type { EvidenceReport, ProvidedEvidenceReport } from '../verifier/pipeline.js';
import type { Store } from './store/types.js';
import type { VerificationCache } from '../verifier/verify/cache.js';
import type { AnchorStore } from '../verifier/verify/types.js';
import { cnfAlgAllowedFor, issueWit, WIT_SVID_ALGS } from '../wimse/wit.js';
import { tokenHash } from '../wimse/jws.js';
import type { CachingProvider } from '../endorsements/provider/caching.js';
import type { EndorsementProvider } from '../verifier/verify/endorsement-provider.js';
import { decodeEvidenceCmw } from '../wire/cmw.js';
import { readAttestEventLog, type AttesterEventLog } from '../wire/messages.js';
import type {
  AppraiseRequest,
  AppraiseResponse,
  AttestRequest,
  AttestResponse,
} from '../wire/messages.js';
import { platforms, platformForMediaType } from '../verifier/platforms/registry.js';
import type { PlatformCodec } from '../verifier/platforms/registry.js';
import type { SuppliedEndorsements } from '../verifier/verify/types.js';
import type { ServiceSigningKey } from './keys.js';
import { refuseRevokedBuild } from './build-revocation.js';
import type { ServiceMetrics } from './metrics.js';
import type { ProvenanceService } from './provenance.js';
import { ProblemError } from './problem.js';
import {
  assignIdentity,
  identityRecord,
  TWI_IDENTITY_CLAIM,
  type IdentityAssignment,
} from './identity.js';
import { checkWorkloadKey } from './workload-key.js';
import type { AppraisalTrace } from './appraisal-log.js';
import type { JsonValue } from '../common/json.js';
import { checkCsr, checkRequestedUri, type CheckedCsr } from './ca/csr.js';
import { CaError, CsrError } from './ca/errors.js';
import { earDigest as earSha256, issueWorkloadCertificate } from './ca/profile.js';
import type { ServiceCa } from './ca-keys.js';

export { checkWorkloadKey } from './workload-key.js';

/** The verifier identity written into every EAR the service signs. */
export const SERVICE_VERIFIER_ID = { developer: 'https://twi.dev', build: 'twi 0.1.0 service' };

/** What the request handlers share. */
export interface AttestContext {
  readonly store: Store;
  readonly anchors: AnchorStore;
  readonly cache: VerificationCache;
  readonly policy?: Policy;
  readonly provider?: EndorsementProvider;
  readonly key: ServiceSigningKey;
  readonly trustDomain: string;
  /** The service's issuer URL, the `iss` of every WIT; none when unset. */
  readonly issuer?: string;
  readonly witLifetimeSeconds: number;
  readonly issueOnWarning: boolean;
  /** The EAR profile answered when a request names none (`draft` by default). */
  readonly earProfile?: EarProfile;
  readonly metrics: ServiceMetrics;
  /** Supply-chain records and the transparency log (`docs/provenance.md`). */
  readonly provenance: ProvenanceService;
  /** Lifetime of issued X.509 workload certificates, seconds. */
  readonly certLifetimeSeconds: number;
  /** The CA that signs workload certificates now (renewed when near its end). */
  currentCa(): Promise<ServiceCa>;
  now(): Date;
}

/** An evidence upload taken apart: the platform's codec, the evidence, what came with it. */
interface ParsedCmw {
  readonly codec: PlatformCodec;
  readonly evidence: Uint8Array;
  readonly endorsements: SuppliedEndorsements;
}

const REGISTERED_EVIDENCE_TYPES = platforms.flatMap((p) => p.mediaTypes);

/**
 * Decodes the evidence collection of a request (`wire/cmw.ts`) for the registered platforms.
 *
 * @throws {WireError} an `ERR_CMW_*` code (`wire/cmw-codec.ts`, `wire/cmw.ts`), answered as 400.
 */
function parseEvidenceCmw(cmw: unknown): ParsedCmw {
  const { evidence, endorsements } = decodeEvidenceCmw(cmw, {
    evidenceMediaTypes: REGISTERED_EVIDENCE_TYPES,
  });
  // Accepted above, so registered (compared by essence: parameters do not pick the platform).
  const codec = platformForMediaType(evidence.essence)!;
  return { codec, evidence: evidence.bytes, endorsements };
}

const NONCE_PROBLEMS = {
  unknown: [400, 'ERR_NONCE_UNKNOWN', 'the nonce was not issued by this verifier (or was purged)'],
  expired: [400, 'ERR_NONCE_EXPIRED', 'the nonce has expired; ask for a new challenge'],
  used: [409, 'ERR_NONCE_REUSED', 'the nonce was already used'],
} as const;

/** Consumes `nonce` atomically; returns its bytes or throws the matching problem. */
export async function consumeNonce(store: Store, nonce: string, now: Date): Promise<Uint8Array> {
  const result = await store.nonces.consume(nonce, now);
  if (result !== 'ok') {
    const [status, code, detail] = NONCE_PROBLEMS[result];
    throw new ProblemError(status, code, detail);
  }
  return new Uint8Array(Buffer.from(nonce, 'base64url'));
}

async function runAppraisal(
  ctx: AttestContext,
  cmw: ParsedCmw,
  expectations: Expectations,
  eventLog?: AttesterEventLog,
): Promise<ProvidedEvidenceReport> {
  const input = {
    evidence: cmw.evidence,
    platform: cmw.codec.platform,
    endorsements: cmw.endorsements,
    now: ctx.now(),
    anchors: ctx.anchors,
    cache: ctx.cache,
    expectations,
    ...(ctx.policy && { policy: ctx.policy }),
    ...(eventLog && { eventLog }),
  };
  try {
    // The provider's collateral wins over the attester's; supplied TDX collateral is held
    // against the newest seen per FMSPC (docs/service.md "Collateral precedence").
    const report = await appraiseEvidenceWithProvider({
      ...input,
      ...(ctx.provider && { provider: ctx.provider }),
      collateralHistory: ctx.store.collateral,
    });
    ctx.metrics.recordAppraisal(report.platform, report.status);
    return report;
  } catch (err) {
    ctx.metrics.recordAppraisal(cmw.codec.platform, 'error');
    throw err;
  }
}

/** The identity of verified evidence (`identity.ts`); none for unverified evidence. */
function identityOf(
  ctx: AttestContext,
  report: EvidenceReport,
  workload?: string,
  agent?: AttestRequest['agent'],
): IdentityAssignment | undefined {
  const evidence = report.verifiedEvidence;
  if (!evidence) return undefined;
  return assignIdentity({
    trustDomain: ctx.trustDomain,
    policy: ctx.policy,
    platform: report.platform,
    evidence,
    ...(workload !== undefined && { workload }),
    ...(agent && { agent }),
  });
}

async function signReport(
  ctx: AttestContext,
  report: EvidenceReport,
  nonce: Uint8Array | undefined,
  identity: IdentityAssignment | undefined,
  profile: EarProfile,
): Promise<string> {
  const ear = buildEar({
    appraisals: { [report.platform]: report.appraisal },
    verifierId: SERVICE_VERIFIER_ID,
    iat: Math.floor(ctx.now().getTime() / 1000),
    ...(nonce && { nonce }),
    ...(identity && { extensions: { [TWI_IDENTITY_CLAIM]: identityRecord(identity) } }),
  });
  const claims = profile === 'veraison' ? toVeraisonEar(ear) : ear;
  return signEar(claims, { key: ctx.key.privateKey, alg: ctx.key.alg, kid: ctx.key.kid });
}

/** 403 unless the tier allows a credential. */
function checkTier(ctx: AttestContext, report: EvidenceReport, ear: string): void {
  const errors = report.errors;
  if (report.status === 'affirming') return;
  if (report.status === 'warning' && ctx.issueOnWarning) return;
  const code =
    report.status === 'warning' ? 'ERR_APPRAISAL_WARNING' : 'ERR_APPRAISAL_CONTRAINDICATED';
  const reasons = errors.map((e) => e.code).join(', ');
  throw new ProblemError(403, code, `appraisal is ${report.status}: ${reasons || 'no detail'}`, {
    ear,
    errors,
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

/** What the ledger and the log keep of an issued certificate. */
interface X509Record {
  /** Serial number, lowercase hex. */
  readonly serial: string;
  /** The issuing CA's store id. */
  readonly ca: string;
  readonly not_after: string;
  /** SHA-256 of the certificate DER, base64url. */
  readonly sha256: string;
}

function ledgerRecord(
  report: EvidenceReport,
  jkt: Uint8Array,
  identity: IdentityAssignment,
  x509?: X509Record,
): JsonValue {
  return JSON.parse(
    JSON.stringify({
      status: report.status,
      platform: report.platform,
      tcb_status: report.tcbStatus ?? null,
      advisory_ids: report.advisoryIds,
      claims: report.claims,
      jkt: Buffer.from(jkt).toString('base64url'),
      identity: identityRecord(identity),
      ...(x509 && { x509 }),
    }),
  ) as JsonValue;
}

/** The identity with the `sub` to issue, or the refusal (403 with the EAR). */
function grantedIdentity(
  identity: IdentityAssignment | undefined,
  ear: string,
): IdentityAssignment & { readonly sub: string } {
  if (identity?.sub !== undefined) return { ...identity, sub: identity.sub };
  const r = identity?.refused;
  // A credential is only issued for verified evidence, which always has an identity.
  if (!r) throw new ProblemError(403, 'ERR_APPRAISAL_CONTRAINDICATED', 'evidence not verified');
  throw new ProblemError(r.status, r.code, r.detail, { ear });
}

/**
 * 400 `ERR_KEY_NOT_ALLOWED` when the WIT for `sub` cannot carry the workload key: a
 * `spiffe://` subject makes the WIT a WIT-SVID, whose `cnf.jwk.alg` must be one of
 * {@link WIT_SVID_ALGS} (SPIFFE WIT-SVID §3.2), so an Ed25519 (EdDSA) key is refused there.
 */
export function checkKeyForSubject(sub: string, alg: string): void {
  if (cnfAlgAllowedFor(sub, alg)) return;
  throw new ProblemError(
    400,
    'ERR_KEY_NOT_ALLOWED',
    `a WIT-SVID (${sub}) cannot bind a ${alg} key: SPIFFE WIT-SVID §3.2 allows cnf.jwk.alg ` +
      `${WIT_SVID_ALGS.join(', ')}; attest with an EC P-256, P-384 or P-521 key`,
  );
}

/**
 * Refuses a key no WIT of this service could carry, before the nonce is spent: unless a
 * registration issues a `wimse://` identifier, every subject is a SPIFFE ID.
 */
function checkKeyEarly(ctx: AttestContext, alg: string): void {
  const wimse = ctx.policy?.registrations.some((r) => r.identifier.startsWith('wimse:'));
  if (!wimse) checkKeyForSubject(`spiffe://${ctx.trustDomain}`, alg);
}

/** Checks the request's CSR (if any) against the bound key; a refusal is a 4xx problem. */
function checkRequestCsr(csr: string | undefined, key: JsonWebKey): CheckedCsr | undefined {
  if (csr === undefined) return undefined;
  try {
    return checkCsr(csr, { key });
  } catch (err) {
    throw csrProblem(err);
  }
}

function csrProblem(err: unknown): unknown {
  if (err instanceof CaError) return new ProblemError(503, err.code, err.message);
  if (!(err instanceof CsrError)) return err;
  return new ProblemError(err.code === 'ERR_CSR_TOO_LARGE' ? 413 : 400, err.code, err.message);
}

/**
 * `POST /v1/attest`: validates the CMW and key, consumes the nonce (before appraisal, so a
 * replay cannot race), appraises with the binding expectations, signs the EAR, and when the
 * tier allows it issues a WIT (and, for a `csr`, an X.509 workload certificate carrying the same
 * `jti`) and commits the ledger record and its transparency-log leaf (with any `supply_chain`
 * records) before answering. An `event_log` is read and, on TDX, replayed against the quote's
 * RTMRs before the nonce is consumed (`ERR_EVENT_LOG_*`, 400). A `csr` is checked before anything is written (its SAN against
 * the assigned identifier once that is known, still before the first write after the nonce);
 * so is the workload key's type against the WIT-SVID profile (`ERR_KEY_NOT_ALLOWED`: before the
 * nonce unless a `wimse://` registration exists, else against the assigned identifier).
 *
 * `trace` (for the admin appraisal log) is filled in as the steps complete.
 *
 * @throws {ProblemError} for every refusal (see `docs/service.md`).
 */
export async function attest(
  ctx: AttestContext,
  body: AttestRequest,
  earProfile: EarProfile = ctx.earProfile ?? 'draft',
  trace: AppraisalTrace = {},
): Promise<AttestResponse> {
  const cmw = parseEvidenceCmw(body.evidence);
  trace.platform = cmw.codec.platform;
  // An event log that does not parse or replay is refused before anything is written.
  const eventLog = readAttestEventLog(body.event_log);
  if (eventLog) checkEventLog(cmw.codec, cmw.codec.parse(cmw.evidence), eventLog);
  const workloadKey = checkWorkloadKey(body.key);
  checkKeyEarly(ctx, workloadKey.alg);
  const jkt = jwkThumbprint(workloadKey.jwk as JsonWebKey);
  const supplied = ctx.provenance.checkSupplied(body.supply_chain, ctx.now());
  const csr = checkRequestCsr(body.csr, workloadKey.jwk as JsonWebKey);
  const nonce = await consumeNonce(ctx.store, body.nonce, ctx.now());
  const report = await runAppraisal(ctx, cmw, { nonce, jkt }, eventLog);
  trace.report = report;
  const identity = identityOf(ctx, report, body.workload, body.agent);
  const ear = await signReport(ctx, report, nonce, identity, earProfile);
  trace.ear = ear;
  checkTier(ctx, report, ear);
  const granted = grantedIdentity(identity, ear);
  const sub = granted.sub;
  trace.workloadId = sub;
  checkKeyForSubject(sub, workloadKey.alg);
  if (csr) {
    try {
      checkRequestedUri(csr.requestedUri, sub);
    } catch (err) {
      throw csrProblem(err);
    }
  }
  // A CA that cannot issue is the service's fault (503), not the workload's.
  const ca =
    csr && (await ctx.currentCa().catch((err: unknown) => Promise.reject(csrProblem(err))));
  const now = ctx.now();
  const earDigest = tokenHash(ear);
  // A revoked build is refused before the WIT is signed; supplied records count for the check.
  for (const record of supplied) await ctx.provenance.store(record, now, true);
  await refuseRevokedBuild(ctx.store, report.platform, report.claims);
  const { wit, jti, exp } = await issueWit({
    sub,
    cnfJwk: workloadKey.jwk,
    cnfKey: workloadKey.key,
    key: ctx.key,
    ...(ctx.issuer !== undefined && { iss: ctx.issuer }),
    lifetimeSeconds: ctx.witLifetimeSeconds,
    now,
    earDigest,
  });
  trace.jti = jti;
  const cert =
    csr &&
    ca &&
    (await issueWorkloadCertificate(ca.ca, {
      publicKey: csr.publicKey,
      workloadId: sub,
      jti,
      earSha256: earSha256(ear),
      lifetimeSeconds: ctx.certLifetimeSeconds,
      now,
    }).catch((err: unknown) => Promise.reject(csrProblem(err))));
  const x509 = cert && {
    serial: cert.serial,
    ca: ca.kid,
    not_after: cert.notAfter.toISOString(),
    sha256: sha256(cert.der),
  };
  const credential = {
    jti,
    sub,
    iat: Math.floor(now.getTime() / 1000),
    exp,
    kid: ctx.key.kid,
    platform: report.platform,
    earDigest,
    evidenceDigest: sha256(cmw.evidence),
    record: ledgerRecord(report, jkt, granted, x509),
    ...(x509 && { serial: x509.serial }),
  };
  // The credential, its transparency-log leaf and its index entries commit together.
  await ctx.provenance.commit(credential, {
    ...credential,
    claims: report.claims,
    collateral: report.appraisal.verification.collateral,
    ...(ctx.policy && { policy: ctx.policy }),
    identity: identityRecord(granted) as JsonValue,
  });
  // The endorsements behind an issued credential may not be evicted by unconfirmed ones.
  (ctx.provider as Partial<CachingProvider> | undefined)?.confirm?.(
    report.endorsementsUsed.map((e) => e.request),
  );
  return {
    ear,
    wit,
    expires_at: new Date(exp * 1000).toISOString(),
    ...(cert && {
      x509: { chain: cert.chain.map((der) => Buffer.from(der).toString('base64url')) },
    }),
  };
}

/**
 * `POST /v1/appraise` (background-check model): appraises and returns the EAR whatever the
 * tier; consumes and checks the nonce only when one is given. No credential is issued.
 * `trace` is filled in like {@link attest}'s.
 */
export async function appraiseOnly(
  ctx: AttestContext,
  body: AppraiseRequest,
  earProfile: EarProfile = ctx.earProfile ?? 'draft',
  trace: AppraisalTrace = {},
): Promise<AppraiseResponse> {
  const cmw = parseEvidenceCmw(body.evidence);
  trace.platform = cmw.codec.platform;
  const nonce =
    body.nonce === undefined ? undefined : await consumeNonce(ctx.store, body.nonce, ctx.now());
  const report = await runAppraisal(ctx, cmw, nonce ? { nonce } : {});
  trace.report = report;
  const identity = identityOf(ctx, report);
  if (identity?.sub !== undefined) trace.workloadId = identity.sub;
  trace.ear = await signReport(ctx, report, nonce, identity, earProfile);
  return { ear: trace.ear };
}
