/**
 * The supplied TDX collateral in the verify stage: parsed once per content hash of the
 * exact text or bytes received, and authenticated (issuer chains, signatures over the
 * exact TCB Info and QE Identity texts, CRL signatures) once per content hash and anchor
 * set. Only the validity windows at `now` are checked per quote (`checkTdxCollateralAt`).
 *
 * @module
 */
import { VerificationError } from '../../../../common/errors.js';
import type { TrustAnchors } from '../../../../common/x509/chain.js';
import { parseCrlDer } from '../../../../common/x509/crl.js';
import type { Crl } from '../../../../common/x509/crl.js';
import { cached } from '../../../verify/cache.js';
import type { VerificationCache } from '../../../verify/cache.js';
import { parseTdxCollateral, verifyTdxCollateral } from '../collateral/v3.js';
import type { TdxCollateral, VerifiedTdxCollateral } from '../collateral/v3.js';
import { sha256Hex } from '../../../../common/bytes.js';
import { rememberedSha256, tdxKeys } from './keys.js';

/** Collateral as supplied, parsed but not yet authenticated. */
export interface SuppliedTdxCollateral {
  /** SHA-256 of the supplied text or bytes: the cache identity of everything derived. */
  readonly sha256: string;
  readonly collateral: TdxCollateral;
  /** Parsed, signatures not yet checked: the PCK chain step verifies them with its path. */
  readonly pckCrl: Crl;
  readonly rootCaCrl: Crl;
  /** SHA-256 of the exact signed texts (`tcb_info`, `qe_identity`) as UTF-8. */
  readonly tcbInfoSha256: string;
  readonly qeIdentitySha256: string;
}

/**
 * Parses the `QuoteCollateralV3` JSON (text or UTF-8 bytes), or returns the result of an
 * earlier parse of identical input from `cache`.
 *
 * @throws {VerificationError} `ERR_ENDORSEMENT_MISSING` when `input` is undefined;
 *   `ERR_COLLATERAL_INVALID` or `ERR_CRL_INVALID` when it does not parse.
 * @example
 * const supplied = supplyTdxCollateral(endorsements.tdxCollateral, ctx.cache);
 * supplied.pckCrl.nextUpdate; // Date
 */
export function supplyTdxCollateral(
  input: string | Uint8Array | undefined,
  cache: VerificationCache,
): SuppliedTdxCollateral {
  if (input === undefined) {
    throw new VerificationError(
      'ERR_ENDORSEMENT_MISSING',
      'no TDX collateral supplied: the PCK CRL, Root CA CRL, TCB Info and QE Identity ' +
        '(QuoteCollateralV3) are needed to verify a quote',
      'tdxCollateral',
    );
  }
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new TypeError('tdxCollateral must be a string or a Uint8Array');
  }
  const sha256 = rememberedSha256(cache, 'collateral', input);
  return cached(cache, tdxKeys.collateral(sha256), () => {
    const collateral = parseTdxCollateral(input);
    return Object.freeze({
      sha256,
      collateral,
      pckCrl: parseCrlDer(collateral.pckCrl, 'collateral.pck_crl'),
      rootCaCrl: parseCrlDer(collateral.rootCaCrl, 'collateral.root_ca_crl'),
      tcbInfoSha256: sha256Hex(collateral.tcbInfo),
      qeIdentitySha256: sha256Hex(collateral.qeIdentity),
    });
  });
}

/**
 * Authenticates the collateral against `anchors` (see `verifyTdxCollateral`), once per
 * collateral content and anchor set. Time-independent: follow with `checkTdxCollateralAt`.
 *
 * @throws {VerificationError} `ERR_SIGNATURE_INVALID`, `ERR_COLLATERAL_INVALID`,
 *   `ERR_CRL_INVALID`, `ERR_CERT_PROFILE` and the chain codes.
 * @example
 * const verified = authenticateTdxCollateral(supplied, ctx.anchors.intel, anchorsKey(ctx.anchors.intel), ctx.cache);
 * checkTdxCollateralAt(verified, ctx.now);
 */
export function authenticateTdxCollateral(
  supplied: SuppliedTdxCollateral,
  anchors: TrustAnchors,
  anchorsId: string,
  cache: VerificationCache,
): VerifiedTdxCollateral {
  return cached(cache, tdxKeys.collateralVerified(supplied.sha256, anchorsId), () =>
    verifyTdxCollateral(supplied.collateral, anchors),
  );
}
