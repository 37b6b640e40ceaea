/**
 * The error of the v1 wire contract: a CMW or a v1 message that does not follow its shape.
 * Both sides raise it; the service answers it as a 400 problem with the same `code`.
 *
 * @module
 */
import { TwiError } from '../common/errors.js';

/**
 * Stable codes of wire errors. The CMW codes (`ERR_CMW_*`) are listed with their causes in
 * `wire/cmw-codec.ts` (the CMW itself) and `wire/cmw.ts` (the evidence collection);
 * `ERR_MESSAGE_INVALID` is a v1 request or answer missing a member or holding one of the
 * wrong type.
 */
export type WireErrorCode =
  | 'ERR_CMW_INVALID'
  | 'ERR_CMW_EMPTY'
  | 'ERR_CMW_TOO_MANY_ITEMS'
  | 'ERR_CMW_TOO_DEEP'
  | 'ERR_CMW_LABEL_TOO_LONG'
  | 'ERR_CMW_TYPE_INVALID'
  | 'ERR_CMW_MEDIA_TYPE_INVALID'
  | 'ERR_CMW_VALUE_INVALID'
  | 'ERR_CMW_VALUE_TOO_LONG'
  | 'ERR_CMW_IND_INVALID'
  | 'ERR_CMW_IND_UNREGISTERED'
  | 'ERR_CMW_RECORD_UNUSED'
  | 'ERR_CMW_MEDIA_TYPE'
  | 'ERR_CMW_EVIDENCE_COUNT'
  | 'ERR_CMW_ENDORSEMENT_DUPLICATE'
  | 'ERR_MESSAGE_INVALID';

/** A CMW or v1 message that breaks the wire contract (ARCHITECTURE "Wire contracts (v1)"). */
export class WireError extends TwiError {
  override readonly code: WireErrorCode;

  constructor(code: WireErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
