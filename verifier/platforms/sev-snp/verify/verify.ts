/**
 * The SEV-SNP `verify` stage (ARCHITECTURE "The appraisal pipeline"): a parsed
 * ATTESTATION_REPORT plus its endorsements in, a {@link VerifiedEvidence} out — or a
 * {@link VerificationError} with a stable code.
 *
 * Steps, in order (spec digest B3, C2.2–C2.4):
 * 1. key certificate: `snpKeyCert` (DER or PEM), else the cert table's VCEK/VLEK entry
 *    (`ERR_ENDORSEMENT_MISSING` without one); its profile and AMD extensions;
 * 2. SIGNING_KEY must name the certificate's kind (`ERR_KEY_MISMATCH`);
 * 3. product: CPUID (VERSION 3+) or the parser's hint must equal the certificate's
 *    productName when both exist (`ERR_PRODUCT_MISMATCH`); VERSION 2 takes the certificate's;
 * 4. chain VCEK → ASK → ARK (VLEK → ASVK → ARK) ending at the pinned ARK of that product,
 *    CRL applied when given, every certificate valid at `ctx.now` (see `verify-chain.ts`);
 * 5. hwID = CHIP_ID for a VCEK without MASK_CHIP_KEY (`ERR_KEY_MISMATCH`);
 * 6. certificate SPLs = REPORTED_TCB (`ERR_TCB_MISMATCH`);
 * 7. the report signature (`ERR_SIGNATURE_INVALID`).
 *
 * The comparisons 5 and 6 run before the signature only so that a wrong certificate gets
 * its precise code; nothing is returned unless the signature verifies too.
 *
 * Cost: the certificate parse, extensions, public key and the chain's signatures are
 * cached in `ctx.cache` by content hash; a repeated certificate costs a few hashes, the
 * time checks and one P-384 verification per report.
 *
 * @module
 */
import { mintVerified } from '../../../verify/mint.js';
import type { CollateralRef, VerifiedEvidence, VerifyContext } from '../../../verify/types.js';
import type { SuppliedEndorsements } from '../../../verify/types.js';
import { certLabel } from '../../../../common/x509/certificate.js';
import { decodeSnpSignerInfo } from '../abi/bit-fields.js';
import { describeSnpFormat, snpClaims } from '../abi/claims.js';
import type { SnpDetails } from '../abi/claims.js';
import { decodeSnpTcb } from '../abi/tcb.js';
import type { SnpProduct, SnpReport } from '../abi/types.js';
import { verifySnpChain } from './chain.js';
import type { SnpChain } from './chain.js';
import {
  checkSnpHwId,
  checkSnpReportedTcb,
  checkSnpSigningKey,
  resolveSnpProduct,
  verifySnpReportSignature,
} from './checks.js';
import { resolveSnpEndorsements } from '../collateral/endorsements.js';
import type { SnpKeyMaterial } from '../collateral/endorsements.js';

function checkContext(ctx: VerifyContext): void {
  if (!(ctx?.now instanceof Date) || Number.isNaN(ctx.now.getTime())) {
    throw new TypeError('ctx.now must be a valid Date');
  }
  if (ctx.anchors === undefined || ctx.cache === undefined) {
    throw new TypeError('ctx needs anchors and cache');
  }
}

function collateralOf(key: SnpKeyMaterial, chain: SnpChain): CollateralRef[] {
  const refs: CollateralRef[] = [
    { kind: key.kind, sha256: key.cert.sha256 },
    { kind: key.kind === 'vlek' ? 'asvk' : 'ask', sha256: chain.signer.sha256 },
  ];
  if (chain.crl !== undefined) refs.push({ kind: 'amd-crl', sha256: chain.crl.sha256 });
  return refs;
}

function keyCertDetails(key: SnpKeyMaterial, hwIdChecked: boolean) {
  const { cert, extensions: ext } = key;
  return {
    subject: certLabel(cert),
    sha256: cert.sha256,
    productName: ext.productName,
    structVersion: ext.structVersion ?? null,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    tcb: {
      ...(ext.tcb.fmcSpl === undefined ? {} : { fmc: ext.tcb.fmcSpl }),
      bl: ext.tcb.blSpl,
      tee: ext.tcb.teeSpl,
      snp: ext.tcb.snpSpl,
      ucode: ext.tcb.ucodeSpl,
    },
    cspId: ext.cspId ?? null,
    hwIdChecked,
  };
}

