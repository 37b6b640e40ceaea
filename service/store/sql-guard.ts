/**
 * The guarded database handle every SQL store module works through, and the credential insert
 * that both the credential store and the provenance store's issuance commit use. A leaf below
 * `sql-store.ts`, so the per-area SQL modules need not import the store that assembles them.
 *
 * @internal
 * @module
 */

import { StoreDuplicateError, StoreUnavailableError, unavailable } from './errors.js';
import type { Dialect } from './dialect.js';
import { noKek, type Kek } from './kek.js';
import type { CredentialRecord } from '../../provenance/ledger-record.js';
import type { SqlDatabase, SqlExecutor } from './sql-executor.js';

/** Guards a database: maps driver failures to typed errors, refuses use after close. */
export class Guarded {
  closed = false;

  constructor(
    readonly db: SqlDatabase,
    readonly dialect: Dialect,
    /** Seals private keys on the way in and opens them on the way out. */
    readonly kek: Kek = noKek('the store was opened without one'),
  ) {}

  async call<T>(
    what: string,
    body: (db: SqlDatabase) => Promise<T>,
    entity?: [string, string],
  ): Promise<T> {
    if (this.closed) throw new StoreUnavailableError(`${what}: store is closed`);
    try {
      return await body(this.db);
    } catch (err) {
      if (entity && this.db.isUniqueViolation(err)) {
        throw new StoreDuplicateError(entity[0], entity[1], { cause: err });
      }
      throw unavailable(what, err);
    }
  }
}

/** Inserts a credential row (also used by the provenance store's issuance commit). */
export function insertCredential(db: SqlExecutor, r: CredentialRecord): Promise<number> {
  return db.run(
    `INSERT INTO credentials
      (jti, sub, iat, exp, kid, platform, ear_digest, evidence_digest, record, serial)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      r.jti,
      r.sub,
      r.iat,
      r.exp,
      r.kid,
      r.platform,
      r.earDigest,
      r.evidenceDigest,
      JSON.stringify(r.record),
      r.serial ?? null,
    ],
  );
}
