/**
 * Collects the endorsements a piece of evidence needs from an {@link EndorsementProvider}:
 * TDX TCB Info (by the PCK certificate's FMSPC), QE identity, the PCK CRL of its CA and the
 * root CA CRL; SEV-SNP the VCEK for the chip and REPORTED_TCB, the KDS chain and CRL.
 *
 * The verifier decides the collateral (docs/endorsements.md "Collateral precedence"): what
 * the provider (PCS/KDS, cache, bundles) has always wins over what the attester supplied.
 * TDX collateral from the attester is used only when the provider cannot supply it; SEV-SNP
 * the attester's VCEK/VLEK is used as the key certificate, but its chain and CRL always come
 * from the provider, under the same `crlPolicy` as a fetched VCEK.
 *
 * @module
 */
import { EndorsementUnavailableError, EvidenceMalformedError } from '../common/errors.js';
import { toHex } from '../common/bytes.js';
import {
  decodeSnpSignerInfo,
  type SnpSigningKey,
} from '../verifier/platforms/sev-snp/abi/bit-fields.js';
import { decodeSnpTcb } from '../verifier/platforms/sev-snp/abi/tcb.js';
import { parseSnpCertTable } from '../verifier/platforms/sev-snp/abi/cert-table.js';
import type { SnpReport } from '../verifier/platforms/sev-snp/abi/types.js';
import { productFromCertificate } from '../verifier/platforms/sev-snp/collateral/vcek-extensions.js';
import type { TdxQuote } from '../verifier/platforms/tdx/abi/types.js';
import {
  parsePckExtensions,
  pckCaKind,
} from '../verifier/platforms/tdx/collateral/pck-extensions.js';
import type { CollateralSource, SuppliedEndorsements } from '../verifier/verify/types.js';
import { parseCertificateDer, parsePemChain } from '../common/x509/certificate.js';
import { isKdsRequest } from './kds.js';
import { tdxCollateralFromEndorsements } from './pcs-collateral.js';
import { crlPolicyOf } from './provider/compose.js';
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
  /**
   * Where each piece the verify stage reports came from, by collateral kind (`tcb-info`,
   * `vcek`, `ask`, `amd-crl`, …). A kind absent here has no single known source.
   */
  readonly sources: Readonly<Record<string, CollateralSource>>;
}

/** The {@link CollateralSource} of an endorsement the provider returned. */
export function collateralSourceOf(e: Endorsement): CollateralSource {
  if (e.source === 'offline') return 'bundle';
  if (e.source === 'cache') return 'cache';
  return isKdsRequest(e.request) ? 'kds' : 'pcs';
}

const TDX_ATTESTER: Readonly<Record<string, CollateralSource>> = {
  'pck-chain': 'attester',
  'tcb-info': 'attester',
  'qe-identity': 'attester',
  'pck-crl': 'attester',
  'root-ca-crl': 'attester',
};

/**
 * The sources of endorsements used as supplied (no provider): TDX collateral and SEV-SNP key
 * certificates and CRLs came with the evidence; an SEV-SNP ASK may be the verifier's own
 * built-in copy, so it is left without a source.
 */
export function suppliedSources(
  platform: 'tdx' | 'sev-snp' | 'nitro',
): Readonly<Record<string, CollateralSource>> {
  if (platform === 'tdx') return TDX_ATTESTER;
  if (platform === 'nitro') return { 'nitro-chain': 'attester' };
  return { vcek: 'attester', vlek: 'attester', 'amd-crl': 'attester' };
}

async function tdxFromProvider(quote: TdxQuote, o: CollectOptions): Promise<CollectedEndorsements> {
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
    sources: {
      'pck-chain': 'attester',
      'tcb-info': collateralSourceOf(tcbInfo),
      'qe-identity': collateralSourceOf(qeIdentity),
      'pck-crl': collateralSourceOf(pckCrl),
      'root-ca-crl': collateralSourceOf(rootCrl),
    },
  };
}

/** The provider's collateral; the attester's only when the provider has none to give. */
async function tdxEndorsements(
  quote: TdxQuote,
  supplied: SuppliedEndorsements,
  o: CollectOptions,
): Promise<CollectedEndorsements> {
  try {
    const fetched = await tdxFromProvider(quote, o);
    if (supplied.tdxCollateral === undefined) return fetched;
    const note = "the attester's TDX collateral was ignored: the verifier's own was available";
    return { ...fetched, notes: [note] };
  } catch (err) {
    if (supplied.tdxCollateral === undefined || !(err instanceof EndorsementUnavailableError)) {
      throw err;
    }
    const note =
      `the verifier's TDX collateral is unavailable (${err.message}); the attester's is used, ` +
      'subject to the policy minimum and the newest collateral seen for the FMSPC';
    return {
      endorsements: { tdxCollateral: supplied.tdxCollateral },
      used: [],
      notes: [note],
      sources: TDX_ATTESTER,
    };
  }
}

function isPem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart().startsWith('-----BEGIN');
}

function productOfKeyCert(bytes: Uint8Array): string {
  const cert = isPem(bytes)
    ? parsePemChain(bytes, 'snpKeyCert')[0]!
    : parseCertificateDer(bytes, 'snpKeyCert');
  return productFromCertificate(cert);
}

