/**
 * The typed error of EAR verification.
 *
 * @module
 */
import { TwiError } from '../../common/errors.js';

/** Stable codes of {@link EarError}. */
export type EarErrorCode =
  'ERR_EAR_SIGNATURE_INVALID' | 'ERR_EAR_EXPIRED' | 'ERR_EAR_KEY_NOT_FOUND' | 'ERR_EAR_INVALID';

/**
 * A signed EAR that cannot be accepted: bad signature (`ERR_EAR_SIGNATURE_INVALID`), past its
 * `exp` (`ERR_EAR_EXPIRED`), no matching key in a JWKS (`ERR_EAR_KEY_NOT_FOUND`), or a
 * malformed token or claims-set (`ERR_EAR_INVALID`). The underlying `jose` error is the `cause`.
 */
export class EarError extends TwiError {
  override readonly code: EarErrorCode;

  constructor(code: EarErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
