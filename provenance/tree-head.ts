/**
 * Signed tree heads. The signed bytes are RFC 9162 §4.10 `TreeHeadDataV2` in TLS encoding:
 * `uint64 timestamp ‖ uint64 tree_size ‖ opaque root_hash<32..2^8-1> ‖
 * Extension sth_extensions<0..2^16-1>` (no extensions), signed with the log's own ES256 key
 * (ECDSA P-256, SHA-256, signature as `r ‖ s`). The log id is the SHA-256 of the key's
 * SubjectPublicKeyInfo (as RFC 6962 §3.2 log ids were).
 *
 * @internal
 * @module
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { ProvenanceError } from './errors.js';
import { HASH_SIZE } from './merkle.js';
import { newKeyPair } from '../common/key-pair.js';

/** The signature algorithm of tree heads. */
export const TREE_HEAD_ALG = 'ES256';

/** A signed tree head as the service publishes it (hashes and signature in base64). */
export interface SignedTreeHead {
  /** base64 SHA-256 of the log key's SPKI. */
  readonly log_id: string;
  readonly tree_size: number;
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** base64 root hash (32 bytes). */
  readonly root_hash: string;
  /** Always {@link TREE_HEAD_ALG}. */
  readonly alg: string;
  /** base64 `r ‖ s` over the `TreeHeadDataV2` bytes. */
  readonly signature: string;
}

/** The log's signing key. */
export interface LogKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** base64 SHA-256 of the SPKI DER. */
  readonly logId: string;
}

/** The public part of the log key as published by `GET /v1/log/key`. */
export interface PublishedLogKey {
  readonly log_id: string;
  readonly alg: string;
  readonly jwk: JsonWebKey;
}

/** TLS encoding of `TreeHeadDataV2` with no extensions (51 bytes for SHA-256). */
export function treeHeadData(timestamp: number, treeSize: number, root: Uint8Array): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError('bad timestamp');
  if (!Number.isSafeInteger(treeSize) || treeSize < 0) throw new RangeError('bad tree size');
  if (root.length !== HASH_SIZE) throw new RangeError('root hash must be 32 bytes');
  const out = Buffer.alloc(8 + 8 + 1 + HASH_SIZE + 2);
  out.writeBigUInt64BE(BigInt(timestamp), 0);
  out.writeBigUInt64BE(BigInt(treeSize), 8);
  out.writeUInt8(HASH_SIZE, 16);
  Buffer.from(root).copy(out, 17);
  out.writeUInt16BE(0, 17 + HASH_SIZE);
  return new Uint8Array(out);
}

function logIdOf(publicKey: KeyObject): string {
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(spki).digest('base64');
}

/** A fresh P-256 log key; `pem` is the PKCS#8 text the store keeps. */
export function generateLogKey(): { key: LogKey; pem: string } {
  const { privateKey } = newKeyPair('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { key: logKeyFromPem(pem), pem };
}

/** The log key from its stored PKCS#8 PEM. */
export function logKeyFromPem(pem: string): LogKey {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, logId: logIdOf(publicKey) };
}

/** The public key document of `GET /v1/log/key`. */
export function publishLogKey(key: LogKey): PublishedLogKey {
  return {
    log_id: key.logId,
    alg: TREE_HEAD_ALG,
    jwk: { ...key.publicKey.export({ format: 'jwk' }), alg: TREE_HEAD_ALG, use: 'sig' },
  };
}

/** Signs the head of a tree of `treeSize` leaves with root `root` at `timestamp` (ms). */
export function signTreeHead(
  key: LogKey,
  treeSize: number,
  root: Uint8Array,
  timestamp: number,
): SignedTreeHead {
  const data = treeHeadData(timestamp, treeSize, root);
  const signature = sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return {
    log_id: key.logId,
    tree_size: treeSize,
    timestamp,
    root_hash: Buffer.from(root).toString('base64'),
    alg: TREE_HEAD_ALG,
    signature: signature.toString('base64'),
  };
}

/** Decodes one base64 hash of exactly 32 bytes. */
export function decodeHash(b64: unknown, what: string): Uint8Array {
  const bytes = typeof b64 === 'string' ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
  if (typeof b64 !== 'string' || bytes.length !== HASH_SIZE || bytes.toString('base64') !== b64) {
    throw new ProvenanceError('ERR_PROVENANCE_PROOF_INVALID', `${what} is not a base64 hash`);
  }
  return new Uint8Array(bytes);
}

/**
 * Checks a signed tree head against a published log key (a JWK) and returns its root.
 *
 * @throws {ProvenanceError} `ERR_PROVENANCE_PROOF_INVALID` when the head is malformed, names
 *   another log, or its signature does not verify.
 */
export function verifyTreeHead(head: SignedTreeHead, published: PublishedLogKey): Uint8Array {
  const bad = (m: string): ProvenanceError =>
    new ProvenanceError('ERR_PROVENANCE_PROOF_INVALID', `tree head: ${m}`);
  if (head.alg !== TREE_HEAD_ALG) throw bad(`alg ${JSON.stringify(head.alg)} is not ES256`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: published.jwk, format: 'jwk' });
  } catch (err) {
    throw new ProvenanceError('ERR_PROVENANCE_PROOF_INVALID', 'log key is not a JWK', {
      cause: err,
    });
  }
  if (logIdOf(publicKey) !== head.log_id) throw bad('log_id is not the given log key');
  const root = decodeHash(head.root_hash, 'root_hash');
  let data: Uint8Array;
  try {
    data = treeHeadData(head.timestamp, head.tree_size, root);
  } catch {
    throw bad('timestamp or tree_size out of range');
  }
  const sig = Buffer.from(String(head.signature), 'base64');
  const ok =
    sig.length === 64 && verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig);
  if (!ok) throw bad('signature does not verify with the log key');
  return root;
}
