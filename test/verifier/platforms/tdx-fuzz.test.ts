/**
 * Property test: mutated real quotes (byte flips, truncation, extension, corrupted length and
 * type fields, random bytes) either parse or fail with a typed evidence error. Nothing else —
 * no RangeError, no TypeError, no hang, no huge allocation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import {
  parseTdxQuote,
  serializeTdxQuote,
  signedRegionLength,
} from '../../../verifier/platforms/tdx/index.js';
import { TwiError } from '../../../common/errors.js';
import { bytesEqual } from '../../../common/bytes.js';

const RUNS = 12_000;
let parsed = 0;

const seeds: Uint8Array[] = haveVectors
  ? loadManifest()
      .samples.filter((s) => s.platform === 'tdx' && s.files.quote !== undefined)
      .map((s) => readVector(s.files.quote!))
  : [];

/** Offsets and widths of the header, type and length fields of each seed quote. */
const fieldsOf = seeds.map((bytes) => {
  const q = parseTdxQuote(bytes);
  const sig = signedRegionLength(q);
  const cert = sig + 4 + 128;
  const auth = cert + 6 + 384 + 64;
  const inner = auth + 2 + q.signatureData.certificationData.qeAuthData.length;
  const fields: [number, 2 | 4][] = [
    [0, 2],
    [2, 2],
    [4, 4],
    [sig, 4],
    [cert, 2],
    [cert + 2, 4],
    [auth, 2],
    [inner, 2],
    [inner + 2, 4],
  ];
  if (q.header.version === 5) fields.push([0x30, 2], [0x32, 4]);
  return fields;
});

type Mutation =
  | { kind: 'flip'; seed: number; flips: [number, number][] }
  | { kind: 'truncate'; seed: number; at: number }
  | { kind: 'extend'; seed: number; extra: Uint8Array }
  | { kind: 'length'; seed: number; field: number; value: number; delta: boolean }
  | { kind: 'random'; bytes: Uint8Array; withHeader: boolean; seed: number };

const seedIndex = fc.nat({ max: Math.max(0, seeds.length - 1) });
const position = fc.nat({ max: 8191 });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    seed: seedIndex,
    flips: fc.array(fc.tuple(position, fc.integer({ min: 1, max: 255 })), {
      minLength: 1,
      maxLength: 8,
    }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), seed: seedIndex, at: position }),
  fc.record({
    kind: fc.constant('extend' as const),
    seed: seedIndex,
    extra: fc.uint8Array({ minLength: 1, maxLength: 256 }),
  }),
  fc.record({
    kind: fc.constant('length' as const),
    seed: seedIndex,
    field: fc.nat({ max: 10 }),
    value: fc.oneof(fc.integer({ min: -8, max: 8 }), fc.nat({ max: 0xffffffff })),
    delta: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('random' as const),
    bytes: fc.uint8Array({ maxLength: 6000 }),
    withHeader: fc.boolean(),
    seed: seedIndex,
  }),
);

function corruptField(bytes: Uint8Array, m: Extract<Mutation, { kind: 'length' }>): Uint8Array {
  const fields = fieldsOf[m.seed]!;
  const [at, width] = fields[m.field % fields.length]!;
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const old = width === 2 ? view.getUint16(at, true) : view.getUint32(at, true);
  const raw = m.delta ? old + m.value : m.value;
  if (width === 2) view.setUint16(at, raw & 0xffff, true);
  else view.setUint32(at, raw >>> 0, true);
  return out;
}

function build(m: Mutation): Uint8Array {
  const base = seeds[m.seed]!;
  switch (m.kind) {
    case 'flip': {
      const out = base.slice();
      for (const [pos, x] of m.flips) out[pos % out.length]! ^= x;
      return out;
    }
    case 'truncate':
      return base.subarray(0, m.at % (base.length + 1));
    case 'extend':
      return new Uint8Array([...base, ...m.extra]);
    case 'length':
      return corruptField(base, m);
    case 'random': {
      if (!m.withHeader) return m.bytes;
      const out = new Uint8Array(Math.max(m.bytes.length, 56));
      out.set(m.bytes);
      out.set(base.subarray(0, 8));
      return out;
    }
  }
}

function checkOne(bytes: Uint8Array): void {
  try {
    const q = parseTdxQuote(bytes);
    const out = serializeTdxQuote(q);
    assert.equal(out.length + q.trailing.length, bytes.length);
    assert.ok(bytesEqual(out, bytes.subarray(0, out.length)), 'round trip is byte-exact');
    parsed++;
  } catch (err) {
    if (
      err instanceof TwiError &&
      (err.code === 'ERR_EVIDENCE_MALFORMED' || err.code === 'ERR_EVIDENCE_UNSUPPORTED')
    ) {
      return;
    }
    throw err;
  }
}

test(
  `${RUNS} mutated quotes parse or fail with a typed evidence error`,
  { skip: !seeds.length },
  () => {
    let count = 0;
    fc.assert(
      fc.property(mutation, (m) => {
        count++;
        checkOne(build(m));
      }),
      { numRuns: RUNS, seed: 0x7d1 },
    );
    assert.ok(count >= 10_000);
    assert.ok(parsed > 0 && parsed < count, `${parsed} of ${count} mutations still parsed`);
  },
);
