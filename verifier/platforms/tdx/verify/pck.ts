/**
 * The PCK certificate chain of a TDX quote in the verify stage (spec digest B1.5 step 2):
 * from the quote's certification data to the pinned root, with the collateral's PCK CRL
 * and Root CA CRL. A pure function of bytes, cached by their content hash; the
 * `now`-dependent check (`checkChainAt`) stays with the caller.
 *
 * @internal
 * @module
 */
import { VerificationError } from '../../../../common/errors.js';
import { bytesEqual } from '../../../../common/bytes.js';
import { certLabel, parseCertificateDer } from '../../../../common/x509/certificate.js';
import type { Certificate } from '../../../../common/x509/certificate.js';
import { verifyChainSignatures } from '../../../../common/x509/chain.js';
import type { TrustAnchors, VerifiedChain } from '../../../../common/x509/chain.js';
import type { Crl } from '../../../../common/x509/crl.js';
import { cached } from '../../../verify/cache.js';
import type { VerificationCache } from '../../../verify/cache.js';
import { parsePckExtensions, pckCaKind } from '../collateral/pck-extensions.js';
import type { PckCaKind, PckExtensions } from '../collateral/pck-extensions.js';
import { splitPemCertificates } from '../collateral/pem.js';
import { tdxKeys } from './keys.js';

/** A PCK chain whose signatures, profile and CRL signatures verified (time-independent). */
export interface VerifiedPckChain {
  /** Leaf, PCK Platform/Processor CA, root; CRLs attached for `checkChainAt`. */
  readonly chain: VerifiedChain;
  readonly leaf: Certificate;
  readonly extensions: PckExtensions;
  readonly caKind: PckCaKind;
}

/** The CRLs the PCK chain is checked with. */
export interface PckCrls {
  readonly pckCrl: Crl;
  readonly rootCaCrl: Crl;
}

function profile(cert: Certificate, message: string): never {
  throw new VerificationError(
    'ERR_CERT_PROFILE',
    `${certLabel(cert)}: ${message}`,
    certLabel(cert),
  );
}

function buildPckChain(pem: Uint8Array, crls: PckCrls, anchors: TrustAnchors): VerifiedPckChain {
  const [leaf, ...intermediates] = splitPemCertificates(pem).map((der, i) =>
    parseCertificateDer(der, `pck_cert_chain[${i}]`),
  );
  const chain = verifyChainSignatures({
    leaf: leaf!,
    intermediates,
    anchors,
    crls: [crls.pckCrl, crls.rootCaCrl],
  });
  // Intel issues PCK certificates only from a PCK CA directly under the root.
  if (chain.path.length !== 3) profile(leaf!, `path of ${chain.path.length} certificates, not 3`);
  const caKind = pckCaKind(leaf!);
  if (!bytesEqual(crls.pckCrl.issuer.der, leaf!.issuer.der)) {
    throw new VerificationError(
      'ERR_COLLATERAL_MISMATCH',
      `collateral.pck_crl is issued by '${crls.pckCrl.issuer.cn}', the PCK certificate by the ${caKind} CA '${leaf!.issuerCn}'`,
      'collateral.pck_crl',
    );
  }
  return Object.freeze({ chain, leaf: leaf!, extensions: parsePckExtensions(leaf!), caKind });
}

/**
 * Verifies the quote's PCK chain (certification data type 5, `pem` bytes exactly as in
 * the quote) to `anchors` with the PCK CRL (which must come from the leaf's issuer) and the
 * Root CA CRL; cached by the SHA-256 of `pem`, both CRLs and the anchor set. Follow with
 * `checkChainAt(result.chain, { now, requireCrlFor: 'all' })`.
 *
 * @throws {VerificationError} `ERR_CHAIN_UNTRUSTED_ROOT`, `ERR_CHAIN_BROKEN`,
 *   `ERR_SIGNATURE_INVALID`, `ERR_CERT_PROFILE`, `ERR_CRL_INVALID`, `ERR_COLLATERAL_MISMATCH`.
 * @example
 * const pck = verifyPckChainCached(pem, sha256Hex(pem), supplied, anchors, anchorsKey(anchors), cache);
 * checkChainAt(pck.chain, { now, requireCrlFor: 'all' });
 */
export function verifyPckChainCached(
  pem: Uint8Array,
  pemSha256: string,
  crls: PckCrls,
  anchors: TrustAnchors,
  anchorsId: string,
  cache: VerificationCache,
): VerifiedPckChain {
  const key = tdxKeys.pckChain(pemSha256, crls.pckCrl.sha256, crls.rootCaCrl.sha256, anchorsId);
  return cached(cache, key, () => buildPckChain(pem, crls, anchors));
}
