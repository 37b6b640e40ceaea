/**
 * The errors of the service's certificate authority: a refused certificate signing request
 * (`CsrError`) and an issuing CA that cannot be created or loaded (`CaError`), each with a stable
 * code (docs/x509.md "Error codes").
 *
 * @internal
 * @module
 */
import { TwiError } from '../../common/errors.js';

/** Stable codes of a refused PKCS#10 certificate signing request. */
export type CsrCode =
  | 'ERR_CSR_INVALID'
  | 'ERR_CSR_TOO_LARGE'
  | 'ERR_CSR_SIGNATURE'
  | 'ERR_CSR_KEY_MISMATCH'
  | 'ERR_CSR_UNSUPPORTED_ALG'
  | 'ERR_CSR_CA_REQUESTED'
  | 'ERR_CSR_SAN';

/** A certificate signing request the CA refuses: the code says which rule it broke. */
export class CsrError extends TwiError {
  override readonly code: CsrCode;

  constructor(code: CsrCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Stable codes of an issuing CA that cannot be created or loaded. */
export type CaCode =
  | 'ERR_CA_INVALID'
  | 'ERR_CA_UNSUPPORTED_ALG'
  | 'ERR_CA_KEY_MISMATCH'
  | 'ERR_CA_NOT_CA'
  | 'ERR_CA_CHAIN'
  | 'ERR_CA_EXPIRED';

/** An operator-supplied CA certificate, chain or key that cannot issue, or a bad root request. */
export class CaError extends TwiError {
  override readonly code: CaCode;

  constructor(code: CaCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
