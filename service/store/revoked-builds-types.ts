/**
 * Build revocations: selectors (`commit`, `builder`, `measurement`, `repository`, `record`)
 * that `POST /v1/revoke` persisted, so the build they name cannot obtain new credentials until
 * an admin lifts them (`docs/provenance.md` "Revocation by build").
 *
 * @internal
 * @module
 */
import type { IndexEntry } from '../../provenance/store-types.js';

/** A persisted build revocation. */
export interface RevokedBuild extends IndexEntry {
  /** When it was first revoked. */
  readonly revokedAt: Date;
}

/** The build revocations every instance sharing the store enforces. */
export interface RevokedBuildStore {
  /** Persists `entry`; `true` when it was new (a repeated revocation keeps the first instant). */
  add(entry: IndexEntry, at: Date): Promise<boolean>;
  /** Lifts `entry`; `true` when it was revoked. */
  remove(entry: IndexEntry): Promise<boolean>;
  /** Every revocation, oldest first. */
  list(): Promise<RevokedBuild[]>;
  /** The revocations among `entries` (same field and value). */
  matching(entries: readonly IndexEntry[]): Promise<RevokedBuild[]>;
}
