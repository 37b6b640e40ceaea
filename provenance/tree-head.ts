/**
 * Signed tree heads. The signed bytes are RFC 9162 §4.10 `TreeHeadDataV2` in TLS encoding:
 * `uint64 timestamp ‖ uint64 tree_size ‖ opaque root_hash<32..2^8-1> ‖
 * Extension sth_extensions<0..2^16-1>` (no extensions), signed with the log's own ES256 key
 * (ECDSA P-256, SHA-256, signature as `r ‖ s`). The log id is the SHA-256 of the key's
 * SubjectPublicKeyInfo (as RFC 6962 §3.2 log ids were). That JSON form is twi's own; when the
 * log is given an OID (RFC 9162 §4.4 log ids are OIDs), each head also carries `sth`, the
 * RFC 9162 `signed_tree_head_v2` TransItem with the OID log id and a DER ECDSA signature.
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
import { decodeSignedTreeHeadV2, encodeSignedTreeHeadV2, logIdOfOid } from './trans-item.js';
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
  /**
   * base64 RFC 9162 `signed_tree_head_v2` TransItem of the same head (OID log id, DER
   * signature); only when the log has an OID.
   */
  readonly sth?: string;
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
  /** The log's OID (dotted), RFC 9162 log id of the `sth` TransItems, when configured. */
  readonly log_oid?: string;
  /** Origin of the C2SP checkpoints (`GET /v1/log/checkpoint`). */
  readonly checkpoint_origin?: string;
  /** The note verifier key of the checkpoints (`GET /v1/log/note-key`). */
  readonly note_key?: string;
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
export function publishLogKey(key: LogKey, oid?: string): PublishedLogKey {
  return {
    log_id: key.logId,
    alg: TREE_HEAD_ALG,
    jwk: { ...key.publicKey.export({ format: 'jwk' }), alg: TREE_HEAD_ALG, use: 'sig' },
    ...(oid !== undefined && { log_oid: oid }),
  };
}

/**
 * Signs the head of a tree of `treeSize` leaves with root `root` at `timestamp` (ms); with
 * the log's `oid`, the head also carries the RFC 9162 TransItem.
 */
export function signTreeHead(
  key: LogKey,
  treeSize: number,
  root: Uint8Array,
  timestamp: number,
  oid?: string,
): SignedTreeHead {
  const data = treeHeadData(timestamp, treeSize, root);
  const signature = sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  const sth =
    oid === undefined
      ? undefined
      : encodeSignedTreeHeadV2({
          logId: logIdOfOid(oid),
          treeHead: data,
          signature: sign('sha256', data, { key: key.privateKey, dsaEncoding: 'der' }),
        });
  return {
    log_id: key.logId,
    tree_size: treeSize,
    timestamp,
    root_hash: Buffer.from(root).toString('base64'),
    alg: TREE_HEAD_ALG,
    signature: signature.toString('base64'),
    ...(sth && { sth: Buffer.from(sth).toString('base64') }),
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
  if (head.sth !== undefined) verifySth(head.sth, data, publicKey, published);
  return root;
}

function verifySth(
  b64: unknown,
  data: Uint8Array,
  publicKey: KeyObject,
  published: PublishedLogKey,
): void {
  const bad = (m: string): ProvenanceError =>
    new ProvenanceError('ERR_PROVENANCE_PROOF_INVALID', `tree head sth: ${m}`);
  if (typeof b64 !== 'string') throw bad('not base64');
  const item = decodeSignedTreeHeadV2(new Uint8Array(Buffer.from(b64, 'base64')));
  let oidId: Uint8Array;
  try {
    oidId = logIdOfOid(String(published.log_oid));
  } catch {
    throw bad('the log key names no log OID');
  }
  if (!Buffer.from(item.logId).equals(Buffer.from(oidId))) throw bad('log id is not the log OID');
  if (!Buffer.from(item.treeHead).equals(Buffer.from(data))) throw bad('another tree head');
  const ok = verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, item.signature);
  if (!ok) throw bad('DER signature does not verify with the log key');
}
