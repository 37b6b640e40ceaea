/**
 * The store operations, written once over {@link SqlDatabase} and shared by the SQLite and
 * PostgreSQL implementations. Every state change that must be race-free is one statement
 * (`UPDATE ... WHERE ... RETURNING`), so the database decides the winner.
 *
 * @internal
 * @module
 */

import { StoreSchemaError } from './errors.js';
import {
  CREATE_MIGRATIONS_TABLE,
  MIGRATIONS,
  MIGRATIONS_TABLE,
  SCHEMA_VERSION,
  type Dialect,
} from './schema.js';
import {
  appendChange,
  CHANGE_LOCK,
  changeFeed,
  LocalHints,
  settingsStore,
  type ChangeListener,
} from './sql-changes.js';
import { toDate, toInt, type SqlDatabase, type SqlExecutor, type SqlRow } from './sql-executor.js';
import { collateralHistory } from './collateral-sql.js';
import { provenanceStore } from './provenance-sql.js';
import type { Kek } from './kek.js';
import { SIGNING_KEYS } from './sealed-keys.js';
import { caKeyStore } from './ca-keys-sql.js';
import { revokedBuildStore } from './revoked-builds-sql.js';
import { Guarded, insertCredential } from './sql-guard.js';
import type {
  CredentialStore,
  KeyRecord,
  KeyStore,
  NonceConsumeResult,
  NonceStore,
  RevocationEvent,
  Store,
  StoredCredential,
  StoredKey,
} from './types.js';
import type { JsonValue } from '../../common/json.js';

/** Advisory-lock key serialising migrations across instances. */
const MIGRATION_LOCK = 0x7477_6901;

/**
 * Bring the schema to {@link SCHEMA_VERSION}; safe to run concurrently and repeatedly.
 * `prelude` statements (e.g. `CREATE SCHEMA IF NOT EXISTS`) run first, under the same lock.
 */
export async function migrate(
  db: SqlDatabase,
  dialect: Dialect,
  prelude: string[] = [],
): Promise<number> {
  return db.transaction(async (tx) => {
    for (const sql of prelude) await tx.run(sql);
    await tx.run(CREATE_MIGRATIONS_TABLE);
    const rows = await tx.query(`SELECT MAX(version) AS version FROM ${MIGRATIONS_TABLE}`);
    const current = rows[0]?.['version'] == null ? 0 : toInt(rows[0]['version']);
    if (current > SCHEMA_VERSION) {
      throw new StoreSchemaError(
        `database schema version ${current} is newer than this build (${SCHEMA_VERSION})`,
      );
    }
    for (const step of MIGRATIONS) {
      if (step.version <= current) continue;
      for (const sql of step.statements(dialect)) await tx.run(sql);
      await tx.run(
        `INSERT INTO ${MIGRATIONS_TABLE} (version, description, applied_at) VALUES ($1, $2, $3)`,
        [step.version, step.description, Date.now()],
      );
    }
    return SCHEMA_VERSION;
  }, MIGRATION_LOCK);
}

function nonceStore(g: Guarded): NonceStore {
  return {
    issue: (nonce, expiresAt) =>
      g
        .call(
          'nonces.issue',
          (db) =>
            db.run('INSERT INTO nonces (nonce, expires_at) VALUES ($1, $2)', [
              nonce,
              expiresAt.getTime(),
            ]),
          ['nonce', nonce],
        )
        .then(() => undefined),
    consume: (nonce, now) =>
      g.call('nonces.consume', (db) => consumeNonce(db, nonce, now.getTime())),
    purgeExpired: (now) =>
      g.call('nonces.purgeExpired', (db) =>
        db.run('DELETE FROM nonces WHERE expires_at <= $1', [now.getTime()]),
      ),
    count: () =>
      g.call('nonces.count', async (db) =>
        toInt((await db.query('SELECT COUNT(*) AS n FROM nonces'))[0]!['n']),
      ),
  };
}

