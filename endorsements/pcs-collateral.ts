/**
 * Assembles verified Intel endorsements into the `QuoteCollateralV3` JSON the TDX
 * verifier takes (`application/vnd.twi.tdx-collateral+json`).
 *
 * @module
 */
import { toHex } from '../common/bytes.js';
import type { TdxCollateralV3 } from '../verifier/platforms/tdx/collateral/v3.js';
import { splitSignedJson } from './pcs-verify.js';
import type { Endorsement, EndorsementRequest } from './provider/types.js';

/** The four Intel endorsements one TDX quote needs. */
export interface TdxEndorsementSet {
  /** `tdx-tcb-info` for the FMSPC of the quote's PCK certificate. */
  readonly tcbInfo: Endorsement;
  /** `tdx-qe-identity`. */
  readonly qeIdentity: Endorsement;
  /** `pck-crl` of the CA that issued the quote's PCK certificate. */
  readonly pckCrl: Endorsement;
  /** `intel-root-crl`. */
  readonly rootCrl: Endorsement;
}

function expectKind(e: Endorsement, kind: EndorsementRequest['kind'], name: string): void {
  if (e?.request?.kind !== kind) {
    throw new TypeError(`${name} must be a '${kind}' endorsement, not '${e?.request?.kind}'`);
  }
}

function chainOf(e: Endorsement, name: string): string {
  if (e.issuerChain === undefined) throw new TypeError(`${name} has no issuer chain`);
  return e.issuerChain;
}

/**
 * The `QuoteCollateralV3` JSON text of four endorsements: `tcb_info` / `qe_identity` are
 * the exact signed texts sliced from the PCS bodies, signatures and CRLs hex, issuer
 * chains PEM. The endorsements are taken as verified (by the provider that returned them
 * or by `verifyPcsEndorsement`); the TDX verifier checks everything again.
 *
 * @throws TypeError when an endorsement is of the wrong kind or lacks its issuer chain;
 *   `EndorsementInvalidError` when a JSON body cannot be split.
 * @example
 * ```ts
 * const get = (r: EndorsementRequest) => pcs.get(r, { now });
 * const json = tdxCollateralFromEndorsements({
 *   tcbInfo: await get({ kind: 'tdx-tcb-info', fmspc }),
 *   qeIdentity: await get({ kind: 'tdx-qe-identity' }),
 *   pckCrl: await get({ kind: 'pck-crl', ca: 'platform' }),
 *   rootCrl: await get({ kind: 'intel-root-crl' }),
 * });
 * verifyTdx(quote, { tdxCollateral: json }, ctx);
 * ```
 */
export function tdxCollateralFromEndorsements(set: TdxEndorsementSet): string {
  expectKind(set.tcbInfo, 'tdx-tcb-info', 'tcbInfo');
  expectKind(set.qeIdentity, 'tdx-qe-identity', 'qeIdentity');
  expectKind(set.pckCrl, 'pck-crl', 'pckCrl');
  expectKind(set.rootCrl, 'intel-root-crl', 'rootCrl');
  const tcb = splitSignedJson(set.tcbInfo.body, 'tcbInfo', 'tdx-tcb-info');
  const qe = splitSignedJson(set.qeIdentity.body, 'enclaveIdentity', 'tdx-qe-identity');
  const collateral: TdxCollateralV3 = {
    pck_crl_issuer_chain: chainOf(set.pckCrl, 'pckCrl'),
    root_ca_crl: toHex(set.rootCrl.body),
    pck_crl: toHex(set.pckCrl.body),
    tcb_info_issuer_chain: chainOf(set.tcbInfo, 'tcbInfo'),
    tcb_info: tcb.text,
    tcb_info_signature: tcb.signatureHex.toLowerCase(),
    qe_identity_issuer_chain: chainOf(set.qeIdentity, 'qeIdentity'),
    qe_identity: qe.text,
    qe_identity_signature: qe.signatureHex.toLowerCase(),
  };
  return JSON.stringify(collateral);
}
