/**
 * The typed error of CoRIM handling. Every problem names where it was found as a path from
 * the document root, e.g. `corim.tags[0].triples.reference-triples[1].environment`.
 *
 * @internal
 * @module
 */
import { TwiError } from '../../common/errors.js';

/**
 * Stable codes of {@link CorimError}:
 * - `ERR_CORIM_INVALID`: bytes that are not a well-formed CoRIM (CBOR, CDDL, size limits);
 * - `ERR_CORIM_SIGNATURE`: a COSE signature that no trusted key verifies, or a signed CoRIM
 *   with no trusted key configured;
 * - `ERR_CORIM_EXPIRED`, `ERR_CORIM_NOT_YET_VALID`: `rim-validity` (or the signature
 *   validity) does not contain the instant the CoRIM is used at;
 * - `ERR_CORIM_UNSUPPORTED`: a well-formed CoRIM stating a reference value twi's policy
 *   model cannot express (it is refused rather than silently dropped);
 * - `ERR_CORIM_UNREADABLE`: a CoRIM or key file that cannot be read.
 */
export type CorimErrorCode =
  | 'ERR_CORIM_INVALID'
  | 'ERR_CORIM_SIGNATURE'
  | 'ERR_CORIM_EXPIRED'
  | 'ERR_CORIM_NOT_YET_VALID'
  | 'ERR_CORIM_UNSUPPORTED'
  | 'ERR_CORIM_UNREADABLE';

/** A CoRIM that cannot be used; `path` says where. */
export class CorimError extends TwiError {
  override readonly code: CorimErrorCode;
  /** Where the problem is, e.g. `corim.tags[0].triples.reference-triples[1]`. */
  readonly path: string;

  constructor(code: CorimErrorCode, path: string, message: string, options?: ErrorOptions) {
    super(`${path}: ${message}`, options);
    this.code = code;
    this.path = path;
  }
}

/** Shorthand for an `ERR_CORIM_INVALID` error. */
export function invalid(path: string, message: string, options?: ErrorOptions): CorimError {
  return new CorimError('ERR_CORIM_INVALID', path, message, options);
}

/** Shorthand for an `ERR_CORIM_UNSUPPORTED` error. */
export function unsupported(path: string, message: string): CorimError {
  return new CorimError('ERR_CORIM_UNSUPPORTED', path, message);
}
