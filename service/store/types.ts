/**
 * The verifier's storage contract: single-use nonces, the issued-credential (jti) ledger
 * with revocations, and signing keys. Two implementations pass one test suite: an embedded
 * SQLite file and a shared PostgreSQL database.
 *
 * Times are `Date`s at the interface (millisecond precision); credential `iat` / `exp` are
 * JWT NumericDates (seconds), stored as given.
 *
 * @module
 */

import type { CollateralHistory } from '../../verifier/verify/collateral-history.js';
import type { CredentialRecord } from '../../provenance/ledger-record.js';
import type { ProvenanceStore } from '../../provenance/store-types.js';
import type { RevokedBuildStore } from './revoked-builds-types.js';
import type { JsonValue } from '../../common/json.js';

/** Outcome of consuming a nonce. Only `'ok'` lets an attestation proceed. @internal */
export type NonceConsumeResult = 'ok' | 'unknown' | 'expired' | 'used';

/** Single-use challenge nonces with a time to live. @internal */
export interface NonceStore {
  /**
   * Record a freshly generated nonce.
   *
   * @throws {StoreDuplicateError} when the nonce is already stored.
   */
  issue(nonce: string, expiresAt: Date): Promise<void>;
  /**
   * Atomically mark the nonce used. Of any number of concurrent callers (in any process
   * sharing the database) exactly one gets `'ok'`. A nonce is expired when `now >= expiresAt`.
   * A nonce that was used reports `'used'` until it is purged, then `'unknown'`.
   */
  consume(nonce: string, now: Date): Promise<NonceConsumeResult>;
  /** Delete every nonce with `expiresAt <= now` (used or not); returns how many. */
  purgeExpired(now: Date): Promise<number>;
  /** Number of stored nonces (used or not, expired or not). */
  count(): Promise<number>;
}

/** A ledger entry as read back. @internal */
export interface StoredCredential extends CredentialRecord {
  /** When the credential was revoked, if it was. */
  revokedAt?: Date;
}

/** One revocation event; `seq` increases strictly in commit order. @internal */
export interface RevocationEvent {
  /** Position in the revocation stream (shared by credentials and keys). */
  seq: number;
  /** Revoked credential `jti`. */
  jti: string;
  /** The serial of the X.509 certificate issued with it, if one was. */
  serial?: string;
  /** The instant given to `revoke`. */
  revokedAt: Date;
}

/** The issued-credential ledger. @internal */
export interface CredentialStore {
  /**
   * Commit a credential record; durable when the promise resolves.
   *
   * @throws {StoreDuplicateError} when `jti` is already recorded.
   */
  put(record: CredentialRecord): Promise<void>;
  /** The record for `jti`, or `undefined`. */
  get(jti: string): Promise<StoredCredential | undefined>;
  /** The record whose certificate has this `serial` (as stored: lowercase hex), or `undefined`. */
  bySerial(serial: string): Promise<StoredCredential | undefined>;
  /**
   * Revoke a credential. Returns `true` when this call revoked it, `false` when it is
   * unknown or was already revoked (the first revocation instant is kept).
   */
  revoke(jti: string, at: Date): Promise<boolean>;
  /** Credential revocations with `seq > since`, in `seq` order. Start with `0`. */
  revokedSince(since: number): Promise<RevocationEvent[]>;
}

/** A signing key as stored. @internal */
export interface KeyRecord {
  /** Key id. */
  kid: string;
  /** JWS algorithm, e.g. `ES256`. */
  alg: string;
  /** Public key as a JWK. */
  publicJwk: JsonValue;
  /**
   * Private key, PKCS#8 PEM. Stored sealed under the store's KEK (`docs/store.md`, "Keys at
   * rest") and given back as it was put.
   */
  privateKeyPem: string;
  /** Creation instant. */
  createdAt: Date;
  /** Instant after which the key must no longer sign. */
  notAfter?: Date;
}

/** A key as read back. @internal */
export interface StoredKey extends KeyRecord {
  /** When the key was revoked, if it was. */
  revokedAt?: Date;
}

/** Signing keys. @internal */
export interface KeyStore {
  /**
   * Store a key.
   *
   * @throws {StoreDuplicateError} when `kid` is already stored.
   */
  put(key: KeyRecord): Promise<void>;
  /** Every key, revoked ones included, ordered by `createdAt` then `kid`. */
  list(): Promise<StoredKey[]>;
  /** Revoke a key; `true` when this call revoked it, `false` if unknown or already revoked. */
  revoke(kid: string, at: Date): Promise<boolean>;
}

