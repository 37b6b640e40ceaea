/**
 * RFC 9162 binary forms of the signed tree head: the log id (§4.4, the DER encoding of the
 * log's OID without tag and length, `opaque LogID<2..127>`) and the `TransItem` of type
 * `signed_tree_head_v2` (§4.5, §4.10): `uint16 0x0104 ‖ LogID ‖ TreeHeadDataV2 ‖
 * opaque signature<0..2^16-1>`, the signature made with the log's algorithm —
 * `ecdsa_secp256r1_sha256`, which TLS 1.3 represents as a DER `ECDSA-Sig-Value`.
 *
 * @internal
 * @module
 */
import { ProvenanceError } from './errors.js';
import { HASH_SIZE } from './merkle.js';

/** `VersionedTransType` of `signed_tree_head_v2` (RFC 9162 §4.5). */
export const SIGNED_TREE_HEAD_V2 = 0x0104;

/** Length of `TreeHeadDataV2` without extensions for SHA-256 roots. */
const TREE_HEAD_DATA_LENGTH = 8 + 8 + 1 + HASH_SIZE + 2;

function base128(n: bigint): number[] {
  const out = [Number(n & 0x7fn)];
  for (let v = n >> 7n; v > 0n; v >>= 7n) out.unshift(Number(v & 0x7fn) | 0x80);
  return out;
}

/**
 * The DER content octets of a dotted OID (`1.3.6.1.4.1.99999.1`), as a log id.
 *
 * @throws {TypeError} for a malformed OID or one outside `LogID<2..127>`.
 */
export function logIdOfOid(oid: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(oid)) throw new TypeError(`bad OID ${oid}`);
  const arcs = oid.split('.').map(BigInt);
  if (arcs[0]! < 2n && arcs[1]! >= 40n) throw new TypeError(`bad OID ${oid}: second arc ≥ 40`);
  const bytes = [
    ...base128(arcs[0]! * 40n + arcs[1]!),
    ...arcs.slice(2).flatMap((a) => base128(a)),
  ];
  if (bytes.length < 2 || bytes.length > 127) {
    throw new TypeError(`OID ${oid}: ${bytes.length} bytes, a log id is 2..127`);
  }
  return new Uint8Array(bytes);
}

/** The parts of a `signed_tree_head_v2` TransItem. */
export interface SignedTreeHeadV2 {
  readonly logId: Uint8Array;
  /** `TreeHeadDataV2` bytes (what the signature covers). */
  readonly treeHead: Uint8Array;
  /** The signature as the log's algorithm produces it (DER for ECDSA). */
  readonly signature: Uint8Array;
}

/** Encodes a `signed_tree_head_v2` TransItem. */
export function encodeSignedTreeHeadV2(s: SignedTreeHeadV2): Uint8Array {
  if (s.logId.length < 2 || s.logId.length > 127) throw new RangeError('log id is 2..127 bytes');
  if (s.signature.length > 0xffff) throw new RangeError('signature too long');
  const out = Buffer.alloc(2 + 1 + s.logId.length + s.treeHead.length + 2 + s.signature.length);
  let at = out.writeUInt16BE(SIGNED_TREE_HEAD_V2, 0);
  at = out.writeUInt8(s.logId.length, at);
  at += Buffer.from(s.logId).copy(out, at);
  at += Buffer.from(s.treeHead).copy(out, at);
  at = out.writeUInt16BE(s.signature.length, at);
  Buffer.from(s.signature).copy(out, at);
  return new Uint8Array(out);
}

/**
 * Decodes a `signed_tree_head_v2` TransItem whose tree head has no extensions.
 *
 * @throws {ProvenanceError} `ERR_PROVENANCE_PROOF_INVALID` when it is not one.
 */
export function decodeSignedTreeHeadV2(bytes: Uint8Array): SignedTreeHeadV2 {
  const bad = (m: string): ProvenanceError =>
    new ProvenanceError('ERR_PROVENANCE_PROOF_INVALID', `sth: ${m}`);
  const b = Buffer.from(bytes);
  if (b.length < 3 || b.readUInt16BE(0) !== SIGNED_TREE_HEAD_V2) {
    throw bad('not a signed_tree_head_v2 TransItem');
  }
  const idLength = b[2]!;
  const headAt = 3 + idLength;
  const sigAt = headAt + TREE_HEAD_DATA_LENGTH;
  if (idLength < 2 || idLength > 127 || b.length < sigAt + 2) throw bad('truncated');
  if (b[headAt + 16] !== HASH_SIZE || b.readUInt16BE(sigAt - 2) !== 0) {
    throw bad('root hash of another size, or tree-head extensions');
  }
  if (b.length !== sigAt + 2 + b.readUInt16BE(sigAt)) throw bad('bad signature length');
  return {
    logId: new Uint8Array(b.subarray(3, headAt)),
    treeHead: new Uint8Array(b.subarray(headAt, sigAt)),
    signature: new Uint8Array(b.subarray(sigAt + 2)),
  };
}
