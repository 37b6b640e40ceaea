/**
 * Property test of the Nitro codec: mutated real documents (byte flips, truncation,
 * extension, splices, CBOR head corruption) and random bytes either parse — and then
 * re-serialise to exactly the bytes parsed — or throw a TwiError with code
 * ERR_EVIDENCE_MALFORMED or ERR_EVIDENCE_UNSUPPORTED naming a field. Nothing else, no hangs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import {
  describeNitroFormat,
  looksLikeNitroDocument,
  nitroClaims,
  parseNitroDocument,
  serializeNitroDocument,
} from '../../../verifier/platforms/nitro/index.js';
import { CborReader, Major } from '../../../verifier/platforms/nitro/cbor.js';
import { isTwiError } from '../../../common/errors.js';
import { bytesEqual } from '../../../common/bytes.js';

const RUNS = Number(process.env.TWI_FUZZ_RUNS ?? 12_000);
const CODES = new Set(['ERR_EVIDENCE_MALFORMED', 'ERR_EVIDENCE_UNSUPPORTED']);

const docs: Uint8Array[] = haveVectors
  ? loadManifest()
      .samples.filter((s) => s.platform === 'nitro')
      .map((s) => readVector(s.files.cose_sign1 as string))
  : [];
if (docs[0]) docs.push(new Uint8Array([0xd2, ...docs[0]]));

/** Offsets of every CBOR head in a well-formed document, descending into `protected` and `payload`. */
function headOffsets(bytes: Uint8Array): number[] {
  const out: number[] = [];
  const walk = (r: CborReader, envelope: boolean): void => {
    out.push(r.pos);
    const h = r.head('walk', true);
    if (h.major === Major.bytes || h.major === Major.text) {
      const start = r.pos;
      r.pos += h.value;
      if (envelope && h.major === Major.bytes && h.value > 0)
        walk(new CborReader(bytes, start, r.pos), false);
    } else if (h.major === Major.array || h.major === Major.map) {
      const n = h.width === 'indefinite' ? Infinity : h.value * (h.major === Major.map ? 2 : 1);
      for (let i = 0; i < n && !r.takeBreak(); i++)
        walk(r, envelope && h.major === Major.array && i % 2 === 0 && i < 3);
    } else if (h.major === Major.tag) walk(r, envelope);
  };
  walk(new CborReader(bytes), true);
  return out;
}

const heads = docs.map(headOffsets);

type Mutation = (doc: Uint8Array, heads: number[]) => Uint8Array;

const flips = fc
  .array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 })
  .map((list): Mutation => (doc) => {
    const out = doc.slice();
    for (const [pos, mask] of list) out[pos % out.length] ^= mask;
    return out;
  });

const truncate = fc.nat().map(
  (n): Mutation =>
    (doc) =>
      doc.subarray(0, n % doc.length),
);

const extend = fc.uint8Array({ minLength: 1, maxLength: 64 }).map(
  (tail): Mutation =>
    (doc) =>
      new Uint8Array([...doc, ...tail]),
);

const random = fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 512 })).map(
  ([prefixed, noise]): Mutation =>
    () =>
      new Uint8Array(prefixed ? [0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, ...noise] : noise),
);

const splice = fc
  .tuple(fc.nat(), fc.integer({ min: 1, max: 64 }), fc.boolean())
  .map(([at, n, duplicate]): Mutation => (doc) => {
    const i = at % doc.length;
    const cut = doc.subarray(i, i + n);
    return new Uint8Array([
      ...doc.subarray(0, i),
      ...(duplicate ? [...cut, ...cut] : []),
      ...doc.subarray(i + n),
    ]);
  });

const corruptHead = fc
  .tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 8 }))
  .map(([which, initial, argument]): Mutation => (doc, offsets) => {
    const out = doc.slice();
    const at = offsets[which % offsets.length] as number;
    out[at] = initial;
    out.set(argument.subarray(0, Math.max(0, out.length - at - 1)), at + 1);
    return out;
  });

const input = fc
  .tuple(
    fc.nat(),
    fc.oneof(
      { arbitrary: flips, weight: 3 },
      { arbitrary: truncate, weight: 1 },
      { arbitrary: extend, weight: 1 },
      { arbitrary: random, weight: 1 },
      { arbitrary: splice, weight: 2 },
      { arbitrary: corruptHead, weight: 3 },
    ),
  )
  .map(([i, mutate]) =>
    mutate(docs[i % docs.length] as Uint8Array, heads[i % docs.length] as number[]),
  );

function checkParsed(bytes: Uint8Array): void {
  const doc = parseNitroDocument(bytes);
  const out = serializeNitroDocument(doc);
  assert.ok(bytesEqual(out, bytes.subarray(0, bytes.length - doc.trailing.length)), 'round trip');
  assert.ok(looksLikeNitroDocument(bytes));
  JSON.stringify(nitroClaims(doc));
  JSON.stringify(describeNitroFormat(doc));
}

function outcome(bytes: Uint8Array): 'parsed' | 'rejected' {
  try {
    parseNitroDocument(bytes);
  } catch (e) {
    assert.ok(isTwiError(e), `not a TwiError: ${String(e)}`);
    assert.ok(CODES.has(e.code), `unexpected code ${e.code}`);
    assert.ok(typeof (e as { field?: unknown }).field === 'string', 'error names a field');
    return 'rejected';
  }
  checkParsed(bytes);
  return 'parsed';
}

test(
  `${RUNS} mutated documents parse and round-trip, or fail with a typed error`,
  { skip: !haveVectors, timeout: 120_000 },
  (t) => {
    const seen = { parsed: 0, rejected: 0 };
    const started = performance.now();
    fc.assert(
      fc.property(input, (bytes) => {
        seen[outcome(bytes)]++;
      }),
      { numRuns: RUNS },
    );
    assert.ok(seen.rejected > RUNS / 2, `most mutations are rejected (${JSON.stringify(seen)})`);
    assert.ok(seen.parsed > 0, 'some mutations still parse');
    const ms = performance.now() - started;
    t.diagnostic(`${JSON.stringify(seen)} in ${Math.round(ms)} ms`);
  },
);

test('head walker finds the structure it corrupts', { skip: !haveVectors }, () => {
  for (const h of heads) assert.ok(h.length > 40);
});
