/**
 * Collects the endorsements a piece of evidence needs from an {@link EndorsementProvider}:
 * TDX TCB Info (by the PCK certificate's FMSPC), QE identity, the PCK CRL of its CA and the
 * root CA CRL; SEV-SNP the VCEK for the chip and REPORTED_TCB, the KDS chain and CRL.
 * What the attester (or the operator) already supplied is used as it is.
 *
 * @module
 */
import { EndorsementUnavailableError, EvidenceMalformedError } from '../verifier/errors.js';
import { toHex } from '../verifier/platforms/bytes.js';
import {
  decodeSnpSignerInfo,
  decodeSnpTcb,
  type SnpReport,
} from '../verifier/platforms/sev-snp/index.js';
import type { TdxQuote } from '../verifier/platforms/tdx/index.js';
import { parsePckExtensions, pckCaKind } from '../verifier/platforms/tdx/pck-extensions.js';
import type { SuppliedEndorsements } from '../verifier/verify/types.js';
import { parseCertificateDer } from '../verifier/x509/certificate.js';
import { tdxCollateralFromEndorsements } from './pcs-collateral.js';
import { crlPolicyOf } from './provider/index.js';
import type {
  AmdProduct,
  CrlPolicy,
  Endorsement,
  EndorsementProvider,
  EndorsementRequest,
} from './provider/types.js';

export type { CrlPolicy };

/** Options of {@link collectEndorsements}. */
export interface CollectOptions {
  readonly provider: EndorsementProvider;
  /** The instant freshness is judged at. */
  readonly now: Date;
  readonly signal?: AbortSignal;
  /**
   * `require`: a missing AMD CRL fails the appraisal; `allow-missing`: it is skipped and
   * noted. Default: the provider's own `crlPolicy`, else `require`.
   */
  readonly crlPolicy?: CrlPolicy;
}

/** What was collected, and from where. */
export interface CollectedEndorsements {
  readonly endorsements: SuppliedEndorsements;
  /** The endorsements the provider returned (request, sha256, source), for EARs and logs. */
  readonly used: readonly Endorsement[];
  /** Things worth knowing, e.g. a CRL skipped under `allow-missing`. */
  readonly notes: readonly string[];
}

async function tdxEndorsements(quote: TdxQuote, o: CollectOptions): Promise<CollectedEndorsements> {
  const leafDer = quote.signatureData.certificationData.pckCertChain.certificates[0];
  if (leafDer === undefined) {
    throw new EvidenceMalformedError('the quote carries no PCK certificate', {
      field: 'pck_cert_chain',
    });
  }
  const leaf = parseCertificateDer(leafDer, 'pck_certificate');
  const get = (r: EndorsementRequest) => o.provider.get(r, { now: o.now, signal: o.signal });
  const [tcbInfo, qeIdentity, pckCrl, rootCrl] = await Promise.all([
    get({ kind: 'tdx-tcb-info', fmspc: parsePckExtensions(leaf).fmspc }),
    get({ kind: 'tdx-qe-identity' }),
    get({ kind: 'pck-crl', ca: pckCaKind(leaf) }),
    get({ kind: 'intel-root-crl' }),
  ]);
  const text = tdxCollateralFromEndorsements({ tcbInfo, qeIdentity, pckCrl, rootCrl });
  return {
    endorsements: { tdxCollateral: text },
    used: [tcbInfo, qeIdentity, pckCrl, rootCrl],
    notes: [],
  };
}

function snpProduct(report: SnpReport): AmdProduct {
  const p = report.product;
  if (p === 'Milan' || p === 'Genoa' || p === 'Turin') return p;
  throw new EndorsementUnavailableError(
    `the report does not name its product (VERSION ${report.version} without a known CPUID); ` +
      'supply the VCEK (--vcek) so the product comes from the certificate',
  );
}

async function snpEndorsements(
  report: SnpReport,
  o: CollectOptions,
): Promise<CollectedEndorsements> {
  const product = snpProduct(report);
  const keyKind = decodeSnpSignerInfo(report.signerInfo).signingKey === 'vlek' ? 'vlek' : 'vcek';
  const tcb = decodeSnpTcb(report.reportedTcb, product);
  const hwid = toHex(report.chipId.subarray(0, product === 'Turin' ? 8 : 64));
  const get = (r: EndorsementRequest) => o.provider.get(r, { now: o.now, signal: o.signal });
  const [key, chain] = await Promise.all([
    get(
      keyKind === 'vlek'
        ? { kind: 'amd-vlek', product, tcb }
        : { kind: 'amd-vcek', product, hwid, tcb },
    ),
    get({ kind: 'amd-cert-chain', product, keyKind }),
  ]);
  const used = [key, chain];
  const notes: string[] = [];
  let crl: Endorsement | undefined;
  try {
    crl = await get({ kind: 'amd-crl', product, keyKind });
    used.push(crl);
  } catch (err) {
    const policy = o.crlPolicy ?? crlPolicyOf(o.provider);
    if (policy !== 'allow-missing' || !(err instanceof EndorsementUnavailableError)) throw err;
    notes.push(`AMD ${product} CRL unavailable; revocation not checked (crlPolicy allow-missing)`);
  }
  return {
    endorsements: {
      snpKeyCert: key.body,
      snpCaChain: chain.body,
      ...(crl && { snpCrl: crl.body }),
    },
    used,
    notes,
  };
}

/**
 * Completes `supplied` with what the evidence still needs from the provider.
 *
 * @throws {EndorsementUnavailableError} (`ERR_ENDORSEMENT_UNAVAILABLE`, retryable) when a needed
 *   endorsement cannot be had; {@link EndorsementInvalidError} when what came back does not verify.
 *
 * @example
 * ```ts
 * const { endorsements } = await collectEndorsements('tdx', quote, {}, { provider, now });
 * verifyTdx(quote, endorsements, ctx);
 * ```
 */
export async function collectEndorsements(
  platform: 'tdx' | 'sev-snp' | 'nitro',
  parsed: unknown,
  supplied: SuppliedEndorsements,
  options: CollectOptions,
): Promise<CollectedEndorsements> {
  const none = { endorsements: supplied, used: [], notes: [] };
  if (platform === 'tdx') {
    return supplied.tdxCollateral ? none : tdxEndorsements(parsed as TdxQuote, options);
  }
  if (platform === 'sev-snp') {
    if (supplied.snpKeyCert || supplied.snpCertTable) return none;
    return snpEndorsements(parsed as SnpReport, options);
  }
  return none;
}