/**
 * The winner is decided by the single conditional UPDATE; the follow-up read only explains
 * a refusal and cannot turn it into `'ok'`.
 */
async function consumeNonce(
  db: SqlExecutor,
  nonce: string,
  now: number,
): Promise<NonceConsumeResult> {
  const won = await db.query(
    `UPDATE nonces SET used_at = $2
      WHERE nonce = $1 AND used_at IS NULL AND expires_at > $2
      RETURNING nonce`,
    [nonce, now],
  );
  if (won.length === 1) return 'ok';
  const rows = await db.query('SELECT used_at FROM nonces WHERE nonce = $1', [nonce]);
  if (rows.length === 0) return 'unknown';
  return rows[0]!['used_at'] == null ? 'expired' : 'used';
}

function credentialFromRow(row: SqlRow): StoredCredential {
  const credential: StoredCredential = {
    jti: String(row['jti']),
    sub: String(row['sub']),
    iat: toInt(row['iat']),
    exp: toInt(row['exp']),
    kid: String(row['kid']),
    platform: String(row['platform']),
    earDigest: String(row['ear_digest']),
    evidenceDigest: String(row['evidence_digest']),
    record: JSON.parse(String(row['record'])) as JsonValue,
  };
  if (row['serial'] != null) credential.serial = String(row['serial']);
  const revokedAt = toDate(row['revoked_at']);
  if (revokedAt) credential.revokedAt = revokedAt;
  return credential;
}

/**
 * Mark a row revoked and append the revocation and the change, in one transaction under the
 * change lock (so a reader never sees `seq` n+1 committed before n).
 */
function revokeRow(
  db: SqlDatabase,
  dialect: Dialect,
  kind: 'credential' | 'key',
  id: string,
  at: number,
): Promise<boolean> {
  const [table, column] = kind === 'credential' ? ['credentials', 'jti'] : ['signing_keys', 'kid'];
  return db.transaction(async (tx) => {
    const changed = await tx.run(
      `UPDATE ${table} SET revoked_at = $2 WHERE ${column} = $1 AND revoked_at IS NULL`,
      [id, at],
    );
    if (changed !== 1) return false;
    await tx.run('INSERT INTO revocations (kind, id, revoked_at) VALUES ($1, $2, $3)', [
      kind,
      id,
      at,
    ]);
    await appendChange(tx, dialect, kind === 'key' ? 'key-revoked' : 'credential-revoked', id, at);
    return true;
  }, CHANGE_LOCK);
}

/** Calls `revokeRow` and tells the local listeners when it revoked something. */
async function revoke(
  g: Guarded,
  local: LocalHints,
  kind: 'credential' | 'key',
  id: string,
  at: Date,
): Promise<boolean> {
  const what = kind === 'key' ? 'keys.revoke' : 'credentials.revoke';
  const done = await g.call(what, (db) => revokeRow(db, g.dialect, kind, id, at.getTime()));
  if (done) local.fire();
  return done;
}

function credentialStore(g: Guarded, local: LocalHints): CredentialStore {
  return {
    put: (record) =>
      g
        .call('credentials.put', (db) => insertCredential(db, record), ['credential', record.jti])
        .then(() => undefined),
    get: (jti) =>
      g.call('credentials.get', async (db) => {
        const rows = await db.query('SELECT * FROM credentials WHERE jti = $1', [jti]);
        return rows[0] ? credentialFromRow(rows[0]) : undefined;
      }),
    bySerial: (serial) =>
      g.call('credentials.bySerial', async (db) => {
        const rows = await db.query('SELECT * FROM credentials WHERE serial = $1', [serial]);
        return rows[0] ? credentialFromRow(rows[0]) : undefined;
      }),
    revoke: (jti, at) => revoke(g, local, 'credential', jti, at),
    revokedSince: (since) =>
      g.call('credentials.revokedSince', async (db) => {
        const rows = await db.query(
          `SELECT r.seq, r.id, r.revoked_at, c.serial FROM revocations r
            LEFT JOIN credentials c ON c.jti = r.id
            WHERE r.kind = 'credential' AND r.seq > $1 ORDER BY r.seq`,
          [since],
        );
        return rows.map((row): RevocationEvent => {
          const event: RevocationEvent = {
            seq: toInt(row['seq']),
            jti: String(row['id']),
            revokedAt: new Date(toInt(row['revoked_at'])),
          };
          if (row['serial'] != null) event.serial = String(row['serial']);
          return event;
        });
      }),
  };
}

