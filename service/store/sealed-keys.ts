/**
 * Every column of the store that holds a private key, and the check run when a store opens:
 * each sealed value must open under the given KEK (so a wrong or missing KEK fails the open,
 * typed, before any key is used or a new one generated), and plaintext values left by earlier
 * builds are sealed in place. A new kind of private key (a CA key, ...) gets a row in
 * {@link SEALED_COLUMNS} and goes through `Kek.seal` / `Kek.open` with its purpose.
 *
 * @internal
 * @module
 */
import { isSealed, type Kek } from './kek.js';
import type { SqlDatabase, SqlExecutor } from './sql-executor.js';

/** A column holding private keys, sealed under the KEK with `purpose` and the row's id as AAD. */
export interface SealedColumn {
  readonly table: string;
  readonly idColumn: string;
  readonly column: string;
  readonly purpose: string;
}

/** The signing keys (EAR and WIT). */
export const SIGNING_KEYS: SealedColumn = {
  table: 'signing_keys',
  idColumn: 'kid',
  column: 'private_key_pem',
  purpose: 'signing-key',
};

/** The transparency-log key. */
export const LOG_KEYS: SealedColumn = {
  table: 'log_keys',
  idColumn: 'id',
  column: 'private_key_pem',
  purpose: 'log-key',
};

/** The issuing CAs of X.509 workload certificates. */
export const CA_KEYS: SealedColumn = {
  table: 'ca_keys',
  idColumn: 'kid',
  column: 'private_key_pem',
  purpose: 'ca-key',
};

/** Every private-key column of the schema. */
export const SEALED_COLUMNS: readonly SealedColumn[] = [SIGNING_KEYS, LOG_KEYS, CA_KEYS];

/** Advisory lock serialising the open-time sealing across instances. */
const SEAL_LOCK = 0x7477_6905;

async function rows(db: SqlExecutor, c: SealedColumn): Promise<[string, string][]> {
  const found = await db.query(`SELECT ${c.idColumn} AS id, ${c.column} AS v FROM ${c.table}`);
  return found.map((r) => [String(r['id']), String(r['v'])]);
}

/** Whether the store holds any sealed private key. */
export async function holdsSealedKeys(db: SqlExecutor): Promise<boolean> {
  for (const c of SEALED_COLUMNS) {
    if ((await rows(db, c)).some(([, v]) => isSealed(v))) return true;
  }
  return false;
}

/**
 * Opens every sealed private key under `kek` (throwing `ERR_KEK_MISSING`, `ERR_KEK_MISMATCH`
 * or `ERR_KEK_CORRUPT` on the first that fails) and seals plaintext ones in place, in one
 * transaction. Returns how many were sealed; the caller then purges the old plaintext from the
 * database files (the UPDATE leaves it in free space).
 */
export function sealKeysAtRest(db: SqlDatabase, kek: Kek): Promise<number> {
  return db.transaction(async (tx) => {
    let sealed = 0;
    for (const c of SEALED_COLUMNS) {
      for (const [id, value] of await rows(tx, c)) {
        if (isSealed(value)) {
          kek.open(c.purpose, id, value);
          continue;
        }
        const envelope = kek.seal(c.purpose, id, value);
        sealed += await tx.run(
          `UPDATE ${c.table} SET ${c.column} = $1 WHERE ${c.idColumn} = $2 AND ${c.column} = $3`,
          [envelope, c.idColumn === 'id' ? Number(id) : id, value],
        );
      }
    }
    return sealed;
  }, SEAL_LOCK);
}
