/**
 * The typed error of supply-chain records, the provenance linker and the transparency log.
 *
 * @internal
 * @module
 */
import { TwiError } from '../common/errors.js';

/**
 * Stable codes of {@link ProvenanceError}:
 * - `ERR_PROVENANCE_MALFORMED`: not a DSSE envelope / in-toto Statement v1 / SLSA v1
 *   predicate / CoRIM of the expected shape (bad JSON, base64, field types, hex);
 * - `ERR_PROVENANCE_OVERSIZED`: over a size or count limit;
 * - `ERR_PROVENANCE_UNVERIFIABLE`: no signature verifies with a configured builder key (or
 *   the CoRIM's COSE signature with a configured CoRIM key), or the record is unsigned;
 * - `ERR_PROVENANCE_UNKNOWN_BUILDER`: the signing key (or Sigstore identity) may not speak for
 *   the builder id named in the provenance;
 * - `ERR_PROVENANCE_CERTIFICATE`: a Sigstore bundle's signing certificate does not chain to a
 *   Fulcio CA of the trusted root at the signing time or lacks its CT proof (SCT);
 * - `ERR_PROVENANCE_TLOG`: a Sigstore bundle has no transparency-log entry that verifies
 *   (inclusion proof or promise under a trusted Rekor key) and matches its envelope and
 *   certificate, or no signing time (tlog entry or trusted timestamp);
 * - `ERR_PROVENANCE_IDENTITY`: a Sigstore bundle's certificate identity (SAN and OIDC issuer)
 *   is not one of the configured builder identities;
 * - `ERR_PROVENANCE_DIGEST_ALGORITHM`: no subject with an accepted digest (`sha256`,
 *   `sha384`, `sha512`);
 * - `ERR_PROVENANCE_UNSUPPORTED`: a payload or predicate type the linker does not read;
 * - `ERR_PROVENANCE_DUPLICATE`: a record with the same digest is already stored;
 * - `ERR_PROVENANCE_NOT_FOUND`: no record / leaf for the jti, digest or index asked for;
 * - `ERR_PROVENANCE_RANGE`: tree sizes or indexes outside the log;
 * - `ERR_PROVENANCE_QUERY`: a query or revocation selector that is missing or malformed;
 * - `ERR_PROVENANCE_PROOF_INVALID`: an inclusion or consistency proof, or a tree-head
 *   signature, does not verify.
 */
export type ProvenanceCode =
  | 'ERR_PROVENANCE_MALFORMED'
  | 'ERR_PROVENANCE_OVERSIZED'
  | 'ERR_PROVENANCE_UNVERIFIABLE'
  | 'ERR_PROVENANCE_UNKNOWN_BUILDER'
  | 'ERR_PROVENANCE_CERTIFICATE'
  | 'ERR_PROVENANCE_TLOG'
  | 'ERR_PROVENANCE_IDENTITY'
  | 'ERR_PROVENANCE_DIGEST_ALGORITHM'
  | 'ERR_PROVENANCE_UNSUPPORTED'
  | 'ERR_PROVENANCE_DUPLICATE'
  | 'ERR_PROVENANCE_NOT_FOUND'
  | 'ERR_PROVENANCE_RANGE'
  | 'ERR_PROVENANCE_QUERY'
  | 'ERR_PROVENANCE_PROOF_INVALID';

/** HTTP status the service answers each code with. */
export const PROVENANCE_STATUS: Readonly<Record<ProvenanceCode, number>> = {
  ERR_PROVENANCE_MALFORMED: 400,
  ERR_PROVENANCE_OVERSIZED: 413,
  ERR_PROVENANCE_UNVERIFIABLE: 422,
  ERR_PROVENANCE_UNKNOWN_BUILDER: 422,
  ERR_PROVENANCE_CERTIFICATE: 422,
  ERR_PROVENANCE_TLOG: 422,
  ERR_PROVENANCE_IDENTITY: 422,
  ERR_PROVENANCE_DIGEST_ALGORITHM: 422,
  ERR_PROVENANCE_UNSUPPORTED: 415,
  ERR_PROVENANCE_DUPLICATE: 409,
  ERR_PROVENANCE_NOT_FOUND: 404,
  ERR_PROVENANCE_RANGE: 400,
  ERR_PROVENANCE_QUERY: 400,
  ERR_PROVENANCE_PROOF_INVALID: 422,
};

/** A supply-chain record, log request or proof that cannot be used. */
export class ProvenanceError extends TwiError {
  override readonly code: ProvenanceCode;

  constructor(code: ProvenanceCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Shorthand for an `ERR_PROVENANCE_MALFORMED` error. */
export function malformed(message: string, options?: ErrorOptions): ProvenanceError {
  return new ProvenanceError('ERR_PROVENANCE_MALFORMED', message, options);
}
