/**
 * Versioned schema shared by the SQLite and PostgreSQL stores. Instants are integer
 * milliseconds since the Unix epoch; JSON values are stored as their JSON text so they
 * round-trip byte for byte. Migrations only ever append: version `n` is applied once,
 * in one transaction with the row that records it.
 *
 * @internal
 * @module
 */

import { provenanceSchema } from './provenance-schema.js';
import { revokedBuildsSchema } from './revoked-builds-schema.js';

/** SQL dialect of a store. */
export type { Dialect } from './dialect.js';
import type { Dialect } from './dialect.js';

/** One schema step. */
export interface Migration {
  /** Version reached after this step (1, 2, ...). */
  version: number;
  /** What the step does. */
  description: string;
  /** Statements, run in order inside the migration transaction. */
  statements(dialect: Dialect): string[];
}

/** Table that records applied migrations. */
export const MIGRATIONS_TABLE = 'twi_schema_migrations';

/** `CREATE TABLE` for the migrations table (run before reading the version). */
export const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
  version INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

function initialSchema(dialect: Dialect): string[] {
  const serial =
    dialect === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  return [
    `CREATE TABLE nonces (
      nonce TEXT PRIMARY KEY,
      expires_at BIGINT NOT NULL,
      used_at BIGINT
    )`,
    'CREATE INDEX nonces_expires_at ON nonces (expires_at)',
    `CREATE TABLE credentials (
      jti TEXT PRIMARY KEY,
      sub TEXT NOT NULL,
      iat BIGINT NOT NULL,
      exp BIGINT NOT NULL,
      kid TEXT NOT NULL,
      platform TEXT NOT NULL,
      ear_digest TEXT NOT NULL,
      evidence_digest TEXT NOT NULL,
      record TEXT NOT NULL,
      revoked_at BIGINT
    )`,
    `CREATE TABLE signing_keys (
      kid TEXT PRIMARY KEY,
      alg TEXT NOT NULL,
      public_jwk TEXT NOT NULL,
      private_key_pem TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      not_after BIGINT,
      revoked_at BIGINT
    )`,
    `CREATE TABLE revocations (
      seq ${serial},
      kind TEXT NOT NULL CHECK (kind IN ('credential', 'key')),
      id TEXT NOT NULL,
      revoked_at BIGINT NOT NULL
    )`,
  ];
}

/**
 * Version 3: shared settings (policy, reference values) and the change log every instance
 * follows. The log is back-filled from the keys and revocations already stored, in the order
 * they happened, so a bundle's `spiffe_sequence` does not move backwards across the upgrade.
 */
function changeLogSchema(dialect: Dialect): string[] {
  const serial =
    dialect === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  return [
    `CREATE TABLE settings (
      name TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
    `CREATE TABLE changes (
      seq ${serial},
      kind TEXT NOT NULL
        CHECK (kind IN ('key-added', 'key-revoked', 'credential-revoked', 'setting')),
      id TEXT NOT NULL,
      at BIGINT NOT NULL
    )`,
    `INSERT INTO changes (kind, id, at)
      SELECT kind, id, at FROM (
        SELECT 'key-added' AS kind, kid AS id, created_at AS at, 0 AS o, kid AS k
          FROM signing_keys
        UNION ALL
        SELECT CASE kind WHEN 'key' THEN 'key-revoked' ELSE 'credential-revoked' END,
               id, revoked_at, 1, id
          FROM revocations
      ) AS past ORDER BY at, o, k`,
  ];
}

/**
 * Version 4: the newest TDX collateral seen per FMSPC (TCB Info and QE identity, each as its
 * `tcbEvaluationDataNumber` and `issueDate` in ms), the floor for attester-supplied collateral.
 */
function collateralSeenSchema(): string[] {
  return [
    `CREATE TABLE tdx_collateral_seen (
      fmspc TEXT PRIMARY KEY,
      tcb_info_number BIGINT NOT NULL,
      tcb_info_issued BIGINT NOT NULL,
      qe_identity_number BIGINT NOT NULL,
      qe_identity_issued BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
  ];
}

/**
 * Version 6: the issuing CAs of X.509 workload certificates (docs/x509.md), one row per CA
 * ever used, its private key sealed like the signing keys, its certificate chain as PEM.
 */
function caKeysSchema(): string[] {
  return [
    `CREATE TABLE ca_keys (
      kid TEXT PRIMARY KEY,
      alg TEXT NOT NULL,
      certificate_chain TEXT NOT NULL,
      private_key_pem TEXT NOT NULL,
      source TEXT NOT NULL CHECK (source IN ('generated', 'operator')),
      created_at BIGINT NOT NULL,
      not_after BIGINT NOT NULL
    )`,
  ];
}

/**
 * Version 7: the serial of the X.509 certificate issued with a credential (lowercase hex, as
 * `record.x509.serial` has it), unique where present, so a certificate can be revoked by its
 * serial and the bundle can list `revoked_serials`. Back-filled from the ledger records.
 */
function credentialSerialSchema(dialect: Dialect): string[] {
  const backfill =
    dialect === 'postgres'
      ? `UPDATE credentials SET serial = record::jsonb #>> '{x509,serial}'
          WHERE jsonb_typeof(record::jsonb #> '{x509,serial}') = 'string'`
      : `UPDATE credentials SET serial = json_extract(record, '$.x509.serial')
          WHERE json_type(record, '$.x509.serial') = 'text'`;
  return [
    'ALTER TABLE credentials ADD COLUMN serial TEXT',
    backfill,
    'CREATE UNIQUE INDEX credentials_serial ON credentials (serial)',
  ];
}

/** Every migration, in order. Append new versions; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'nonces, credentials, signing keys, revocations',
    statements: initialSchema,
  },
  {
    version: 2,
    description: 'provenance: supply-chain records, transparency log, query index',
    statements: provenanceSchema,
  },
  {
    version: 3,
    description: 'shared settings and the change log',
    statements: changeLogSchema,
  },
  {
    version: 4,
    description: 'newest TDX collateral seen per FMSPC',
    statements: collateralSeenSchema,
  },
  {
    version: 5,
    description: 'build revocations (commit, builder, measurement, repository, record)',
    statements: revokedBuildsSchema,
  },
  {
    version: 6,
    description: 'issuing CAs of X.509 workload certificates',
    statements: caKeysSchema,
  },
  {
    version: 7,
    description: 'serial of the X.509 certificate issued with a credential',
    statements: credentialSerialSchema,
  },
];

/** Highest schema version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
