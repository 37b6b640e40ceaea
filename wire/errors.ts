/**
 * The error of the v1 wire contract: a CMW or a v1 message that does not follow its shape.
 * Both sides raise it; the service answers it as a 400 problem with the same `code`.
 *
 * @module
 */
import { TwiError } from '../common/errors.js';

/**
 * Stable codes of wire errors: `ERR_CMW_INVALID` (a malformed CMW collection),
 * `ERR_CMW_MEDIA_TYPE` (a CMW record of an unknown media type), `ERR_MESSAGE_INVALID` (a v1
 * request or answer missing a member or holding one of the wrong type).
 */
export type WireErrorCode = 'ERR_CMW_INVALID' | 'ERR_CMW_MEDIA_TYPE' | 'ERR_MESSAGE_INVALID';

/** A CMW or v1 message that breaks the wire contract (ARCHITECTURE "Wire contracts (v1)"). */
export class WireError extends TwiError {
  override readonly code: WireErrorCode;

  constructor(code: WireErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
