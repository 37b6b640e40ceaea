/**
 * Offline checks a relying party or auditor runs on what the service answered: the leaf
 * hash is recomputed from the record it got (canonical JSON, RFC 8785 for these values),
 * the inclusion proof is checked against the signed tree head, and the tree head against
 * the published log key. Nothing here trusts the service.
 *
 * @internal
 * @module
 */
import { canonicalBytes } from '../common/canonical-json.js';
import { ProvenanceError } from './errors.js';
import { leafHash, verifyConsistency, verifyInclusion } from './merkle.js';
import {
  decodeHash,
  verifyTreeHead,
  type PublishedLogKey,
  type SignedTreeHead,
} from './tree-head.js';

/** The body of `GET /v1/provenance/{jti}` (the parts checked). */
export interface ProvenanceAnswer {
  readonly jti: string;
  readonly leaf_index: number;
  readonly record: unknown;
  readonly tree_head: SignedTreeHead;
  /** base64 hashes. */
  readonly inclusion_proof: readonly string[];
}

/** What a verified answer establishes. */
export interface VerifiedAnswer {
  readonly treeSize: number;
  readonly root: Uint8Array;
  readonly leafHash: Uint8Array;
}

function proofOf(list: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(list) || list.length > 64) {
    throw new ProvenanceError('ERR_PROVENANCE_PROOF_INVALID', `${what} must be an array of hashes`);
  }
  return list.map((h, i) => decodeHash(h, `${what}[${i}]`));
}

/**
 * Verifies a provenance answer for `jti`.
 *
 * @throws {ProvenanceError} `ERR_PROVENANCE_PROOF_INVALID` naming the failed check.
 *
 * @example
 * ```ts
 * const answer = await (await fetch(`${url}/v1/provenance/${jti}`)).json();
 * const key = await (await fetch(`${url}/v1/log/key`)).json();
 * verifyProvenanceAnswer(answer, key, jti);
 * ```
 */
export function verifyProvenanceAnswer(
  answer: ProvenanceAnswer,
  logKey: PublishedLogKey,
  jti: string,
): VerifiedAnswer {
  const bad = (m: string): ProvenanceError =>
    new ProvenanceError('ERR_PROVENANCE_PROOF_INVALID', m);
  const record = answer.record as { jti?: unknown } | null;
  if (answer.jti !== jti || typeof record !== 'object' || record?.jti !== jti) {
    throw bad(`the answer is not about credential ${JSON.stringify(jti)}`);
  }
  const root = verifyTreeHead(answer.tree_head, logKey);
  let data: Uint8Array;
  try {
    data = canonicalBytes(answer.record);
  } catch {
    throw bad('the record is not plain JSON');
  }
  const leaf = leafHash(data);
  const proof = proofOf(answer.inclusion_proof, 'inclusion_proof');
  if (!verifyInclusion(answer.leaf_index, answer.tree_head.tree_size, leaf, proof, root)) {
    throw bad('the inclusion proof does not lead from the record to the signed root');
  }
  return { treeSize: answer.tree_head.tree_size, root, leafHash: leaf };
}

/**
 * Verifies that the signed tree head `second` extends `first` (both checked against the
 * log key) with a consistency proof of base64 hashes.
 *
 * @throws {ProvenanceError} `ERR_PROVENANCE_PROOF_INVALID`.
 */
export function verifyConsistencyAnswer(
  first: SignedTreeHead,
  second: SignedTreeHead,
  proof: unknown,
  logKey: PublishedLogKey,
): void {
  const r1 = verifyTreeHead(first, logKey);
  const r2 = verifyTreeHead(second, logKey);
  const path = proofOf(proof, 'consistency proof');
  if (!verifyConsistency(first.tree_size, second.tree_size, path, r1, r2)) {
    throw new ProvenanceError(
      'ERR_PROVENANCE_PROOF_INVALID',
      `tree ${second.tree_size} is not consistent with tree ${first.tree_size}`,
    );
  }
}
