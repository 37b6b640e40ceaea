/**
 * RFC 9162 hashing and proofs against the reference vectors of transparency-dev/merkle
 * (`testonly/constants.go`, `proof/verify_test.go`, the tree of RFC 6962's reference tests),
 * and property tests: every proof built from stored perfect subtrees verifies, every
 * tampered one fails.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  consistencyRanges,
  emptyRoot,
  foldCover,
  inclusionRanges,
  leafHash,
  perfectCover,
  rootOf,
  verifyConsistency,
  verifyInclusion,
  type LeafRange,
} from '../../provenance/merkle.js';
import { appendNodes } from '../../provenance/merkle.js';

const hx = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hx);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
/** [leaf (1-based as in the Go vectors), size, path]. */
const INCLUSION: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [3, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    2,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
const CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];

/** An in-memory log keeping perfect subtrees the way the store does. */
class MemoryLog {
  readonly nodes = new Map<string, Uint8Array>();
  frontier: Uint8Array[] = [];
  size = 0;

  append(data: Uint8Array): void {
    const made = appendNodes(
      this.size,
      leafHash(data),
      (l) => this.frontier[this.frontier.length - 1 - l]!,
    );
    for (const n of made) this.nodes.set(`${n.id.level}/${n.id.index}`, n.hash);
    this.frontier = [
      ...this.frontier.slice(0, this.frontier.length - (made.length - 1)),
      made.at(-1)!.hash,
    ];
    this.size += 1;
  }

  hashOf(range: LeafRange): Uint8Array {
    return foldCover(perfectCover(range).map((n) => this.nodes.get(`${n.level}/${n.index}`)!));
  }

  root(size = this.size): Uint8Array {
    return size === 0 ? emptyRoot() : this.hashOf({ start: 0, end: size });
  }

  inclusion(index: number, size: number): Uint8Array[] {
    return inclusionRanges(index, size).map((r) => this.hashOf(r));
  }

  consistency(first: number, second: number): Uint8Array[] {
    return consistencyRanges(first, second).map((r) => this.hashOf(r));
  }
}

function vectorLog(): MemoryLog {
  const log = new MemoryLog();
  for (const l of LEAVES) log.append(l);
  return log;
}

describe('RFC 9162 reference vectors', () => {
  test('roots of sizes 0..8, directly and from stored perfect subtrees', () => {
    const log = vectorLog();
    for (let n = 0; n <= 8; n += 1) {
      assert.equal(toHex(rootOf(LEAVES.slice(0, n).map(leafHash))), ROOTS[n], `size ${n} direct`);
      assert.equal(toHex(log.root(n)), ROOTS[n], `size ${n} from nodes`);
    }
    assert.equal(toHex(foldCover(log.frontier)), ROOTS[8], 'compact range');
  });

  test('inclusion proofs equal the vectors and verify', () => {
    const log = vectorLog();
    for (const [leaf, size, path] of INCLUSION) {
      const proof = log.inclusion(leaf - 1, size);
      assert.deepEqual(proof.map(toHex), path, `leaf ${leaf} of ${size}`);
      assert.ok(
        verifyInclusion(leaf - 1, size, leafHash(LEAVES[leaf - 1]!), proof, hx(ROOTS[size]!)),
      );
    }
  });

  test('consistency proofs equal the vectors and verify', () => {
    const log = vectorLog();
    for (const [first, second, path] of CONSISTENCY) {
      const proof = log.consistency(first, second);
      assert.deepEqual(proof.map(toHex), path, `${first} → ${second}`);
      assert.ok(verifyConsistency(first, second, proof, hx(ROOTS[first]!), hx(ROOTS[second]!)));
    }
  });

  test('degenerate cases follow RFC 9162 §2.1.4.2', () => {
    const some = hx('abacaba000000000000000000000000000000000000000000060061e00123456');
    const empty = emptyRoot();
    assert.ok(verifyConsistency(0, 0, [], some, some));
    assert.ok(verifyConsistency(0, 5, [], some, empty), 'an empty tree is consistent with any');
    assert.equal(verifyConsistency(1, 1, [], some, empty), false, 'same size, other root');
    assert.equal(verifyConsistency(2, 1, [], some, some), false, 'time travel');
    assert.equal(verifyConsistency(1, 2, [], some, some), false, 'empty proof');
    assert.equal(verifyConsistency(1, 1, [empty], some, some), false, 'proof for equal sizes');
    for (const [i, n] of [
      [0, 0],
      [1, 0],
      [2, 1],
    ] as const) {
      assert.equal(verifyInclusion(i, n, some, [], empty), false, `index ${i} size ${n}`);
    }
  });
});

