/**
 * The provenance part of the store: supply-chain records, the transparency log (an RFC 9162
 * Merkle tree whose perfect subtrees are stored, so roots and proofs cost O(log n) reads) and
 * the query index that links credentials to measurements, builders and source commits.
 *
 * @internal
 * @module
 */
import type { CredentialRecord } from './ledger-record.js';
import type { JsonValue } from '../common/json.js';

/** What one log leaf is about. */
export type LeafKind = 'issuance' | 'supply-chain';

/** A log leaf as stored. */
export interface StoredLeaf {
  /** 0-based position in the log. */
  readonly index: number;
  readonly kind: LeafKind;
  /** The credential `jti` (issuance) or the record digest (supply-chain). */
  readonly ref: string;
  /** The leaf data: canonical JSON text of the logged record. */
  readonly data: string;
  /** Lowercase hex leaf hash `SHA-256(0x00 ‖ data)` as computed at append time. */
  readonly leafHash: string;
  readonly createdAt: Date;
}

/** The current tree: its size and root. */
export interface TreeState {
  readonly size: number;
  /** 32-byte root hash (SHA-256 of nothing for the empty tree). */
  readonly root: Uint8Array;
}

/** One query-index entry: `field` (`measurement`, `builder`, `commit`, `repository`, `record`) = `value`. */
export interface IndexEntry {
  readonly field: string;
  readonly value: string;
}

/** A supply-chain record to store. */
export interface RecordPut {
  /** `sha256:<hex>`; unique. */
  readonly digest: string;
  readonly kind: string;
  /** The record as JSON (kept exactly). */
  readonly record: JsonValue;
  /** Match keys: measurement field (`*` any) and digest key `alg:hex`. */
  readonly keys: readonly { readonly field: string; readonly key: string }[];
  /** The log leaf announcing the record (canonical JSON text). */
  readonly leafData: string;
  readonly createdAt: Date;
}

/** A stored supply-chain record. */
export interface StoredRecord {
  readonly digest: string;
  readonly kind: string;
  readonly record: JsonValue;
  readonly leafIndex: number;
  readonly createdAt: Date;
}

/** A credential found by a provenance query. */
export interface CredentialMatch {
  readonly jti: string;
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
  readonly leafIndex: number;
  readonly revokedAt?: Date;
}

/** Selector of {@link ProvenanceStore.findCredentials}; all given parts must hold. */
export interface CredentialQuery {
  /** An index entry the credential's leaf must have. */
  readonly entry?: IndexEntry;
  /** `iat >= since` (NumericDate). */
  readonly since?: number;
  /** `iat < until` (NumericDate). */
  readonly until?: number;
  /** Only credentials neither revoked nor expired at this instant. */
  readonly liveAt?: Date;
  /** At most this many, in log order (default 1000). */
  readonly limit?: number;
  /** Newest first (reverse log order) instead of oldest first. */
  readonly newestFirst?: boolean;
}

/** Provenance records and the transparency log. */
export interface ProvenanceStore {
  /**
   * Stores a record with its match keys and appends its leaf, in one transaction.
   *
   * @throws {StoreDuplicateError} (entity `supply-chain record`) when the digest is stored.
   */
  putRecord(record: RecordPut): Promise<{ leafIndex: number }>;
  /** The record with this digest, or `undefined`. */
  getRecord(digest: string): Promise<StoredRecord | undefined>;
  /** Records having any of the digest keys, with the field each matched under. */
  recordsByKeys(
    keys: readonly string[],
  ): Promise<{ record: StoredRecord; field: string; key: string }[]>;
  /**
   * Commits the credential record, its log leaf and its index entries in one transaction
   * under the log lock: durable when the promise resolves.
   *
   * @throws {StoreDuplicateError} (entity `credential`) when the jti is recorded.
   */
  commitIssuance(
    credential: CredentialRecord,
    leafData: string,
    index: readonly IndexEntry[],
  ): Promise<{ leafIndex: number }>;
  /** Appends bare leaves (kind `supply-chain`, ref = given) in one transaction; first index. */
  appendLeaves(leaves: readonly { ref: string; data: string }[]): Promise<number>;
  /** The leaf at `index`, or `undefined`. */
  leaf(index: number): Promise<StoredLeaf | undefined>;
  /** The issuance leaf of a credential, or `undefined`. */
  leafOf(jti: string): Promise<StoredLeaf | undefined>;
  /** Current size and root. */
  treeState(): Promise<TreeState>;
  /**
   * Root of the tree of the first `size` leaves.
   *
   * @throws {RangeError} when `size` exceeds the log.
   */
  rootAt(size: number): Promise<Uint8Array>;
  /** RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves. */
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>;
  /** RFC 9162 consistency proof between sizes `first` ≤ `second`. */
  consistencyProof(first: number, second: number): Promise<Uint8Array[]>;
  /** Credentials with issuance leaves matching the query. */
  findCredentials(query: CredentialQuery): Promise<CredentialMatch[]>;
  /**
   * The log's private key (PKCS#8 PEM): the stored one, or `create()`'s, stored first. Every
   * instance sharing the database gets the same key.
   */
  logKeyPem(create: () => string): Promise<string>;
}
