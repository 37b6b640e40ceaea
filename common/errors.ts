/**
 * Error classes. Every error twi raises for bad input carries a stable `code`
 * (`ERR_*`) so callers can `switch (err.code)`; caller misuse is a plain `TypeError`.
 *
 * @module
 */

/** Base class of every twi error. */
export class TwiError extends Error {
  /** Stable, machine-readable error code. */
  readonly code: string = 'ERR_TWI';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Where in the evidence a problem was found. */
export interface EvidenceLocation {
  /** Spec field name, e.g. `signature_data_len` or `POLICY`. */
  field: string;
  /** Byte offset of the field in the evidence, when it has one. */
  offset?: number;
}

function describe(message: string, at: EvidenceLocation): string {
  return at.offset === undefined
    ? `${at.field}: ${message}`
    : `${at.field} at offset 0x${at.offset.toString(16)}: ${message}`;
}

/** An error about a place in the evidence bytes: the field and, where known, its offset. */
export abstract class EvidenceLocatedError extends TwiError {
  readonly field: string;
  readonly offset: number | undefined;

  constructor(message: string, at: EvidenceLocation, options?: ErrorOptions) {
    super(describe(message, at), options);
    this.field = at.field;
    this.offset = at.offset;
  }
}

/** Evidence bytes that do not follow their format: truncated, inconsistent lengths, bad reserved bytes. */
export class EvidenceMalformedError extends EvidenceLocatedError {
  override readonly code = 'ERR_EVIDENCE_MALFORMED';
}

/** Well-formed evidence of a version, type or algorithm twi does not handle. */
export class EvidenceUnsupportedError extends EvidenceLocatedError {
  override readonly code = 'ERR_EVIDENCE_UNSUPPORTED';
}

/**
 * An attester event log that does not follow its format (the `event_log` member of an attest
 * request, or the TD's CC event log in it): truncated, over its bounds, undeclared algorithms.
 */
export class EventLogMalformedError extends EvidenceLocatedError {
  override readonly code = 'ERR_EVENT_LOG_MALFORMED';
}

/**
 * An event log whose replay does not give the registers the evidence carries; `field` names
 * the first register that differs (e.g. `RTMR1`).
 */
export class EventLogMismatchError extends EvidenceLocatedError {
  override readonly code = 'ERR_EVENT_LOG_MISMATCH';
}

/** Input whose platform cannot be recognised. */
export class UnknownPlatformError extends TwiError {
  override readonly code = 'ERR_PLATFORM_UNKNOWN';
}

/** True for errors raised by twi (as opposed to bugs or Node errors). */
export function isTwiError(err: unknown): err is TwiError {
  return err instanceof TwiError;
}

/**
 * Stable codes of verification failures: evidence or endorsements that parse but
 * do not check out (signatures, chains, revocation, validity windows, TCB levels).
 */
export type VerificationCode =
  | 'ERR_SIGNATURE_INVALID'
  | 'ERR_CHAIN_UNTRUSTED_ROOT'
  | 'ERR_CHAIN_BROKEN'
  | 'ERR_CERT_EXPIRED'
  | 'ERR_CERT_NOT_YET_VALID'
  | 'ERR_CERT_REVOKED'
  | 'ERR_CERT_PROFILE'
  | 'ERR_CRL_INVALID'
  | 'ERR_CRL_EXPIRED'
  | 'ERR_COLLATERAL_INVALID'
  | 'ERR_COLLATERAL_EXPIRED'
  | 'ERR_COLLATERAL_MISMATCH'
  | 'ERR_COLLATERAL_ROLLBACK'
  | 'ERR_TCB_LEVEL_NOT_FOUND'
  | 'ERR_TDX_MODULE_MISMATCH'
  | 'ERR_QE_IDENTITY_MISMATCH'
  | 'ERR_QE_REPORT_DATA_MISMATCH'
  | 'ERR_KEY_MISMATCH'
  | 'ERR_TCB_MISMATCH'
  | 'ERR_PRODUCT_MISMATCH'
  | 'ERR_ENDORSEMENT_MISSING';

/** Evidence or endorsements that parse but fail a cryptographic or collateral check. */
export class VerificationError extends TwiError {
  override readonly code: VerificationCode;
  /** Which check, certificate or field failed, for reports. */
  readonly subject: string | undefined;

  constructor(code: VerificationCode, message: string, subject?: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.subject = subject;
  }
}

/** No valid copy of a needed endorsement could be had (service down, rate limited, expired cache). Retryable. */
export class EndorsementUnavailableError extends TwiError {
  override readonly code = 'ERR_ENDORSEMENT_UNAVAILABLE';
  /** True: asking again later may succeed. */
  readonly retryable = true;
}

/** An endorsement that was fetched or loaded but does not verify (bad signature, wrong content, expired). Never cached. */
export class EndorsementInvalidError extends TwiError {
  override readonly code = 'ERR_ENDORSEMENT_INVALID';
}
