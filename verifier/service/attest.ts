/**
 * The passport-model exchange (ARCHITECTURE "Data flow"): nonce consumption, appraisal, EAR
 * signing, WIT issuance and the ledger write, in that order; and the background-check
 * appraisal that only returns an EAR.
 *
 * @module
 */
import { createHash, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Expectations, Policy } from '../appraise/index.js';
import { jwkThumbprint } from '../binding.js';
import { buildEar, signEar } from '../ear/index.js';
import { appraiseEvidenceWithProvider } from '../pipeline.js';
import type { EvidenceReport } from '../pipeline.js';
import type { JsonValue, Store } from '../store/index.js';
import type { VerificationCache } from '../verify/cache.js';
import type { AnchorStore } from '../verify/types.js';
import { importPublicJwk, isJwsAlg, issueWit, keyFitsAlg, tokenHash } from '../wimse/index.js';
import type { EndorsementProvider } from '../../endorsements/provider/types.js';
import { parseEvidenceCmw, type ParsedCmw } from './cmw.js';
import type { ServiceSigningKey } from './keys.js';
import { refuseRevokedBuild } from './build-revocation.js';
import type { ServiceMetrics } from './metrics.js';
import type { ProvenanceService } from './provenance.js';
import { ProblemError } from './problem.js';
import { workloadSubject } from './subject.js';

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
  readonly witLifetimeSeconds: number;
  readonly issueOnWarning: boolean;
  readonly metrics: ServiceMetrics;
  /** Supply-chain records and the transparency log (`docs/provenance.md`). */
  readonly provenance: ProvenanceService;
  now(): Date;
}

/** Body of `POST /v1/attest` (after schema validation). */
export interface AttestRequest {
  readonly nonce: string;
  readonly evidence: unknown;
  readonly key: Record<string, unknown>;
  readonly workload?: string;
  /** DSSE envelopes or `{ corim }` the attester vouches for (`docs/provenance.md`). */
  readonly supply_chain?: unknown;
}

/** Body of `POST /v1/appraise` (after schema validation). */
export interface AppraiseRequest {
  readonly evidence: unknown;
  readonly nonce?: string;
}

/** Answer of a successful attestation. */
export interface AttestResponse {
  readonly ear: string;
  readonly wit: string;
  readonly expires_at: string;
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

/**
 * Checks the workload key: a public JWK whose `alg` is an accepted JWS algorithm. Returns it
 * imported, so later steps (the WIT's `cnf` check) do not import it again.
 */
export function checkWorkloadKey(jwk: Record<string, unknown>): KeyObject {
  const bad = (detail: string): ProblemError => new ProblemError(400, 'ERR_KEY_INVALID', detail);
  if (!isJwsAlg(jwk.alg)) throw bad('key.alg must be ES256, ES384, ES512 or EdDSA');
  if ('d' in jwk) throw bad('key must be a public JWK');
  let key: KeyObject;
  try {
    key = importPublicJwk(jwk);
  } catch {
    throw bad('key is not a valid public JWK');
  }
  if (!keyFitsAlg(key, jwk.alg)) throw bad(`key is not a ${jwk.alg} key`);
  return key;
}

async function runAppraisal(
  ctx: AttestContext,
  cmw: ParsedCmw,
  expectations: Expectations,
): Promise<EvidenceReport> {
  const input = {
    evidence: cmw.evidence,
    platform: cmw.codec.platform,
    endorsements: cmw.endorsements,
    now: ctx.now(),
    anchors: ctx.anchors,
    cache: ctx.cache,
    expectations,
    ...(ctx.policy && { policy: ctx.policy }),
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

async function signReport(
  ctx: AttestContext,
  report: EvidenceReport,
  nonce: Uint8Array | undefined,
): Promise<string> {
  const ear = buildEar({
    appraisals: { [report.platform]: report.appraisal },
    verifierId: SERVICE_VERIFIER_ID,
    iat: Math.floor(ctx.now().getTime() / 1000),
    ...(nonce && { nonce }),
  });
  return signEar(ear, { key: ctx.key.privateKey, alg: ctx.key.alg, kid: ctx.key.kid });
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

function ledgerRecord(report: EvidenceReport, jkt: Uint8Array): JsonValue {
  return JSON.parse(
    JSON.stringify({
      status: report.status,
      platform: report.platform,
      tcb_status: report.tcbStatus ?? null,
      advisory_ids: report.advisoryIds,
      claims: report.claims,
      jkt: Buffer.from(jkt).toString('base64url'),
    }),
  ) as JsonValue;
}

/**
 * `POST /v1/attest`: validates the CMW and key, consumes the nonce (before appraisal, so a
 * replay cannot race), appraises with the binding expectations, signs the EAR, and when the
 * tier allows it issues a WIT and commits the ledger record and its transparency-log leaf
 * (with any `supply_chain` records) before answering.
 *
 * @throws {ProblemError} for every refusal (see `docs/service.md`).
 */
export async function attest(ctx: AttestContext, body: AttestRequest): Promise<AttestResponse> {
  const cmw = parseEvidenceCmw(body.evidence);
  const cnfKey = checkWorkloadKey(body.key);
  const jkt = jwkThumbprint(body.key as JsonWebKey);
  const supplied = ctx.provenance.checkSupplied(body.supply_chain, ctx.now());
  const nonce = await consumeNonce(ctx.store, body.nonce, ctx.now());
  const report = await runAppraisal(ctx, cmw, { nonce, jkt });
  const ear = await signReport(ctx, report, nonce);
  checkTier(ctx, report, ear);
  const sub = workloadSubject(ctx.trustDomain, report.platform, report.claims, body.workload);
  const now = ctx.now();
  const earDigest = tokenHash(ear);
  const { wit, jti, exp } = await issueWit({
    sub,
    cnfJwk: body.key,
    cnfKey,
    key: ctx.key,
    lifetimeSeconds: ctx.witLifetimeSeconds,
    now,
    earDigest,
  });
  for (const record of supplied) await ctx.provenance.store(record, now, true);
  await refuseRevokedBuild(ctx.store, report.platform, report.claims);
  const credential = {
    jti,
    sub,
    iat: Math.floor(now.getTime() / 1000),
    exp,
    kid: ctx.key.kid,
    platform: report.platform,
    earDigest,
    evidenceDigest: sha256(cmw.evidence),
    record: ledgerRecord(report, jkt),
  };
  // The credential, its transparency-log leaf and its index entries commit together.
  await ctx.provenance.commit(credential, {
    ...credential,
    claims: report.claims,
    collateral: report.appraisal.verification.collateral,
    ...(ctx.policy && { policy: ctx.policy }),
  });
  return { ear, wit, expires_at: new Date(exp * 1000).toISOString() };
}

/**
 * `POST /v1/appraise` (background-check model): appraises and returns the EAR whatever the
 * tier; consumes and checks the nonce only when one is given. No credential is issued.
 */
export async function appraiseOnly(
  ctx: AttestContext,
  body: AppraiseRequest,
): Promise<{ ear: string }> {
  const cmw = parseEvidenceCmw(body.evidence);
  const nonce =
    body.nonce === undefined ? undefined : await consumeNonce(ctx.store, body.nonce, ctx.now());
  const report = await runAppraisal(ctx, cmw, nonce ? { nonce } : {});
  return { ear: await signReport(ctx, report, nonce) };
}
