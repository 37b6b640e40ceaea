/**
 * The JSON value and ledger-record types shared by the store's interfaces; a leaf module, so
 * `types.ts` and the provenance and build-revocation types need not import each other.
 *
 * @module
 */

/** Any JSON value. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What the verifier commits to the ledger before it returns a credential. */
export interface CredentialRecord {
  /** Credential identifier (`jti`), unique. */
  jti: string;
  /** Workload identifier (`sub`). */
  sub: string;
  /** Issued at, JWT NumericDate (seconds). */
  iat: number;
  /** Expiry, JWT NumericDate (seconds). */
  exp: number;
  /** Key id of the signing key. */
  kid: string;
  /** Platform the evidence came from (`tdx`, `sev-snp`, `nitro`, ...). */
  platform: string;
  /** Digest of the EAR that backed the credential. */
  earDigest: string;
  /** Digest of the evidence that was appraised. */
  evidenceDigest: string;
  /** The provenance record (measurements, matched reference values, supply chain...). */
  record: JsonValue;
}