/** Tampered variants of an inclusion proof, after transparency-dev/merkle's probes. */
function inclusionProbes(
  index: number,
  size: number,
  proof: Uint8Array[],
  root: Uint8Array,
  leaf: Uint8Array,
) {
  const flip = (p: Uint8Array[], i: number): Uint8Array[] =>
    p.map((h, j) => (j === i ? Uint8Array.from(h, (b, k) => (k === 0 ? b ^ 8 : b)) : h));
  const probes: [number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
    [index - 1, size, leaf, proof, root],
    [index + 1, size, leaf, proof, root],
    [index ^ 2, size, leaf, proof, root],
    [index, size * 2, leaf, proof, root],
    [index, Math.floor(size / 2), leaf, proof, root],
    [index, size, leafHash(new Uint8Array([1, 2, 3])), proof, root],
    [index, size, leaf, proof, emptyRoot()],
    [index, size, leaf, [...proof, root], root],
    [index, size, leaf, [root, ...proof], root],
    ...proof.map((_, i): [number, number, Uint8Array, Uint8Array[], Uint8Array] => [
      index,
      size,
      leaf,
      flip(proof, i),
      root,
    ]),
  ];
  if (proof.length > 0) probes.push([index, size, leaf, proof.slice(0, -1), root]);
  return probes;
}

describe('property: proofs from stored perfect subtrees', () => {
  const log = new MemoryLog();
  for (let i = 0; i < 300; i += 1) log.append(new Uint8Array(Buffer.from(`leaf ${i}`)));
  const roots = [
    emptyRoot(),
    ...Array.from({ length: 300 }, (_, n) =>
      rootOf(Array.from({ length: n + 1 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)))),
    ),
  ];

  test('every root equals the direct computation', () => {
    for (let n = 0; n <= 300; n += 1)
      assert.equal(toHex(log.root(n)), toHex(roots[n]!), `size ${n}`);
  });

  test('inclusion proofs verify; tampered ones fail', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 300 })
          .chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 }))),
        ([size, index]) => {
          const leaf = leafHash(Buffer.from(`leaf ${index}`));
          const proof = log.inclusion(index, size);
          assert.ok(verifyInclusion(index, size, leaf, proof, roots[size]!), `${index}/${size}`);
          for (const [i, n, l, p, r] of inclusionProbes(index, size, proof, roots[size]!, leaf)) {
            if (
              i === index &&
              n === size &&
              toHex(l) === toHex(leaf) &&
              p === proof &&
              r === roots[size]
            )
              continue;
            assert.equal(
              verifyInclusion(i, n, l, p, r),
              false,
              `probe ${i}/${n} for ${index}/${size}`,
            );
          }
        },
      ),
      { seed: 9162, numRuns: 400 },
    );
  });

  test('consistency proofs verify; tampered ones fail', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 300 })
          .chain((second) => fc.tuple(fc.integer({ min: 1, max: second }), fc.constant(second))),
        ([first, second]) => {
          const proof = log.consistency(first, second);
          const [r1, r2] = [roots[first]!, roots[second]!];
          assert.ok(verifyConsistency(first, second, proof, r1, r2), `${first} → ${second}`);
          if (proof.length === 0) return;
          assert.equal(verifyConsistency(first - 1, second, proof, r1, r2), false);
          assert.equal(verifyConsistency(first + 1, second, proof, r1, r2), false);
          assert.equal(verifyConsistency(first, second * 2, proof, r1, r2), false);
          assert.equal(verifyConsistency(first, second, proof, r2, r1), false, 'swapped roots');
          assert.equal(verifyConsistency(first, second, proof.slice(0, -1), r1, r2), false);
          assert.equal(verifyConsistency(first, second, [...proof, r1], r1, r2), false);
          for (let i = 0; i < proof.length; i += 1) {
            const bad = proof.map((h, j) =>
              j === i ? Uint8Array.from(h, (b, k) => (k === 0 ? b ^ 16 : b)) : h,
            );
            assert.equal(verifyConsistency(first, second, bad, r1, r2), false, `flipped ${i}`);
          }
        },
      ),
      { seed: 6962, numRuns: 400 },
    );
  });
});
