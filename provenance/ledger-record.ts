/**
 * The ledger record the verifier commits before it returns a credential; the store's
 * interfaces and the provenance linker share it.
 *
 * @internal
 * @module
 */

import type { JsonValue } from '../common/json.js';

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
  /**
   * Serial number of the X.509 certificate issued with the credential, lowercase hex without a
   * leading zero byte; absent when none was issued.
   */
  serial?: string;
}
