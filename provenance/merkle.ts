/**
 * RFC 9162 §2.1 Merkle tree hashing over SHA-256: leaf hash `SHA-256(0x00 ‖ d)`, interior
 * node `SHA-256(0x01 ‖ left ‖ right)`, the split at the largest power of two smaller than
 * the number of leaves; inclusion and consistency proofs and their verification
 * (§2.1.3.2, §2.1.4.2).
 *
 * Proof generation never walks the leaves: every range a proof needs is covered by at most
 * ⌈log₂ n⌉ *perfect* subtrees (aligned, power-of-two sized), which a store keeps as rows
 * `(level, index)`. {@link inclusionRanges} / {@link consistencyRanges} say which ranges a
 * proof is made of, {@link perfectCover} which stored nodes cover a range, and
 * {@link foldCover} hashes them back into the range's tree hash.
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto';

/** Size of a node hash (SHA-256). */
export const HASH_SIZE = 32;

/** A half-open range of leaf indexes `[start, end)`. */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/** A perfect subtree: leaves `[index·2^level, (index+1)·2^level)`. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}) = SHA-256() (RFC 9162 §2.1.1). */
export function emptyRoot(): Uint8Array {
  return new Uint8Array(createHash('sha256').digest());
}

/** The leaf hash `SHA-256(0x00 ‖ data)`. */
export function leafHash(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(data).digest());
}

/** The interior node hash `SHA-256(0x01 ‖ left ‖ right)`. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest(),
  );
}

/** The largest power of two strictly smaller than `n` (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The tree hash of `leaves` computed directly (reference implementation; O(n)). */
export function rootOf(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyRoot();
  if (leafHashes.length === 1) return leafHashes[0]!;
  const k = splitPoint(leafHashes.length);
  return nodeHash(rootOf(leafHashes.slice(0, k)), rootOf(leafHashes.slice(k)));
}

/**
 * The ranges whose tree hashes form the inclusion proof of leaf `index` in a tree of `size`
 * leaves, in proof order (RFC 9162 §2.1.3.1 PATH, leaf-side first).
 */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} not in tree of ${size}`);
  const out: LeafRange[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      out.push({ start: start + k, end });
      end = start + k;
    } else {
      out.push({ start, end: start + k });
      start += k;
    }
  }
  return out.reverse();
}

/**
 * The ranges whose tree hashes form the consistency proof between tree sizes `first` and
 * `second` (RFC 9162 §2.1.4.1 SUBPROOF), in proof order. Empty when `first` is 0 or equals
 * `second`.
 */
export function consistencyRanges(first: number, second: number): LeafRange[] {
  if (!(first >= 0 && first <= second)) throw new RangeError(`bad sizes ${first}, ${second}`);
  if (first === 0 || first === second) return [];
  const out: LeafRange[] = [];
  const sub = (m: number, start: number, end: number, complete: boolean): void => {
    const n = end - start;
    if (m === n) {
      if (!complete) out.push({ start, end });
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, start, start + k, complete);
      out.push({ start: start + k, end });
    } else {
      sub(m - k, start + k, end, false);
      out.push({ start, end: start + k });
    }
  };
  sub(first, 0, second, true);
  return out;
}

/**
 * The perfect subtrees covering `[start, end)` from left to right, largest first. For the
 * ranges proofs are made of (and for `[0, n)`), their right fold is the range's tree hash.
 */
export function perfectCover(range: LeafRange): NodeId[] {
  const out: NodeId[] = [];
  let start = range.start;
  while (start < range.end) {
    let level = 0;
    while (start % 2 ** (level + 1) === 0 && start + 2 ** (level + 1) <= range.end) level += 1;
    out.push({ level, index: start / 2 ** level });
    start += 2 ** level;
  }
  return out;
}

/** Folds the hashes of a {@link perfectCover} from the right into one tree hash. */
export function foldCover(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return emptyRoot();
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i -= 1) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

/**
 * The perfect nodes that appending leaf number `index` (0-based) completes, bottom-up:
 * `(0, index)`, then each parent while the new node is a right child. Given the existing
 * left siblings (from the compact range), `appendNodes` returns their hashes.
 */
export function appendNodes(
  index: number,
  leaf: Uint8Array,
  leftSibling: (level: number) => Uint8Array,
): { id: NodeId; hash: Uint8Array }[] {
  const out = [{ id: { level: 0, index }, hash: leaf }];
  let level = 0;
  let i = index;
  let hash = leaf;
  while (i % 2 === 1) {
    hash = nodeHash(leftSibling(level), hash);
    level += 1;
    i = (i - 1) / 2;
    out.push({ id: { level, index: i }, hash });
  }
  return out;
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

/**
 * RFC 9162 §2.1.3.2: does `proof` show `leaf` (a leaf hash) at `index` in the tree of `size`
 * leaves whose root is `root`?
 */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0) return false;
  if (index >= size || proof.some((p) => p.length !== HASH_SIZE)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && sameHash(r, root);
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show the tree of `second` leaves with root `secondRoot`
 * extends the tree of `first` leaves with root `firstRoot`?
 */
export function verifyConsistency(
  first: number,
  second: number,
  proof: readonly Uint8Array[],
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second)) return false;
  if (first < 0 || first > second || proof.some((p) => p.length !== HASH_SIZE)) return false;
  if (first === second) return proof.length === 0 && sameHash(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && sameHash(fr, firstRoot) && sameHash(sr, secondRoot);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}
