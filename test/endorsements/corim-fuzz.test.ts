/**
 * Property test of CoRIM decoding: mutated CoRIMs (byte flips, truncation, insertions,
 * deletions, splices) of every platform, signed and unsigned, and random bytes either decode
 * (and then map, describe and re-encode without surprises) or throw a CorimError with one of
 * the CoRIM codes. Nothing else, no hangs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildCorim, signCorim } from '../../endorsements/corim/encode.js';
import { corimToPolicy } from '../../endorsements/corim/policy.js';
import { CorimError } from '../../endorsements/corim/errors.js';
import { decodeCorim } from '../../endorsements/corim/decode-corim.js';
import { describeCorim } from '../../endorsements/corim/describe.js';
import {
  nitroReferenceTriple,
  snpReferenceTriple,
  tdxReferenceTriple,
} from '../../endorsements/corim/templates.js';
import type { Corim, DecodedCorim } from '../../endorsements/corim/types.js';
import { newKeyPair } from '../../common/key-pair.js';

const RUNS = Number(process.env.TWI_FUZZ_RUNS ?? 3_000);
const NOW = new Date('2026-01-01T00:00:00Z');
const CODES = new Set([
  'ERR_CORIM_INVALID',
  'ERR_CORIM_SIGNATURE',
  'ERR_CORIM_EXPIRED',
  'ERR_CORIM_NOT_YET_VALID',
  'ERR_CORIM_UNSUPPORTED',
]);

const corim: Corim = {
  id: { uuid: '3f06af63-a93c-11e4-9797-00505690773f' },
  comids: [
    {
      tagId: 'all',
      tagVersion: 1,
      entities: [{ name: 'ACME', regId: 'https://acme.example', roles: [0] }],
      referenceTriples: [
        tdxReferenceTriple({
          mrtd: 'a1'.repeat(48),
          rtmrs: ['a2'.repeat(48), 'a3'.repeat(48)],
          td_attributes: { value: '0000001000000000', mask: '01000010000000ff' },
          xfam: 'e702060000000000',
        }),
        snpReferenceTriple({
          measurement: 'b1'.repeat(48),
          chip_id: 'b2'.repeat(64),
          policy: { value: 0x30000n },
          guest_svn_min: 2,
          vmpl: 0,
          reported_tcb_min: 0x4405000000000002n,
        }),
        nitroReferenceTriple({ 0: 'c1'.repeat(48), 8: 'c2'.repeat(48) }),
      ],
    },
  ],
  profile: { uri: 'tag:twi.dev,2026:corim-profile/tee#1' },
  validity: {
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
  },
};
const key = newKeyPair('ec', { namedCurve: 'P-256' });
const seeds = [
  buildCorim(corim),
  signCorim(corim, { key: key.privateKey, signer: { name: 'fuzz' }, kid: 'k' }),
];

const outcomes = { decoded: 0, rejected: new Map<string, number>() };

function downstream(d: DecodedCorim): void {
  JSON.stringify(describeCorim(d));
  try {
    corimToPolicy(d);
  } catch (err) {
    if (!(err instanceof CorimError) || !CODES.has(err.code)) throw err;
  }
  const hasUnsupported = d.corim.comids.some(
    (c) =>
      c.otherTriples ||
      c.referenceTriples.some((t) => t.measurements.some((m) => m.mval.unsupported)),
  );
  if (!hasUnsupported) {
    assert.deepEqual(decodeCorim(buildCorim(d.corim), { now: NOW }).corim, d.corim);
  }
}

function exercise(bytes: Uint8Array): void {
  for (const trustedKeys of [undefined, [key.publicKey]]) {
    try {
      downstream(decodeCorim(bytes, { now: NOW, ...(trustedKeys && { trustedKeys }) }));
      outcomes.decoded++;
    } catch (err) {
      if (!(err instanceof CorimError) || !CODES.has(err.code)) throw err;
      assert.ok(err.path.length > 0 && err.message.startsWith(err.path));
      outcomes.rejected.set(err.code, (outcomes.rejected.get(err.code) ?? 0) + 1);
    }
  }
}

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('xor' as const),
    at: fc.nat(),
    value: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({
    kind: fc.constant('dup' as const),
    at: fc.nat(),
    value: fc.integer({ min: 1, max: 40 }),
  }),
);

type Mutation = {
  kind: 'flip' | 'xor' | 'cut' | 'insert' | 'delete' | 'dup';
  at: number;
  value: number;
};

function apply(seed: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(seed);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === 'flip') b[at] = m.value;
    else if (m.kind === 'xor') b[at] ^= m.value;
    else if (m.kind === 'cut') b = b.subarray(0, at);
    else if (m.kind === 'insert')
      b = Uint8Array.of(...b.subarray(0, at), m.value, ...b.subarray(at));
    else if (m.kind === 'delete') b = Uint8Array.of(...b.subarray(0, at), ...b.subarray(at + 1));
    else
      b = Uint8Array.of(...b.subarray(0, at), ...b.subarray(at, at + m.value), ...b.subarray(at));
  }
  return b;
}

test(`${RUNS} mutated CoRIMs decode or fail with a CoRIM error code`, () => {
  fc.assert(
    fc.property(
      fc.nat({ max: seeds.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (i, ms) => {
        exercise(apply(seeds[i]!, ms as Mutation[]));
      },
    ),
    { numRuns: RUNS, seed: 0xc0f1 },
  );
  assert.ok(
    outcomes.rejected.get('ERR_CORIM_INVALID')! > 100,
    JSON.stringify([...outcomes.rejected]),
  );
  assert.ok(outcomes.rejected.get('ERR_CORIM_SIGNATURE')! > 10, 'signed mutants fail verification');
  assert.ok(outcomes.decoded > 10, 'some mutants still decode');
});

test('random bytes, and random bytes behind a CoRIM tag, are refused without crashing', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, tagged) => {
      exercise(tagged ? Uint8Array.of(0xd9, 0x01, 0xf5, ...bytes) : bytes);
    }),
    { numRuns: 1_000, seed: 0xc0f2 },
  );
});
