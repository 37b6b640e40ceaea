/**
 * Errors of the shim. Each has a stable `code`; the local API maps them to problem+json.
 *
 * @internal
 * @module
 */
import { TwiError } from '../common/errors.js';

/** Stable codes of {@link ShimError}. */
export type ShimErrorCode =
  /** The verifier could not be reached, timed out or answered 5xx/429 (retryable). */
  | 'ERR_SHIM_VERIFIER_UNAVAILABLE'
  /** The verifier refused the attestation (4xx problem): not retried with the same evidence. */
  | 'ERR_SHIM_ATTEST_REFUSED'
  /** The verifier's answer does not have the expected shape. */
  | 'ERR_SHIM_VERIFIER_RESPONSE'
  /** No credential yet, or the last one expired. */
  | 'ERR_SHIM_NO_CREDENTIAL'
  /** The credential was revoked (bundle `revoked_jtis` or its key gone); re-attesting. */
  | 'ERR_SHIM_CREDENTIAL_REVOKED'
  /**
   * A WIT from the verifier failed the shim's check against its bundle (signature, `typ`,
   * trust domain, `cnf.jwk`, expiry, revocation): not served; retried with backoff.
   */
  | 'ERR_SHIM_WIT_REJECTED'
  /** A bad request to the local API. */
  | 'ERR_SHIM_BAD_REQUEST'
  /** The configuration (file or options) is invalid. */
  | 'ERR_SHIM_CONFIG'
  /**
   * The files directory (`--files`) is not a directory, or cannot be created or tightened to
   * 0700.
   */
  | 'ERR_SHIM_FILES'
  /** The TD's CC event log (CCEL table data) exists but cannot be read, or is over its bound. */
  | 'ERR_SHIM_EVENT_LOG'
  /**
   * Agent mode: the caller on the socket cannot be identified (no peer credentials, or its
   * process exited or was replaced while it was being examined).
   */
  | 'ERR_SHIM_CALLER';

/** A shim failure with a stable code; `status` is the verifier's HTTP status when there was one. */
export class ShimError extends TwiError {
  override readonly code: ShimErrorCode;
  /** The verifier's problem code (e.g. `ERR_NONCE_REUSED`), when it answered one. */
  readonly verifierCode: string | undefined;
  readonly status: number | undefined;

  constructor(
    code: ShimErrorCode,
    message: string,
    extra: { status?: number; verifierCode?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.status = extra.status;
    this.verifierCode = extra.verifierCode;
  }

  /** True for failures worth retrying later (verifier unreachable or overloaded). */
  get retryable(): boolean {
    return this.code === 'ERR_SHIM_VERIFIER_UNAVAILABLE';
  }
}
