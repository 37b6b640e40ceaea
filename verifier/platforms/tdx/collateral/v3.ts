/**
 * Intel TDX collateral in the `QuoteCollateralV3` JSON shape: TCB Info, QE Identity,
 * their issuer chains and signatures, the PCK CRL and the Root CA CRL (spec digest C1.1).
 *
 * As with certificate chains, the expensive part ({@link verifyTdxCollateral}: chains,
 * signatures over the exact signed text, CRL signatures) is a pure function of the
 * collateral bytes and can be cached by content hash; {@link checkTdxCollateralAt} is
 * the cheap check of every validity window at an injected `now`.
 *
 * @module
 */
import { isTwiError, VerificationError } from '../../../../common/errors.js';
import { parsePemChain } from '../../../../common/x509/certificate.js';
import type { Certificate } from '../../../../common/x509/certificate.js';
import { checkChainAt, verifyChainSignatures } from '../../../../common/x509/chain.js';
import type { TrustAnchors, VerifiedChain } from '../../../../common/x509/chain.js';
import { checkCrlCurrent, parseCrlDer, verifyCrlSignature } from '../../../../common/x509/crl.js';
import type { Crl } from '../../../../common/x509/crl.js';
import { asHex, asHexAny, asObject, asString, invalid, parseJsonObject } from './json.js';
import { parseTdQeIdentity } from './qe-identity.js';
import type { TdQeIdentity } from './qe-identity.js';
import { TCB_SIGNING_CN, verifyIntelJsonSignature, verifyIntelSigningChain } from './signature.js';
import { parseTdxTcbInfo } from './tcb-info.js';
import type { TdxTcbInfo } from './tcb-info.js';

/**
 * The wire shape (`application/vnd.twi.tdx-collateral+json`): Intel PCS responses
 * assembled into one object, as dcap-qvl and the real vectors carry them.
 */
export interface TdxCollateralV3 {
  /** PEM: the PCK CRL issuer (PCK Platform or Processor CA), then the root. */
  pck_crl_issuer_chain: string;
  /** Hex of the DER Root CA CRL. */
  root_ca_crl: string;
  /** Hex of the DER PCK CRL. */
  pck_crl: string;
  /** PEM: the TCB signing certificate, then the root. */
  tcb_info_issuer_chain: string;
  /** The exact signed JSON text of `tcbInfo` (never re-serialize it). */
  tcb_info: string;
  /** Hex of the raw ECDSA-P256 signature r‖s over `tcb_info`. */
  tcb_info_signature: string;
  /** PEM: the TCB signing certificate, then the root. */
  qe_identity_issuer_chain: string;
  /** The exact signed JSON text of `enclaveIdentity`. */
  qe_identity: string;
  /** Hex of the raw ECDSA-P256 signature r‖s over `qe_identity`. */
  qe_identity_signature: string;
}

/** Keys of {@link TdxCollateralV3}, in the order of the real files. */
export const TDX_COLLATERAL_KEYS = [
  'pck_crl_issuer_chain',
  'root_ca_crl',
  'pck_crl',
  'tcb_info_issuer_chain',
  'tcb_info',
  'tcb_info_signature',
  'qe_identity_issuer_chain',
  'qe_identity',
  'qe_identity_signature',
] as const;

/**
 * The collateral as received. Signed JSON stays text: its bytes are what Intel signed.
 *
 * @internal
 */
export interface TdxCollateral {
  readonly pckCrlIssuerChain: string;
  /** DER. */
  readonly rootCaCrl: Uint8Array;
  /** DER. */
  readonly pckCrl: Uint8Array;
  readonly tcbInfoIssuerChain: string;
  /** The exact text of the `tcbInfo` value. */
  readonly tcbInfo: string;
  /** Raw r‖s, 64 bytes. */
  readonly tcbInfoSignature: Uint8Array;
  readonly qeIdentityIssuerChain: string;
  /** The exact text of the `enclaveIdentity` value. */
  readonly qeIdentity: string;
  readonly qeIdentitySignature: Uint8Array;
}

/** Collateral whose chains and signatures verified; immutable and cacheable. @internal */
export interface VerifiedTdxCollateral {
  readonly tcbInfo: TdxTcbInfo;
  readonly qeIdentity: TdQeIdentity;
  readonly tcbInfoChain: VerifiedChain;
  readonly qeIdentityChain: VerifiedChain;
  readonly pckCrlChain: VerifiedChain;
  readonly pckCrl: Crl;
  readonly rootCaCrl: Crl;
}

/**
 * Parses the `QuoteCollateralV3` JSON text (or the already-decoded object): CRLs as hex
 * DER, signatures as hex r‖s, issuer chains as PEM.
 *
 * @throws {VerificationError} `ERR_COLLATERAL_INVALID` for a missing or ill-typed field.
 * @example
 * const collateral = parseTdxCollateral(readFileSync('x.collateral.json'));
 *
 * @internal
 */
export function parseTdxCollateral(input: string | Uint8Array | TdxCollateralV3): TdxCollateral {
  const o =
    typeof input === 'string' || input instanceof Uint8Array
      ? parseJsonObject(
          typeof input === 'string' ? input : Buffer.from(input).toString('utf8'),
          'collateral',
        )
      : asObject(input, 'collateral');
  return Object.freeze({
    pckCrlIssuerChain: asString(o.pck_crl_issuer_chain, 'collateral.pck_crl_issuer_chain'),
    rootCaCrl: asHexAny(o.root_ca_crl, 'collateral.root_ca_crl'),
    pckCrl: asHexAny(o.pck_crl, 'collateral.pck_crl'),
    tcbInfoIssuerChain: asString(o.tcb_info_issuer_chain, 'collateral.tcb_info_issuer_chain'),
    tcbInfo: asString(o.tcb_info, 'collateral.tcb_info'),
    tcbInfoSignature: asHex(o.tcb_info_signature, 'collateral.tcb_info_signature', 64),
    qeIdentityIssuerChain: asString(
      o.qe_identity_issuer_chain,
      'collateral.qe_identity_issuer_chain',
    ),
    qeIdentity: asString(o.qe_identity, 'collateral.qe_identity'),
    qeIdentitySignature: asHex(o.qe_identity_signature, 'collateral.qe_identity_signature', 64),
  });
}

