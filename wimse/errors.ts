/**
 * The typed error of WIMSE credential issuance and verification (WIT, WPT, JWKS).
 *
 * @module
 */
import { TwiError } from '../common/errors.js';

/** Stable codes of a rejected Workload Identity Token. */
export type WitErrorCode =
  | 'ERR_WIT_MISSING'
  | 'ERR_WIT_INVALID'
  | 'ERR_WIT_SIGNATURE'
  | 'ERR_WIT_EXPIRED'
  | 'ERR_WIT_UNKNOWN_KEY'
  | 'ERR_WIT_REVOKED'
  | 'ERR_WIT_TRUST_DOMAIN'
  | 'ERR_WIT_ISSUER';

/** Stable codes of a rejected Workload Proof Token. */
export type WptErrorCode =
  | 'ERR_WPT_MISSING'
  | 'ERR_WPT_INVALID'
  | 'ERR_WPT_SIGNATURE'
  | 'ERR_WPT_ALG_MISMATCH'
  | 'ERR_WPT_AUDIENCE'
  | 'ERR_WPT_EXPIRED'
  | 'ERR_WPT_WTH'
  | 'ERR_WPT_REPLAY'
  | 'ERR_WPT_ATH'
  | 'ERR_WPT_TTH'
  | 'ERR_WPT_OTH';

/** Every code a {@link WimseError} can carry; `ERR_JWKS_UNAVAILABLE` is retryable. */
export type WimseErrorCode = WitErrorCode | WptErrorCode | 'ERR_JWKS_UNAVAILABLE';

/**
 * A WIT or WPT that cannot be accepted, or an issuer key set that cannot be had.
 *
 * @example
 * ```ts
 * try {
 *   await verifyWorkloadRequest(req.headers, options);
 * } catch (err) {
 *   if (err instanceof WimseError && err.code === 'ERR_WPT_REPLAY') audit(err);
 * }
 * ```
 */
export class WimseError extends TwiError {
  override readonly code: WimseErrorCode;

  constructor(code: WimseErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /** True when asking again later may succeed (the issuer's JWKS could not be fetched). */
  get retryable(): boolean {
    return this.code === 'ERR_JWKS_UNAVAILABLE';
  }
}

/** Stable codes of a refused mutual-TLS peer (`wimse/mtls.ts`, `twi rp verify-cert`). */
export type MtlsErrorCode =
  | 'ERR_PEER_CERT_MISSING'
  | 'ERR_PEER_INVALID'
  | 'ERR_PEER_UNTRUSTED'
  | 'ERR_PEER_EXPIRED'
  | 'ERR_PEER_NOT_YET_VALID'
  | 'ERR_PEER_REVOKED'
  | 'ERR_PEER_ID_NOT_ALLOWED';

/**
 * A TLS peer certificate (an X.509 workload certificate) that cannot be accepted: none was
 * presented, it does not follow the X509-SVID leaf rules, it does not chain to the bundle's
 * X.509 authorities, it is outside its validity, revoked in the bundle, or its identifier is
 * not on the allow-list.
 *
 * @example
 * ```ts
 * createMtlsServer({ ...options, onReject: (err) => log.warn({ code: err.code }, err.message) });
 * ```
 */
export class MtlsError extends TwiError {
  override readonly code: MtlsErrorCode;

  constructor(code: MtlsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Stable codes of a failed issuer discovery (`wimse/discovery.ts`, `twi rp verify --issuer`). */
export type DiscoveryErrorCode =
  'ERR_DISCOVERY_URL' | 'ERR_DISCOVERY_FETCH' | 'ERR_DISCOVERY_INVALID' | 'ERR_DISCOVERY_ISSUER';

/**
 * An issuer whose keys cannot be found from its URL: the issuer or `jwks_uri` is not an
 * acceptable URL (`ERR_DISCOVERY_URL`: not https, except http on a loopback address), a
 * document could not be fetched (`ERR_DISCOVERY_FETCH`: network, TLS, status, size), the
 * metadata is not a JSON object with a `jwks_uri` or the key set has no `keys` array
 * (`ERR_DISCOVERY_INVALID`), or the metadata names another issuer (`ERR_DISCOVERY_ISSUER`).
 */
export class DiscoveryError extends TwiError {
  override readonly code: DiscoveryErrorCode;

  constructor(code: DiscoveryErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
