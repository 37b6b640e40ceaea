/**
 * Assembling and signing a simulated TDX quote with the twi codec: TD report body from the
 * options, QE report signed by the PCK key, quote signed by the attestation key.
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto';
import { fromHex } from '../common/bytes.js';
import {
  ATT_KEY_TYPE_ECDSA_P256,
  BODY_TYPE_TD10,
  BODY_TYPE_TD15,
  CERT_TYPE_QE_REPORT,
  INTEL_QE_VENDOR_ID,
  TEE_TYPE_TDX,
} from '../verifier/platforms/tdx/abi/types.js';
import { pckCertChainFromPem } from '../verifier/platforms/tdx/collateral/pem.js';
import { quoteSignedBytes, serializeTdxQuote } from '../verifier/platforms/tdx/abi/quote.js';
import { serializeSgxReportBody } from '../verifier/platforms/tdx/abi/sgx-report.js';
import type {
  SgxReportBody,
  TdReportBody,
  TdxBodyType,
  TdxQuote,
  TdxQuoteHeader,
} from '../verifier/platforms/tdx/abi/types.js';
import type { EcKeyPair } from './pki/keys.js';
import {
  SIM_DEFAULTS,
  SIM_QE_MRENCLAVE,
  SIM_QE_MRSIGNER,
  seededBytes,
  u64Bytes,
} from './tdx-options.js';
import type { TdxSimOptions } from './tdx-options.js';

/** QE authentication data: 32 bytes 00..1f, as Intel's TD QE emits. */
const QE_AUTH_DATA = Uint8Array.from({ length: 32 }, (_, i) => i);

/** The body type the options ask for: v4 carries only type 2; v5 defaults to type 3. */
export function simBodyType(o: TdxSimOptions): TdxBodyType {
  if ((o.version ?? 4) === 4) {
    if (o.bodyType === BODY_TYPE_TD15) throw new TypeError('a v4 quote carries body type 2 only');
    return BODY_TYPE_TD10;
  }
  return o.bodyType ?? BODY_TYPE_TD15;
}

/** The TEE_TCB_SVN the options ask for (also used for the TCB Info). */
export function simTeeTcbSvn(o: TdxSimOptions): Uint8Array {
  return o.teeTcbSvn ?? SIM_DEFAULTS.teeTcbSvn;
}

function tdAttributes(o: TdxSimOptions): Uint8Array {
  const base = o.tdAttributes ?? SIM_DEFAULTS.tdAttributes;
  return u64Bytes(o.debug ? base | 1n : base);
}

/** The TD report body from the options and seeded defaults. */
export function simBody(o: TdxSimOptions, type: TdxBodyType): TdReportBody {
  const seeded = (label: string, n: number): Uint8Array => seededBytes(o.seed, label, n);
  const zero48 = new Uint8Array(48);
  const body: TdReportBody = {
    teeTcbSvn: simTeeTcbSvn(o),
    mrSeam: o.mrSeam ?? seeded('mrseam', 48),
    mrSignerSeam: zero48,
    seamAttributes: new Uint8Array(8),
    tdAttributes: tdAttributes(o),
    xfam: u64Bytes(o.xfam ?? SIM_DEFAULTS.xfam),
    mrTd: o.mrTd ?? seeded('mrtd', 48),
    mrConfigId: o.mrConfigId ?? zero48,
    mrOwner: o.mrOwner ?? zero48,
    mrOwnerConfig: o.mrOwnerConfig ?? zero48,
    rtmr: o.rtmr ?? [seeded('rtmr0', 48), seeded('rtmr1', 48), seeded('rtmr2', 48), zero48],
    reportData: o.reportData ?? seeded('report_data', 64),
  };
  if (type === BODY_TYPE_TD15) {
    body.teeTcbSvn2 = o.teeTcbSvn2 ?? body.teeTcbSvn;
    body.mrServiceTd = o.mrServiceTd ?? zero48;
  }
  return body;
}

function simHeader(o: TdxSimOptions): TdxQuoteHeader {
  const userData = new Uint8Array(20);
  userData.set(seededBytes(o.seed, 'qe-user-data', 16));
  return {
    version: o.version ?? 4,
    attestationKeyType: ATT_KEY_TYPE_ECDSA_P256,
    teeType: TEE_TYPE_TDX,
    reserved: new Uint8Array(4),
    qeVendorId: fromHex(INTEL_QE_VENDOR_ID),
    userData,
  };
}

/** The QE report binding the attestation key: REPORTDATA = SHA-256(key ‖ auth data) ‖ 0³². */
function simQeReport(o: TdxSimOptions, attestationKey: Uint8Array): SgxReportBody {
  const reportData = new Uint8Array(64);
  reportData.set(createHash('sha256').update(attestationKey).update(QE_AUTH_DATA).digest());
  return {
    cpuSvn: Uint8Array.from(o.sgxTcbComps ?? SIM_DEFAULTS.sgxTcbComps),
    miscSelect: 0,
    isvExtProdId: new Uint8Array(16),
    attributes: fromHex(SIM_DEFAULTS.qeAttributes),
    mrEnclave: SIM_QE_MRENCLAVE,
    mrSigner: SIM_QE_MRSIGNER,
    configId: new Uint8Array(64),
    isvProdId: SIM_DEFAULTS.qeIsvProdId,
    isvSvn: o.qeIsvSvn ?? SIM_DEFAULTS.qeIsvSvn,
    configSvn: 0,
    isvFamilyId: new Uint8Array(16),
    reportData,
  };
}

/** Keys and chain that sign a simulated quote. */
export interface QuoteSigners {
  attestationKey: EcKeyPair;
  pckKey: EcKeyPair;
  /** PEM of PCK leaf, PCK CA and root. */
  pckChainPem: string;
}

/** Builds, signs and serializes the quote. */
export function buildSimQuote(o: TdxSimOptions, s: QuoteSigners): Uint8Array {
  const bodyType = simBodyType(o);
  const qeReport = simQeReport(o, s.attestationKey.publicRaw);
  const quote: TdxQuote = {
    header: simHeader(o),
    bodyType,
    body: simBody(o, bodyType),
    signatureData: {
      signature: new Uint8Array(64),
      attestationKey: s.attestationKey.publicRaw,
      certificationData: {
        type: CERT_TYPE_QE_REPORT,
        qeReport,
        qeReportSignature: s.pckKey.signRaw(serializeSgxReportBody(qeReport)),
        qeAuthData: QE_AUTH_DATA,
        pckCertChain: pckCertChainFromPem(s.pckChainPem),
      },
    },
    trailing: new Uint8Array(0),
  };
  quote.signatureData.signature = s.attestationKey.signRaw(quoteSignedBytes(quote));
  return serializeTdxQuote(quote);
}