function chainOf(pem: string, path: string): Certificate[] {
  try {
    return parsePemChain(pem, path);
  } catch (err) {
    if (isTwiError(err) && err.code !== 'ERR_EVIDENCE_MALFORMED') throw err;
    return invalid(path, (err as Error).message, err);
  }
}

function signingChain(
  pem: string,
  path: string,
  anchors: TrustAnchors,
  rootCrl: Crl,
): VerifiedChain {
  return verifyIntelSigningChain(chainOf(pem, path), TCB_SIGNING_CN, anchors, path, [rootCrl]);
}

/**
 * Verifies the collateral independent of time: the TCB Info and QE Identity issuer chains
 * to the pinned root (signer = Intel SGX TCB Signing), both ECDSA-P256-SHA256 signatures
 * over the exact text received, the Root CA CRL under the root, and the PCK CRL under
 * the PCK CA of its issuer chain; then parses TCB Info (TDX v3) and QE Identity (TD_QE v2).
 *
 * @throws {VerificationError} `ERR_COLLATERAL_INVALID`, `ERR_SIGNATURE_INVALID`,
 *   `ERR_CRL_INVALID` and the chain codes of {@link verifyChainSignatures}.
 *
 * @internal
 */
export function verifyTdxCollateral(
  collateral: TdxCollateral,
  anchors: TrustAnchors,
): VerifiedTdxCollateral {
  const rootCaCrl = parseCrlDer(collateral.rootCaCrl, 'rootCaCrl');
  const pckCrl = parseCrlDer(collateral.pckCrl, 'pckCrl');
  const tcbInfoChain = signingChain(
    collateral.tcbInfoIssuerChain,
    'tcbInfoIssuerChain',
    anchors,
    rootCaCrl,
  );
  const qeIdentityChain = signingChain(
    collateral.qeIdentityIssuerChain,
    'qeIdentityIssuerChain',
    anchors,
    rootCaCrl,
  );
  verifyIntelJsonSignature(
    collateral.tcbInfo,
    collateral.tcbInfoSignature,
    tcbInfoChain.path[0]!,
    'tcbInfo',
  );
  verifyIntelJsonSignature(
    collateral.qeIdentity,
    collateral.qeIdentitySignature,
    qeIdentityChain.path[0]!,
    'qeIdentity',
  );
  const [pckCa, ...rest] = chainOf(collateral.pckCrlIssuerChain, 'pckCrlIssuerChain');
  const pckCrlChain = verifyChainSignatures({
    leaf: pckCa!,
    intermediates: rest,
    anchors,
    crls: [rootCaCrl],
  });
  verifyCrlSignature(pckCrl, pckCa!);
  return Object.freeze({
    tcbInfo: parseTdxTcbInfo(collateral.tcbInfo),
    qeIdentity: parseTdQeIdentity(collateral.qeIdentity),
    tcbInfoChain,
    qeIdentityChain,
    pckCrlChain,
    pckCrl,
    rootCaCrl,
  });
}

/**
 * Checks `issueDate <= now < nextUpdate` of a TCB Info or QE Identity.
 *
 * @throws {VerificationError} `ERR_COLLATERAL_EXPIRED` (also when not yet issued).
 *
 * @internal
 */
export function checkCollateralWindow(
  doc: { readonly issueDate: Date; readonly nextUpdate: Date },
  now: Date,
  subject: string,
): void {
  const t = now.getTime();
  if (t < doc.issueDate.getTime()) {
    throw new VerificationError(
      'ERR_COLLATERAL_EXPIRED',
      `${subject} is not yet valid: issued ${doc.issueDate.toISOString()}, now ${now.toISOString()}`,
      subject,
    );
  }
  if (t >= doc.nextUpdate.getTime()) {
    throw new VerificationError(
      'ERR_COLLATERAL_EXPIRED',
      `${subject} expired: nextUpdate ${doc.nextUpdate.toISOString()}, now ${now.toISOString()}`,
      subject,
    );
  }
}

/**
 * The time-dependent checks of verified collateral at `now`, in this order: the three
 * issuer chains (certificate validity, Root CA CRL window, revocation of the signers),
 * the PCK CRL window, the TCB Info window, the QE Identity window.
 *
 * @throws {VerificationError} `ERR_CERT_EXPIRED`, `ERR_CERT_NOT_YET_VALID`,
 *   `ERR_CERT_REVOKED`, `ERR_CRL_EXPIRED`, `ERR_COLLATERAL_EXPIRED`.
 *
 * @internal
 */
export function checkTdxCollateralAt(collateral: VerifiedTdxCollateral, now: Date): void {
  for (const chain of [
    collateral.tcbInfoChain,
    collateral.qeIdentityChain,
    collateral.pckCrlChain,
  ]) {
    checkChainAt(chain, { now, requireCrlFor: 'all' });
  }
  checkCrlCurrent(collateral.pckCrl, now);
  checkCollateralWindow(collateral.tcbInfo, now, 'tcbInfo');
  checkCollateralWindow(collateral.qeIdentity, now, 'qeIdentity');
}
