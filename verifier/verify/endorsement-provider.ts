/**
 * The endorsement provider contract the verifier owns (ARCHITECTURE "Modules (layout v2)"):
 * typed requests for collateral and the one interface that `endorsements/` implements with
 * composable layers (offline store → cache → Intel PCS / AMD KDS). Each platform wing says
 * what it needs in these terms; the verifier decides which collateral counts.
 *
 * @internal
 * @module
 */

/** AMD product lines with a KDS endpoint. */
export type AmdProduct = 'Milan' | 'Genoa' | 'Turin';

/** SPLs that select a VCEK (Turin adds the FMC SPL). */
export interface AmdTcbSpl {
  readonly bl: number;
  readonly tee: number;
  readonly snp: number;
  readonly ucode: number;
  readonly fmc?: number;
}

/** What can be asked for. Every request has a stable {@link requestKey}. */
export type EndorsementRequest =
  /** Intel PCS `GET /tdx/certification/v4/tcb?fmspc=…` (TCB Info JSON + issuer chain). */
  | { readonly kind: 'tdx-tcb-info'; readonly fmspc: string }
  /** Intel PCS `GET /tdx/certification/v4/qe/identity` (TD_QE identity JSON + issuer chain). */
  | { readonly kind: 'tdx-qe-identity' }
  /** Intel PCS `GET /sgx/certification/v4/pckcrl?ca=…&encoding=der` (CRL + issuer chain). */
  | { readonly kind: 'pck-crl'; readonly ca: 'platform' | 'processor' }
  /** The Intel SGX Root CA CRL. */
  | { readonly kind: 'intel-root-crl' }
  /** AMD KDS VCEK for a chip (hwID, lowercase hex: 64 bytes, or 8 on Turin) at a TCB. */
  | {
      readonly kind: 'amd-vcek';
      readonly product: AmdProduct;
      readonly hwid: string;
      readonly tcb: AmdTcbSpl;
    }
  /** A VLEK (not publicly fetchable: only from an offline store or the attester). */
  | { readonly kind: 'amd-vlek'; readonly product: AmdProduct; readonly tcb: AmdTcbSpl }
  /** AMD KDS `cert_chain` (ASK or ASVK, then ARK). */
  | {
      readonly kind: 'amd-cert-chain';
      readonly product: AmdProduct;
      readonly keyKind: 'vcek' | 'vlek';
    }
  /** AMD KDS `crl` (signed by the ARK). */
  | { readonly kind: 'amd-crl'; readonly product: AmdProduct; readonly keyKind: 'vcek' | 'vlek' };

/** Where an endorsement came from, for EARs and metrics. */
export type EndorsementSource = 'offline' | 'cache' | 'network';

/** One piece of collateral, verified before it was returned (never before it was cached). */
export interface Endorsement {
  readonly request: EndorsementRequest;
  /**
   * The exact bytes: TCB Info / QE identity = the whole PCS response body (JSON text with
   * `tcbInfo`/`enclaveIdentity` and `signature`); CRLs and certificates = DER; AMD
   * `cert_chain` = PEM.
   */
  readonly body: Uint8Array;
  /** PEM issuer chain from the response header (Intel), when there is one. */
  readonly issuerChain?: string;
  /** Lowercase hex SHA-256 of `body`. */
  readonly sha256: string;
  readonly fetchedAt: Date;
  /** When this must be refreshed: `nextUpdate` of TCB Info / QE identity / CRL, `notAfter` of a certificate. */
  readonly nextUpdate: Date;
  readonly source: EndorsementSource;
}

/** Options of one {@link EndorsementProvider.get} call. */
export interface GetOptions {
  /** The instant freshness is judged at (injected, never the wall clock implicitly). */
  readonly now: Date;
  readonly signal?: AbortSignal;
}

/**
 * The one interface every layer implements.
 *
 * @throws `EndorsementUnavailableError` (`ERR_ENDORSEMENT_UNAVAILABLE`, retryable) when no
 *   valid copy can be had; `EndorsementInvalidError` (`ERR_ENDORSEMENT_INVALID`) when what was
 *   fetched does not verify (never cached).
 */
export interface EndorsementProvider {
  get(request: EndorsementRequest, options: GetOptions): Promise<Endorsement>;
  /**
   * What the collector does when a CRL cannot be had (see {@link CrlPolicy}); read it with
   * `crlPolicyOf(provider)`, which treats unset as `'require'`.
   */
  readonly crlPolicy?: CrlPolicy;
}

/**
 * The fail-open-on-missing-CRL switch. `'require'` (the default): a CRL that is unavailable
 * fails the appraisal like any other missing endorsement. `'allow-missing'`: when a CRL
 * request ends in `EndorsementUnavailableError` the collector proceeds without that
 * revocation check and the result says so. An invalid CRL, or one listing a certificate in
 * the chain, always fails.
 */
export type CrlPolicy = 'require' | 'allow-missing';

/** True for the requests whose answer is a certificate revocation list. */
export function isCrlRequest(r: EndorsementRequest): boolean {
  return r.kind === 'pck-crl' || r.kind === 'intel-root-crl' || r.kind === 'amd-crl';
}

/** Stable cache key of a request. */
export function requestKey(r: EndorsementRequest): string {
  switch (r.kind) {
    case 'tdx-tcb-info':
      return `tdx-tcb-info/${r.fmspc.toLowerCase()}`;
    case 'tdx-qe-identity':
    case 'intel-root-crl':
      return r.kind;
    case 'pck-crl':
      return `pck-crl/${r.ca}`;
    case 'amd-vcek':
      return `amd-vcek/${r.product}/${r.hwid.toLowerCase()}/${tcbKey(r.tcb)}`;
    case 'amd-vlek':
      return `amd-vlek/${r.product}/${tcbKey(r.tcb)}`;
    case 'amd-cert-chain':
    case 'amd-crl':
      return `${r.kind}/${r.product}/${r.keyKind}`;
  }
}

function tcbKey(t: AmdTcbSpl): string {
  return `fmc${t.fmc ?? '-'}.bl${t.bl}.tee${t.tee}.snp${t.snp}.ucode${t.ucode}`;
}

/**
 * The CRL policy a provider publishes; unset means `'require'`. The collector reads this to
 * decide whether an unavailable CRL fails the appraisal.
 *
 * @example
 * ```ts
 * if (isCrlRequest(request) && crlPolicyOf(provider) === 'allow-missing') { ... }
 * ```
 */
export function crlPolicyOf(provider: EndorsementProvider): CrlPolicy {
  return provider.crlPolicy ?? 'require';
}
