/**
 * The TDX `verify` stage (ARCHITECTURE "The appraisal pipeline"; spec digest B1.5, C1):
 * a parsed quote plus its collateral become a {@link VerifiedEvidence}, or a typed error.
 *
 * Steps, in the order of B1.5: header constants; the PCK chain from the quote to the
 * pinned Intel root with the PCK CRL and Root CA CRL; the QE report signature by the PCK
 * key; QE REPORTDATA = SHA-256(attestation key ‖ QE auth data) ‖ 32 zero bytes; the quote
 * signature by the attestation key; the collateral (issuer chains, signatures over the
 * exact TCB Info and QE Identity texts, validity windows); TCB Info FMSPC and PCE-ID equal
 * the PCK certificate's; the TCB evaluation.
 *
 * Everything except the quote signature and the validity checks at `now` is a pure
 * function of bytes and comes from `ctx.cache` once seen: per piece by content hash
 * (`verify-keys.ts`), and per platform as one record compared byte for byte
 * (`verify-platform.ts`), so a warm quote costs about one ECDSA-P256 verification.
 *
 * @module
 */
import { EvidenceUnsupportedError, VerificationError } from '../../../../common/errors.js';
import { toHex } from '../../../../common/bytes.js';
import { checkChainAt } from '../../../../common/x509/chain.js';
import type { VerifiedChain } from '../../../../common/x509/chain.js';
import { mintVerified } from '../../../verify/mint.js';
import type {
  AnchorInfo,
  SuppliedEndorsements,
  VerifiedEvidence,
  VerifyContext,
} from '../../../verify/types.js';
import { checkTdxCollateralAt } from '../collateral/v3.js';
import type { VerifiedTdxCollateral } from '../collateral/v3.js';
import { checkTcbInfoMatchesPck } from '../collateral/pck.js';
import { tdxClaims } from '../abi/claims.js';
import { evaluateTdxTcb } from './tcb-match.js';
import type { TdxTcbEvaluation } from './tcb-match.js';
import {
  ATT_KEY_TYPE_ECDSA_P256,
  BODY_TYPE_TD15,
  INTEL_QE_VENDOR_ID,
  TEE_TYPE_TDX,
} from '../abi/types.js';
import type { TdxQuote } from '../abi/types.js';
import { authenticateTdxCollateral, supplyTdxCollateral } from './collateral.js';
import type { TdxCollateralInput } from './collateral.js';
import { anchorsKey, rememberedSha256 } from './keys.js';
import { verifyPckChainCached } from './pck.js';
import type { VerifiedPckChain } from './pck.js';
import { recallPlatform, rememberPlatform } from './platform.js';
import type { VerifiedParts } from './platform.js';
import { bindQeReport, checkQuoteSignature } from './qe.js';

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

/**
 * Collateral must be issued under the root the PCK chain ends at, so that with a simulator
 * root configured beside Intel's, simulator-signed TCB Info never judges a real platform.
 * Defence in depth: as every Intel root bears the same name, the Root CA CRL that all
 * these chains are checked with already fails under any other root.
 */
function checkSameRoot(pck: VerifiedChain, collateral: VerifiedTdxCollateral): void {
  const chains: [string, VerifiedChain][] = [
    ['collateral.tcb_info_issuer_chain', collateral.tcbInfoChain],
    ['collateral.qe_identity_issuer_chain', collateral.qeIdentityChain],
    ['collateral.pck_crl_issuer_chain', collateral.pckCrlChain],
  ];
  for (const [subject, chain] of chains) {
    if (chain.anchor.sha256 !== pck.anchor.sha256) {
      throw new VerificationError(
        'ERR_COLLATERAL_MISMATCH',
        `${subject} ends at root ${chain.anchor.sha256}, the PCK chain at ${pck.anchor.sha256}`,
        subject,
      );
    }
  }
}

function evaluate(
  quote: TdxQuote,
  pck: VerifiedPckChain,
  collateral: VerifiedTdxCollateral,
): TdxTcbEvaluation {
  const body = quote.body;
  return evaluateTdxTcb({
    pckTcb: pck.extensions.tcb,
    teeTcbSvn: body.teeTcbSvn,
    ...(quote.bodyType === BODY_TYPE_TD15 && body.teeTcbSvn2
      ? { teeTcbSvn2: body.teeTcbSvn2 }
      : {}),
    mrSignerSeam: body.mrSignerSeam,
    seamAttributes: body.seamAttributes,
    qeReport: quote.signatureData.certificationData.qeReport,
    tcbInfo: collateral.tcbInfo,
    qeIdentity: collateral.qeIdentity,
  });
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
    claims: tdxClaims(quote),
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

/** Every step of B1.5 in order, each pure part from its content-keyed cache entry. */
function verifyFully(
  quote: TdxQuote,
  input: TdxCollateralInput | undefined,
  anchorsId: string,
  ctx: VerifyContext,
): VerifiedParts {
  const supplied = supplyTdxCollateral(input, ctx.cache);
  const anchors = ctx.anchors.intel;
  const pem = quote.signatureData.certificationData.pckCertChain.pem;
  const pemSha256 = rememberedSha256(ctx.cache, 'pck-chain', pem);
  const pck = verifyPckChainCached(pem, pemSha256, supplied, anchors, anchorsId, ctx.cache);
  checkChainAt(pck.chain, { now: ctx.now, requireCrlFor: 'all' });
  const qe = bindQeReport(quote.signatureData, pck.leaf, ctx.cache);
  checkQuoteSignature(quote, qe);
  const collateral = authenticateTdxCollateral(supplied, anchors, anchorsId, ctx.cache);
  checkSameRoot(pck.chain, collateral);
  checkTdxCollateralAt(collateral, ctx.now);
  checkTcbInfoMatchesPck(collateral.tcbInfo, pck.extensions);
  const tcb = evaluate(quote, pck, collateral);
  return { pemSha256, supplied, pck, qe, collateral, tcb };
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
  const parts = verifyFully(quote, input, anchorsId, ctx);
  // verifyFully threw ERR_ENDORSEMENT_MISSING if there was no collateral.
  rememberPlatform(quote, input!, anchorsId, parts, ctx.cache);
  return mint(quote, parts, ctx);
}
