/**
 * Binding TDX collateral to the quote's PCK certificate: the PCK chain verified with the
 * collateral's CRLs (the PCK CRL chosen by the leaf's issuer), and the TCB Info matched
 * to the PCK certificate's FMSPC and PCE-ID.
 *
 * @internal
 * @module
 */
import { VerificationError } from '../../../../common/errors.js';
import type { Certificate } from '../../../../common/x509/certificate.js';
import { verifyChainSignatures } from '../../../../common/x509/chain.js';
import type { TrustAnchors, VerifiedChain } from '../../../../common/x509/chain.js';
import type { VerifiedTdxCollateral } from './v3.js';
import type { TdxTcbInfo } from './tcb-info.js';
import { pckCaKind } from './pck-extensions.js';
import type { PckExtensions } from './pck-extensions.js';

/**
 * Builds the PCK chain from the quote (leaf first) to the pinned root with the
 * collateral's PCK CRL and Root CA CRL attached; the PCK CRL must come from the leaf's
 * issuer (Platform vs Processor CA). Time-independent: follow with
 * `checkChainAt(chain, { now, requireCrlFor: 'all' })`.
 *
 * @throws {VerificationError} `ERR_COLLATERAL_MISMATCH` when the PCK CRL has another
 *   issuer, `ERR_CERT_PROFILE` for an unknown PCK CA, and the chain codes.
 */
export function verifyTdxPckChain(
  pckChain: readonly Certificate[],
  collateral: VerifiedTdxCollateral,
  anchors: TrustAnchors,
): VerifiedChain {
  const [leaf, ...intermediates] = pckChain;
  if (leaf === undefined) throw new TypeError('empty PCK chain');
  const kind = pckCaKind(leaf);
  if (!Buffer.from(collateral.pckCrl.issuer.der).equals(leaf.issuer.der)) {
    throw new VerificationError(
      'ERR_COLLATERAL_MISMATCH',
      `PCK CRL is issued by '${collateral.pckCrl.issuer.cn}', the PCK certificate by the ${kind} CA '${leaf.issuerCn}'`,
      'pckCrl',
    );
  }
  return verifyChainSignatures({
    leaf,
    intermediates,
    anchors,
    crls: [collateral.pckCrl, collateral.rootCaCrl],
  });
}

/**
 * The TCB Info must be the one for the PCK certificate's platform: same FMSPC and PCE-ID
 * (compared case-insensitively; spec digest C1.5, Intel QVL 4.1.2.4.10).
 *
 * @throws {VerificationError} `ERR_COLLATERAL_MISMATCH`.
 */
export function checkTcbInfoMatchesPck(
  tcbInfo: TdxTcbInfo,
  pck: Pick<PckExtensions, 'fmspc' | 'pceId'>,
): void {
  if (tcbInfo.fmspc.toLowerCase() !== pck.fmspc.toLowerCase()) {
    throw new VerificationError(
      'ERR_COLLATERAL_MISMATCH',
      `TCB Info is for FMSPC ${tcbInfo.fmspc}, the PCK certificate has ${pck.fmspc}`,
      'tcbInfo.fmspc',
    );
  }
  if (tcbInfo.pceId.toLowerCase() !== pck.pceId.toLowerCase()) {
    throw new VerificationError(
      'ERR_COLLATERAL_MISMATCH',
      `TCB Info is for PCE-ID ${tcbInfo.pceId}, the PCK certificate has ${pck.pceId}`,
      'tcbInfo.pceId',
    );
  }
}
