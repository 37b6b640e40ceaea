/**
 * Schema version 2: supply-chain records, the transparency log and the provenance query
 * index (`docs/provenance.md` "Storage"). Hashes are lowercase hex text so one SQL text
 * serves both dialects.
 *
 * @internal
 * @module
 */
import type { Dialect } from './dialect.js';

/** Statements of the provenance migration. */
export function provenanceSchema(_dialect: Dialect): string[] {
  return [
    // One row: the tree size and its compact range (the perfect-subtree roots of the binary
    // decomposition of the size, largest first), read and rewritten by every append.
    `CREATE TABLE log_state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      size BIGINT NOT NULL,
      frontier TEXT NOT NULL
    )`,
    `INSERT INTO log_state (id, size, frontier) VALUES (1, 0, '')`,
    `CREATE TABLE log_leaves (
      idx BIGINT PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('issuance', 'supply-chain')),
      ref TEXT NOT NULL,
      leaf_hash TEXT NOT NULL,
      data TEXT NOT NULL,
      created_at BIGINT NOT NULL
    )`,
    'CREATE INDEX log_leaves_ref ON log_leaves (ref)',
    // Perfect subtrees above the leaves: level ≥ 1, leaves [idx·2^level, (idx+1)·2^level).
    `CREATE TABLE log_nodes (
      level INTEGER NOT NULL,
      idx BIGINT NOT NULL,
      hash TEXT NOT NULL,
      PRIMARY KEY (level, idx)
    )`,
    `CREATE TABLE log_keys (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      private_key_pem TEXT NOT NULL,
      created_at BIGINT NOT NULL
    )`,
    `CREATE TABLE supply_chain_records (
      digest TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      record TEXT NOT NULL,
      leaf_idx BIGINT NOT NULL,
      created_at BIGINT NOT NULL
    )`,
    `CREATE TABLE supply_chain_keys (
      digest_key TEXT NOT NULL,
      field TEXT NOT NULL,
      digest TEXT NOT NULL,
      PRIMARY KEY (digest_key, field, digest)
    )`,
    `CREATE TABLE provenance_index (
      field TEXT NOT NULL,
      value TEXT NOT NULL,
      jti TEXT NOT NULL,
      PRIMARY KEY (field, value, jti)
    )`,
    'CREATE INDEX credentials_iat ON credentials (iat)',
  ];
}
