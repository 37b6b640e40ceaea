/**
 * The issuing CAs of X.509 workload certificates in SQL (`ca_keys`, schema version 6): private
 * keys sealed under the KEK with purpose `ca-key` (`sealed-keys.ts`), each addition logged as a
 * `key-added` change with id `ca:<kid>` in the same transaction.
 *
 * @internal
 * @module
 */
import { appendChange, CHANGE_LOCK, type LocalHints } from './sql-changes.js';
import { CA_KEYS } from './sealed-keys.js';
import { toInt, type SqlRow } from './sql-executor.js';
import type { Guarded } from './sql-guard.js';
import type { CaKeyRecord, CaKeyStore } from './types.js';

function caFromRow(row: SqlRow, g: Guarded): CaKeyRecord {
  const kid = String(row['kid']);
  return {
    kid,
    alg: String(row['alg']),
    chainPem: String(row['certificate_chain']),
    privateKeyPem: g.kek.open(CA_KEYS.purpose, kid, String(row['private_key_pem'])),
    source: String(row['source']) === 'operator' ? 'operator' : 'generated',
    createdAt: new Date(toInt(row['created_at'])),
    notAfter: new Date(toInt(row['not_after'])),
  };
}

/** The CA store over a guarded database; `local` hears of this handle's own additions. */
export function caKeyStore(g: Guarded, local: LocalHints): CaKeyStore {
  return {
    put: async (ca) => {
      const sealed = g.kek.seal(CA_KEYS.purpose, ca.kid, ca.privateKeyPem);
      await g.call(
        'caKeys.put',
        (db) =>
          db.transaction(async (tx) => {
            await tx.run(
              `INSERT INTO ca_keys
                (kid, alg, certificate_chain, private_key_pem, source, created_at, not_after)
                VALUES ($1, $2, $3, $4, $5, $6, $7)`,
              [
                ca.kid,
                ca.alg,
                ca.chainPem,
                sealed,
                ca.source,
                ca.createdAt.getTime(),
                ca.notAfter.getTime(),
              ],
            );
            return appendChange(tx, g.dialect, 'key-added', `ca:${ca.kid}`, ca.createdAt.getTime());
          }, CHANGE_LOCK),
        ['ca key', ca.kid],
      );
      local.fire();
    },
    list: () =>
      g.call('caKeys.list', async (db) =>
        (await db.query('SELECT * FROM ca_keys ORDER BY created_at, kid')).map((row) =>
          caFromRow(row, g),
        ),
      ),
  };
}