/** An issuing CA of X.509 workload certificates as stored. @internal */
export interface CaKeyRecord {
  /** Identifier: the hex of the CA certificate's subject key identifier. */
  kid: string;
  /** `ES256` or `ES384`. */
  alg: string;
  /** The CA certificate followed by its issuers, PEM. */
  chainPem: string;
  /** Private key, PKCS#8 PEM; sealed under the store's KEK like the signing keys. */
  privateKeyPem: string;
  /** `generated`: a root the service made; `operator`: an intermediate it was given. */
  source: 'generated' | 'operator';
  /** When the service started using it. */
  createdAt: Date;
  /** The CA certificate's notAfter. */
  notAfter: Date;
}

/**
 * Issuing CAs. Adding one appends a `key-added` change (id `ca:<kid>`), so the bundle's
 * sequence moves and every instance picks the new CA up. @internal
 */
export interface CaKeyStore {
  /**
   * Store a CA.
   *
   * @throws {StoreDuplicateError} when `kid` is already stored.
   */
  put(ca: CaKeyRecord): Promise<void>;
  /** Every CA, ordered by `createdAt` then `kid`. */
  list(): Promise<CaKeyRecord[]>;
}

/** A named setting as read back. @internal */
export interface StoredSetting {
  readonly name: string;
  readonly value: JsonValue;
  readonly updatedAt: Date;
}

/**
 * Settings every instance sharing the store must agree on (the appraisal policy, reference
 * values). Each `put` appends a `'setting'` entry to the {@link ChangeFeed}.
 *
 * @internal
 */
export interface SettingsStore {
  /** The setting called `name`, or `undefined`. */
  get(name: string): Promise<StoredSetting | undefined>;
  /** Replace (or create) the setting; returns the sequence number of its change. */
  put(name: string, value: JsonValue, at: Date): Promise<number>;
}

/** What changed, in a {@link ChangeEvent}. @internal */
export type ChangeKind = 'key-added' | 'key-revoked' | 'credential-revoked' | 'setting';

/** One entry of the change log. @internal */
export interface ChangeEvent {
  /** Position in the log: strictly increasing in commit order, never reused. */
  readonly seq: number;
  readonly kind: ChangeKind;
  /** The `kid`, `jti` or setting name. */
  readonly id: string;
  /** The instant of the change (key creation, revocation, setting update). */
  readonly at: Date;
}

/**
 * The log of changes that other instances must apply: keys added or revoked, credentials
 * revoked, settings replaced. Entries are appended in the same transaction as the change and
 * committed in `seq` order, so a reader that remembers the last `seq` it saw misses nothing.
 *
 * @internal
 */
export interface ChangeFeed {
  /** The highest committed `seq` (`0` when the log is empty). */
  latest(): Promise<number>;
  /** Entries with `seq > since`, in order, at most `limit` (default 1000). */
  since(since: number, limit?: number): Promise<ChangeEvent[]>;
  /**
   * A push hint: `listener` is called after changes commit (PostgreSQL: from any process,
   * through LISTEN/NOTIFY; SQLite: only this handle's own writes). Calls may be coalesced,
   * late or spurious, and a lost connection loses hints, so readers still poll `since` on a
   * timer. Resolves, once listening, with the function that removes the listener.
   */
  watch(listener: () => void): Promise<() => void>;
}

/** The verifier's persistent state. */
export interface Store {
  /** Which implementation this is. */
  readonly kind: 'sqlite' | 'postgres';
  readonly nonces: NonceStore;
  readonly credentials: CredentialStore;
  readonly keys: KeyStore;
  /** Issuing CAs of X.509 workload certificates (`docs/x509.md`). */
  readonly caKeys: CaKeyStore;
  /** Supply-chain records, the transparency log and the provenance index (`docs/provenance.md`). */
  readonly provenance: ProvenanceStore;
  readonly settings: SettingsStore;
  readonly changes: ChangeFeed;
  /** Build revocations that refuse new credentials (`docs/provenance.md`). */
  readonly revokedBuilds: RevokedBuildStore;
  /** The newest TDX collateral seen per FMSPC (docs/service.md "Collateral precedence"). */
  readonly collateral: CollateralHistory;
  /** Release the database; later calls fail with `ERR_STORE_UNAVAILABLE`. Idempotent. */
  close(): Promise<void>;
}