function keyFromRow(row: SqlRow, kek: Kek): StoredKey {
  const kid = String(row['kid']);
  const key: StoredKey = {
    kid,
    alg: String(row['alg']),
    publicJwk: JSON.parse(String(row['public_jwk'])) as JsonValue,
    privateKeyPem: kek.open(SIGNING_KEYS.purpose, kid, String(row['private_key_pem'])),
    createdAt: new Date(toInt(row['created_at'])),
  };
  const notAfter = toDate(row['not_after']);
  if (notAfter) key.notAfter = notAfter;
  const revokedAt = toDate(row['revoked_at']);
  if (revokedAt) key.revokedAt = revokedAt;
  return key;
}

/** Seals the key, inserts it and appends its `key-added` change, in one transaction. */
function insertKey(db: SqlDatabase, dialect: Dialect, k: KeyRecord, kek: Kek): Promise<number> {
  const sealed = kek.seal(SIGNING_KEYS.purpose, k.kid, k.privateKeyPem);
  return db.transaction(async (tx) => {
    await insertKeyRow(tx, { ...k, privateKeyPem: sealed });
    return appendChange(tx, dialect, 'key-added', k.kid, k.createdAt.getTime());
  }, CHANGE_LOCK);
}

function insertKeyRow(db: SqlExecutor, k: KeyRecord): Promise<number> {
  return db.run(
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_pem, created_at, not_after)
      VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      k.kid,
      k.alg,
      JSON.stringify(k.publicJwk),
      k.privateKeyPem,
      k.createdAt.getTime(),
      k.notAfter ? k.notAfter.getTime() : null,
    ],
  );
}

function keyStore(g: Guarded, local: LocalHints): KeyStore {
  return {
    put: async (key) => {
      await g.call('keys.put', (db) => insertKey(db, g.dialect, key, g.kek), ['key', key.kid]);
      local.fire();
    },
    list: () =>
      g.call('keys.list', async (db) =>
        (await db.query('SELECT * FROM signing_keys ORDER BY created_at, kid')).map((row) =>
          keyFromRow(row, g.kek),
        ),
      ),
    revoke: (kid, at) => revoke(g, local, 'key', kid, at),
  };
}

/**
 * Build a {@link Store} over an opened, migrated database. `remote`, when given, delivers
 * change hints from other processes (PostgreSQL LISTEN) and is closed with the store. Private
 * keys are sealed under `kek` (without one, storing or reading a private key fails with
 * `ERR_KEK_MISSING`).
 */
export function createSqlStore(
  kind: Store['kind'],
  db: SqlDatabase,
  remote?: ChangeListener,
  kek?: Kek,
): Store {
  const g = new Guarded(db, kind, kek);
  const local = new LocalHints();
  return {
    kind,
    nonces: nonceStore(g),
    credentials: credentialStore(g, local),
    keys: keyStore(g, local),
    caKeys: caKeyStore(g, local),
    settings: settingsStore(g, kind, local),
    changes: changeFeed(g, local, remote),
    provenance: provenanceStore(g),
    revokedBuilds: revokedBuildStore(g),
    collateral: collateralHistory(g),
    async close() {
      if (g.closed) return;
      g.closed = true;
      await remote?.close();
      await db.close();
    },
  };
}
