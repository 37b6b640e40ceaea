/**
 * Schema version 5: build revocations (`revoked_builds`), one row per persisted selector.
 *
 * @internal
 * @module
 */
import type { Dialect } from './dialect.js';

/** Statements of schema version 5. */
export function revokedBuildsSchema(_dialect: Dialect): string[] {
  return [
    `CREATE TABLE revoked_builds (
      field TEXT NOT NULL,
      value TEXT NOT NULL,
      revoked_at BIGINT NOT NULL,
      PRIMARY KEY (value, field)
    )`,
  ];
}
