/**
 * Offline checks a relying party or auditor runs on what the service answered: the leaf
 * hash is recomputed from the record it got (canonical JSON, RFC 8785 for these values),
 * the inclusion proof is checked against the signed tree head, and the tree head against
 * the published log key — or, with {@link verifyCheckpointAnswer}, against the C2SP checkpoint
 * and the log's note verifier key. Nothing here trusts the service.
 *
 * @internal
 * @module
 */
import { canonicalBytes } from '../common/canonical-json.js';
import { ProvenanceError } from './errors.js';
import { leafHash, verifyConsistency, verifyInclusion } from './merkle.js';
import { verifyCheckpoint } from './checkpoint.js';
import type { NoteVerifierKey } from './signed-note.js';
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
  /** The C2SP checkpoint (signed note) of the same tree as `tree_head`. */
  readonly checkpoint?: string;
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
  const root = verifyTreeHead(answer.tree_head, logKey);
  return checkInclusion(answer, jti, answer.tree_head.tree_size, root);
}

const bad = (m: string): ProvenanceError => new ProvenanceError('ERR_PROVENANCE_PROOF_INVALID', m);

function checkInclusion(
  answer: ProvenanceAnswer,
  jti: string,
  treeSize: number,
  root: Uint8Array,
): VerifiedAnswer {
  const record = answer.record as { jti?: unknown } | null;
  if (answer.jti !== jti || typeof record !== 'object' || record?.jti !== jti) {
    throw bad(`the answer is not about credential ${JSON.stringify(jti)}`);
  }
  let data: Uint8Array;
  try {
    data = canonicalBytes(answer.record);
  } catch {
    throw bad('the record is not plain JSON');
  }
  const leaf = leafHash(data);
  const proof = proofOf(answer.inclusion_proof, 'inclusion_proof');
  if (!verifyInclusion(answer.leaf_index, treeSize, leaf, proof, root)) {
    throw bad('the inclusion proof does not lead from the record to the signed root');
  }
  return { treeSize, root, leafHash: leaf };
}

/**
 * Verifies a provenance answer for `jti` against its C2SP checkpoint and the log's note
 * verifier key (`GET /v1/log/note-key`, text form or parsed): the checkpoint signature, then
 * the inclusion proof to the checkpoint's root at the checkpoint's size. The RFC 9162 tree
 * head in the answer, when present, must name the same size and root.
 *
 * @throws {NoteError} when the checkpoint does not verify (its codes).
 * @throws {ProvenanceError} `ERR_PROVENANCE_PROOF_INVALID` naming the failed check.
 */
export function verifyCheckpointAnswer(
  answer: ProvenanceAnswer,
  noteKey: string | NoteVerifierKey,
  jti: string,
): VerifiedAnswer {
  if (typeof answer.checkpoint !== 'string') throw bad('the answer has no checkpoint');
  const cp = verifyCheckpoint(answer.checkpoint, [noteKey]);
  const head = answer.tree_head as SignedTreeHead | undefined;
  if (
    head !== undefined &&
    (head.tree_size !== cp.size || head.root_hash !== Buffer.from(cp.root).toString('base64'))
  ) {
    throw bad('the tree head and the checkpoint are of different trees');
  }
  return checkInclusion(answer, jti, cp.size, cp.root);
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
