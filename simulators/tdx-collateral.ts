/**
 * Simulated TDX collateral in the `QuoteCollateralV3` shape, signed by the simulated Intel PKI:
 * TCB Info and QE identity texts signed by the TCB Signing key, PCK CRL by the PCK CA,
 * Root CA CRL by the root. Validity windows are placed around the simulated `now` like
 * Intel's: TCB Info, QE identity and PCK CRL issued a day before and valid for 30 days,
 * the Root CA CRL valid for a year.
 *
 * @internal
 * @module
 */
import { toHex } from '../common/bytes.js';
import type { TdxCollateralV3 } from '../verifier/platforms/tdx/collateral/v3.js';
import type { IntelPki, PckCa } from './pki/intel.js';
import { intelDate, qeIdentityText, tcbInfoText } from './tdx-collateral-json.js';
import { resolveTcbLevels } from './tdx-levels.js';
import { SIM_DEFAULTS, SIM_QE_MRSIGNER } from './tdx-options.js';
import type { SimQeTcbLevel, TdxSimOptions } from './tdx-options.js';
import { simTeeTcbSvn } from './tdx-quote.js';

const DAY = 24 * 3600 * 1000;

/** Validity instants of the simulated collateral, all derived from `now`. */
export interface SimWindows {
  issue: number;
  next: number;
  rootCrlNext: number;
  tcbDate: string;
}

/** Collateral validity around `now`: issued a day before, valid for 30 days (root CRL: a year). */
export function simWindows(now: Date): SimWindows {
  const issue = Math.floor((now.getTime() - DAY) / 1000) * 1000;
  const tcbDay = Math.floor((now.getTime() - 180 * DAY) / DAY) * DAY;
  return {
    issue,
    next: issue + 30 * DAY,
    rootCrlNext: issue + 365 * DAY,
    tcbDate: intelDate(tcbDay),
  };
}

function tcbInfo(o: TdxSimOptions, w: SimWindows): string {
  const teeTcbSvn = simTeeTcbSvn(o);
  const platform = {
    sgxTcbComps: [...(o.sgxTcbComps ?? SIM_DEFAULTS.sgxTcbComps)],
    pceSvn: o.pceSvn ?? SIM_DEFAULTS.pceSvn,
    teeTcbSvn,
  };
  return tcbInfoText({
    issueDate: intelDate(w.issue),
    nextUpdate: intelDate(w.next),
    fmspc: o.fmspc ?? SIM_DEFAULTS.fmspc,
    pceId: SIM_DEFAULTS.pceId,
    tcbEvaluationDataNumber: o.tcbEvaluationDataNumber ?? SIM_DEFAULTS.tcbEvaluationDataNumber,
    tcbDate: w.tcbDate,
    mrSignerSeam: new Uint8Array(48),
    teeTcbSvn,
    moduleStatus: o.tdxModuleStatus ?? 'UpToDate',
    levels: resolveTcbLevels(platform, o.tcbLevels, o.platformTcb),
  });
}

const DEFAULT_QE_LEVELS: SimQeTcbLevel[] = [{ isvSvn: SIM_DEFAULTS.qeIsvSvn, status: 'UpToDate' }];

function qeIdentity(o: TdxSimOptions, w: SimWindows): string {
  return qeIdentityText({
    issueDate: intelDate(w.issue),
    nextUpdate: intelDate(w.next),
    tcbEvaluationDataNumber: o.tcbEvaluationDataNumber ?? SIM_DEFAULTS.tcbEvaluationDataNumber,
    tcbDate: w.tcbDate,
    miscselect: '00000000',
    miscselectMask: 'FFFFFFFF',
    attributes: SIM_DEFAULTS.qeIdentityAttributes,
    attributesMask: SIM_DEFAULTS.qeIdentityAttributesMask,
    mrSigner: SIM_QE_MRSIGNER,
    isvProdId: SIM_DEFAULTS.qeIsvProdId,
    levels: o.qeTcbLevels ?? DEFAULT_QE_LEVELS,
  });
}

/** What the collateral needs to know about the PCK certificate in the quote. */
export interface SimPck {
  ca: PckCa;
  serial: bigint;
}

/** Builds and signs the collateral for a simulated quote. */
export function buildSimCollateral(pki: IntelPki, o: TdxSimOptions, pck: SimPck): TdxCollateralV3 {
  const w = simWindows(o.now);
  const thisUpdate = new Date(w.issue);
  const pckCrl = pki.pckCrl(pck.ca, {
    thisUpdate,
    nextUpdate: new Date(w.next),
    revoked: o.pckRevoked ? [pck.serial] : [],
  });
  const rootCrl = pki.rootCrl({ thisUpdate, nextUpdate: new Date(w.rootCrlNext) });
  const tcb = tcbInfo(o, w);
  const qe = qeIdentity(o, w);
  return {
    pck_crl_issuer_chain: pki.pckCrlIssuerChainPem(pck.ca),
    root_ca_crl: toHex(rootCrl),
    pck_crl: toHex(pckCrl),
    tcb_info_issuer_chain: pki.issuerChainPem,
    tcb_info: tcb,
    tcb_info_signature: pki.signCollateral(tcb),
    qe_identity_issuer_chain: pki.issuerChainPem,
    qe_identity: qe,
    qe_identity_signature: pki.signCollateral(qe),
  };
}
