/**
 * The TDX `verify` stage (ARCHITECTURE "The appraisal pipeline"; spec digest B1.5, C1):
 * a parsed quote plus its collateral become a {@link VerifiedEvidence}, or a typed error.
 *
 * Steps, in the order of B1.5: header constants here; then the list in `steps.ts`, written
 * once: the PCK chain from the quote to the pinned Intel root with the PCK CRL and Root CA
 * CRL; the QE report signature by the PCK key; QE REPORTDATA = SHA-256(attestation key ‖ QE
 * auth data) ‖ 32 zero bytes; the quote signature by the attestation key; the collateral
 * (issuer chains, signatures over the exact TCB Info and QE Identity texts, validity
 * windows); TCB Info FMSPC and PCE-ID equal the PCK certificate's; the TCB evaluation.
 *
 * Everything except the quote signature and the validity checks at `now` is a pure
 * function of bytes and comes from `ctx.cache` once seen: per piece by content hash
 * (`keys.ts`), and per platform as one record compared byte for byte (`platform.ts`), so a
 * warm quote costs about one ECDSA-P256 verification. The warm path walks the same step
 * list, skipping what the record established.
 *
 * @module
 */
import { EvidenceUnsupportedError } from '../../../../common/errors.js';
import { toHex } from '../../../../common/bytes.js';
import type { VerifiedChain } from '../../../../common/x509/chain.js';
import { mintVerified } from '../../../verify/mint.js';
import type {
  AnchorInfo,
  SuppliedEndorsements,
  VerifiedEvidence,
  VerifyContext,
} from '../../../verify/types.js';
import { tdxClaims } from '../abi/claims.js';
import { replayTdxEventLog } from '../event-log-replay.js';
import { ATT_KEY_TYPE_ECDSA_P256, INTEL_QE_VENDOR_ID, TEE_TYPE_TDX } from '../abi/types.js';
import type { TdxQuote } from '../abi/types.js';
import { anchorsKey } from './keys.js';
import { recallPlatform, rememberPlatform } from './platform.js';
import { runAllSteps, type VerifiedParts } from './steps.js';

const INTEL_QE_VENDOR = Buffer.from(INTEL_QE_VENDOR_ID, 'hex');

function unsupported(message: string, field: string, offset: number): never {
  throw new EvidenceUnsupportedError(message, { field, offset });
}

/** B1.5 step 1: the header constants (the codec checks them too; a `TdxQuote` may be hand-built). */
function checkHeader(quote: TdxQuote): void {
  const h = quote.header;
  if (h.version !== 4 && h.version !== 5) unsupported(`quote version ${h.version}`, 'version', 0);
  if (h.attestationKeyType !== ATT_KEY_TYPE_ECDSA_P256) {
    unsupported(`attestation key type ${h.attestationKeyType}, not 2`, 'att_key_type', 2);
  }
  if (h.teeType !== TEE_TYPE_TDX) unsupported(`TEE type ${h.teeType}, not 0x81`, 'tee_type', 4);
  if (!INTEL_QE_VENDOR.equals(h.qeVendorId)) {
    const vendor = toHex(h.qeVendorId);
    unsupported(`QE vendor ID ${vendor} is not Intel's ${INTEL_QE_VENDOR_ID}`, 'qe_vendor_id', 12);
  }
}

function anchorInfo(chain: VerifiedChain, ctx: VerifyContext): AnchorInfo {
  const root = chain.anchor;
  return {
    sha256: root.sha256,
    subject: root.subjectCn ?? root.sha256,
    source: ctx.anchors.configured.has(root.sha256) ? 'configured' : 'vendor',
  };
}