function detailsOf(
  report: SnpReport,
  key: SnpKeyMaterial,
  chain: SnpChain,
  hwIdChecked: boolean,
): SnpDetails {
  const d = describeSnpFormat(report);
  const current = decodeSnpTcb(report.currentTcb, report.product);
  const reported = decodeSnpTcb(report.reportedTcb, report.product);
  return {
    product: report.product,
    reportVersion: report.version,
    keyKind: key.kind,
    vmpl: report.vmpl,
    guestSvn: report.guestSvn,
    authorKeyDigest: d.authorKeyDigest,
    familyId: d.familyId,
    imageId: d.imageId,
    policy: d.policy,
    platformInfo: d.platformInfo,
    signerInfo: d.signerInfo,
    cpuid: d.cpuid,
    tcb: d.tcb,
    committedEqualsCurrent: report.committedTcb === report.currentTcb,
    reportedTcbWithinCurrent: (Object.keys(reported) as (keyof typeof reported)[]).every(
      (k) => (reported[k] ?? 0) <= (current[k] ?? 0),
    ),
    firmware: { current: d.currentVersion, committed: d.committedVersion },
    mitigationVectors: d.mitigationVectors,
    keyCert: keyCertDetails(key, hwIdChecked),
    chain: chain.verified.path.map(certLabel),
    crlChecked: chain.crl !== undefined,
  };
}

/**
 * Verifies an SEV-SNP ATTESTATION_REPORT against its VCEK or VLEK and the AMD chain of the
 * report's product, at `ctx.now`.
 *
 * @param report - a report from `parseSnpReport` (VERSION 2 may be parsed without a product;
 *   the certificate then names it).
 * @param endorsements - `snpKeyCert` and/or `snpCertTable`; optionally `snpCaChain` (else the
 *   cert table's or the anchor store's intermediates are used) and `snpCrl`.
 * @param ctx - `now`, the anchor store (AMD ARKs per product) and the verification cache.
 * @returns the sealed result: claims from `snpClaims`, the ARK as anchor, the VCEK/VLEK,
 *   ASK/ASVK and CRL as collateral, and decoded details (product, policy, TCBs, key).
 * @throws {VerificationError} `ERR_ENDORSEMENT_MISSING`, `ERR_KEY_MISMATCH`,
 *   `ERR_PRODUCT_MISMATCH`, `ERR_CHAIN_UNTRUSTED_ROOT`, `ERR_CHAIN_BROKEN`,
 *   `ERR_SIGNATURE_INVALID`, `ERR_CERT_PROFILE`, `ERR_CERT_EXPIRED`,
 *   `ERR_CERT_NOT_YET_VALID`, `ERR_CERT_REVOKED`, `ERR_CRL_INVALID`, `ERR_CRL_EXPIRED`,
 *   `ERR_TCB_MISMATCH`; `EvidenceMalformedError` for unparsable endorsements;
 *   `TypeError` for a context without a valid `now`.
 * @example
 * ```ts
 * const anchors = loadAnchorStore();
 * const ctx = { now: new Date('2024-01-01T00:00:00Z'), anchors, cache: createVerificationCache() };
 * const verified = verifySnp(parseSnpReport(reportBytes), { snpKeyCert: vcekDer }, ctx);
 * verified.details.product; // 'Milan'
 * verified.anchor.subject; // 'ARK-Milan'
 * ```
 */
export function verifySnp(
  report: SnpReport,
  endorsements: SuppliedEndorsements,
  ctx: VerifyContext,
): VerifiedEvidence<'sev-snp'> {
  checkContext(ctx);
  const signingKey = decodeSnpSignerInfo(report.signerInfo).signingKey;
  const { key, intermediates, crl } = resolveSnpEndorsements(endorsements, signingKey, ctx.cache);
  checkSnpSigningKey(report, key);
  const product: SnpProduct = resolveSnpProduct(report, key);
  const chain = verifySnpChain({ key, product, intermediates, crl }, ctx);
  const hwIdChecked = checkSnpHwId(report, key, product);
  checkSnpReportedTcb(report, key, product);
  verifySnpReportSignature(report, key);
  const resolved: SnpReport = report.product === product ? report : { ...report, product };
  const ark = chain.ark;
  return mintVerified({
    platform: 'sev-snp',
    claims: snpClaims(resolved),
    advisoryIds: [],
    anchor: {
      sha256: ark.sha256,
      subject: certLabel(ark),
      source: ctx.anchors.configured.has(ark.sha256) ? 'configured' : 'vendor',
    },
    collateral: collateralOf(key, chain),
    details: detailsOf(resolved, key, chain, hwIdChecked),
  });
}