function snpProduct(report: SnpReport, keyCert: Uint8Array | undefined): AmdProduct {
  const p = report.product ?? (keyCert && productOfKeyCert(keyCert));
  if (p === 'Milan' || p === 'Genoa' || p === 'Turin') return p;
  throw new EndorsementUnavailableError(
    `the report does not name its product (VERSION ${report.version} without a known CPUID); ` +
      'supply the VCEK (--vcek) so the product comes from the certificate',
  );
}

interface AttesterSnp {
  /** The VCEK or VLEK: `snpKeyCert`, else the cert table's entry for SIGNING_KEY. */
  readonly keyCert: Uint8Array | undefined;
  /** The cert table's CRL, used only when the provider has none under `allow-missing`. */
  readonly crl: Uint8Array | undefined;
}

function attesterSnp(supplied: SuppliedEndorsements, signingKey: SnpSigningKey): AttesterSnp {
  const entries =
    supplied.snpCertTable === undefined ? [] : parseSnpCertTable(supplied.snpCertTable);
  const first = (kind: string) => entries.find((e) => e.kind === kind)?.data;
  const fromTable =
    signingKey === 'vlek' ? (first('vlek') ?? first('vcek')) : (first('vcek') ?? first('vlek'));
  return { keyCert: supplied.snpKeyCert ?? fromTable, crl: supplied.snpCrl ?? first('crl') };
}

async function snpEndorsements(
  report: SnpReport,
  supplied: SuppliedEndorsements,
  o: CollectOptions,
): Promise<CollectedEndorsements> {
  const signingKey = decodeSnpSignerInfo(report.signerInfo).signingKey;
  const attester = attesterSnp(supplied, signingKey);
  const product = snpProduct(report, attester.keyCert);
  const keyKind = signingKey === 'vlek' ? 'vlek' : 'vcek';
  const tcb = decodeSnpTcb(report.reportedTcb, product);
  const hwid = toHex(report.chipId.subarray(0, product === 'Turin' ? 8 : 64));
  const get = (r: EndorsementRequest) => o.provider.get(r, { now: o.now, signal: o.signal });
  const keyRequest: EndorsementRequest =
    keyKind === 'vlek'
      ? { kind: 'amd-vlek', product, tcb }
      : { kind: 'amd-vcek', product, hwid, tcb };
  const [key, chain] = await Promise.all([
    attester.keyCert === undefined ? get(keyRequest) : undefined,
    get({ kind: 'amd-cert-chain', product, keyKind }),
  ]);
  const used = key ? [key, chain] : [chain];
  const notes: string[] = [];
  const sources: Record<string, CollateralSource> = {
    [keyKind]: key ? collateralSourceOf(key) : 'attester',
    [keyKind === 'vlek' ? 'asvk' : 'ask']: collateralSourceOf(chain),
  };
  let crl: Uint8Array | undefined;
  try {
    const fetched = await get({ kind: 'amd-crl', product, keyKind });
    used.push(fetched);
    crl = fetched.body;
    sources['amd-crl'] = collateralSourceOf(fetched);
  } catch (err) {
    const policy = o.crlPolicy ?? crlPolicyOf(o.provider);
    if (policy !== 'allow-missing' || !(err instanceof EndorsementUnavailableError)) throw err;
    crl = attester.crl;
    if (crl) sources['amd-crl'] = 'attester';
    notes.push(
      crl
        ? `AMD ${product} CRL unavailable; the attester's CRL is checked instead (crlPolicy allow-missing)`
        : `AMD ${product} CRL unavailable; revocation not checked (crlPolicy allow-missing)`,
    );
  }
  return {
    endorsements: {
      snpKeyCert: attester.keyCert ?? key!.body,
      snpCaChain: chain.body,
      ...(crl && { snpCrl: crl }),
    },
    used,
    notes,
    sources,
  };
}

/**
 * Decides the endorsements of one piece of evidence: the provider's, or, where the rules
 * allow, what the attester supplied (see the module comment).
 *
 * @throws {EndorsementUnavailableError} (`ERR_ENDORSEMENT_UNAVAILABLE`, retryable) when a needed
 *   endorsement cannot be had — for SEV-SNP also when the attester supplied the VCEK and only
 *   the CRL is missing (unless `allow-missing`); {@link EndorsementInvalidError} when what came
 *   back does not verify; `ERR_EVIDENCE_MALFORMED` for an unreadable certificate table.
 *
 * @example
 * ```ts
 * const { endorsements, sources } = await collectEndorsements('tdx', quote, {}, { provider, now });
 * verifyTdx(quote, endorsements, ctx);
 * ```
 */
export async function collectEndorsements(
  platform: 'tdx' | 'sev-snp' | 'nitro',
  parsed: unknown,
  supplied: SuppliedEndorsements,
  options: CollectOptions,
): Promise<CollectedEndorsements> {
  if (platform === 'tdx') return tdxEndorsements(parsed as TdxQuote, supplied, options);
  if (platform === 'sev-snp') return snpEndorsements(parsed as SnpReport, supplied, options);
  return { endorsements: supplied, used: [], notes: [], sources: suppliedSources(platform) };
}