function mint(quote: TdxQuote, v: VerifiedParts, ctx: VerifyContext): VerifiedEvidence {
  const { pck, collateral, tcb } = v;
  return mintVerified({
    platform: 'tdx',
    claims: { ...tdxClaims(quote), ...(ctx.eventLog && replayTdxEventLog(quote, ctx.eventLog)) },
    tcbStatus: tcb.status,
    advisoryIds: tcb.advisoryIds,
    anchor: anchorInfo(pck.chain, ctx),
    collateral: [
      { kind: 'pck-chain', sha256: v.pemSha256 },
      { kind: 'tcb-info', sha256: v.supplied.tcbInfoSha256 },
      { kind: 'qe-identity', sha256: v.supplied.qeIdentitySha256 },
      { kind: 'pck-crl', sha256: v.supplied.pckCrl.sha256 },
      { kind: 'root-ca-crl', sha256: v.supplied.rootCaCrl.sha256 },
    ],
    details: {
      quoteVersion: quote.header.version,
      bodyType: quote.bodyType,
      fmspc: pck.extensions.fmspc,
      pceId: pck.extensions.pceId,
      pckCa: pck.caKind,
      tcbDate: tcb.tcbDate,
      tcbEvaluationDataNumber: collateral.tcbInfo.tcbEvaluationDataNumber,
      tcbInfoIssueDate: collateral.tcbInfo.issueDate.toISOString(),
      qeIdentityTcbEvaluationDataNumber: collateral.qeIdentity.tcbEvaluationDataNumber,
      qeIdentityIssueDate: collateral.qeIdentity.issueDate.toISOString(),
      platformStatus: tcb.platformLevel.tcbStatus,
      moduleId: tcb.module.identityId ?? null,
      moduleStatus: tcb.module.status,
      qeStatus: tcb.qeLevel.tcbStatus,
      qeIsvSvn: quote.signatureData.certificationData.qeReport.isvSvn,
      relaunchAdvised: tcb.relaunchAdvised,
      trailingBytes: quote.trailing.length,
      mrOwnerConfig: toHex(quote.body.mrOwnerConfig),
    },
  });
}

/**
 * Verifies a parsed TDX quote (v4 or v5) with its collateral at `ctx.now` against
 * `ctx.anchors.intel`, and mints the result.
 *
 * @param quote - from `parseTdxQuote`.
 * @param endorsements - `tdxCollateral`: the `QuoteCollateralV3` JSON, text or bytes.
 * @param ctx - the instant, trust anchors and result cache.
 * @returns the verified claims, the converged TCB status and advisory IDs, the anchor, the
 *   collateral used (by SHA-256) and details for appraisal (`fmspc`, `pckCa`, `tcbDate`,
 *   `platformStatus`, `moduleStatus`, `qeStatus`, `relaunchAdvised`, …).
 * @throws {EvidenceUnsupportedError} for a header that is not an Intel-QE TDX quote.
 * @throws {VerificationError} `ERR_ENDORSEMENT_MISSING` without collateral;
 *   `ERR_CHAIN_UNTRUSTED_ROOT`, `ERR_CHAIN_BROKEN`, `ERR_CERT_PROFILE`, `ERR_CERT_REVOKED`,
 *   `ERR_CERT_EXPIRED`, `ERR_CERT_NOT_YET_VALID`, `ERR_CRL_INVALID`, `ERR_CRL_EXPIRED` for
 *   the PCK chain and collateral chains; `ERR_SIGNATURE_INVALID` for the QE report, quote,
 *   TCB Info or QE Identity signature; `ERR_QE_REPORT_DATA_MISMATCH`;
 *   `ERR_COLLATERAL_INVALID`, `ERR_COLLATERAL_EXPIRED`, `ERR_COLLATERAL_MISMATCH`;
 *   `ERR_QE_IDENTITY_MISMATCH`, `ERR_TDX_MODULE_MISMATCH`, `ERR_TCB_LEVEL_NOT_FOUND`.
 * @example
 * ```ts
 * const ctx = { now: new Date('2025-07-01T00:00:00Z'), anchors: loadAnchorStore(),
 *   cache: createVerificationCache() };
 * const verified = verifyTdx(parseTdxQuote(quoteBytes), { tdxCollateral: collateralJson }, ctx);
 * verified.tcbStatus; // 'UpToDate'
 * verified.claims.mrtd; // '91eb2b44…'
 * ```
 */
export function verifyTdx(
  quote: TdxQuote,
  endorsements: SuppliedEndorsements,
  ctx: VerifyContext,
): VerifiedEvidence {
  checkHeader(quote);
  const input = endorsements.tdxCollateral;
  const anchorsId = anchorsKey(ctx.anchors.intel);
  const recalled = recallPlatform(quote, input, anchorsId, ctx);
  if (recalled !== undefined) return mint(quote, recalled, ctx);
  const parts = runAllSteps(quote, input, anchorsId, ctx);
  // runAllSteps threw ERR_ENDORSEMENT_MISSING if there was no collateral.
  rememberPlatform(quote, input!, anchorsId, parts, ctx.cache);
  return mint(quote, parts, ctx);
}
