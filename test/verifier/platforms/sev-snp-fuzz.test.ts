import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import { isTwiError } from '../../../common/errors.js';
import {
  describeSnpFormat,
  looksLikeSnpReport,
  parseSnpCertTable,
  parseSnpReport,
  serializeSnpCertTable,
  serializeSnpReport,
  snpClaims,
  snpSignedBytes,
  snpSignatureRS,
} from '../../../verifier/platforms/sev-snp/index.js';

const EXPECTED = new Set(['ERR_EVIDENCE_MALFORMED', 'ERR_EVIDENCE_UNSUPPORTED']);

const reports = haveVectors
  ? loadManifest()
      .samples.filter((s) => s.platform === 'sev-snp' && s.files.report)
      .map((s) => readVector(s.files.report!))
  : [];

/** Offsets worth aiming at: VERSION, SIGNATURE_ALGO, POLICY, signer info, every reserved range. */
const HOT = [
  0x00, 0x01, 0x03, 0x0a, 0x0b, 0x0f, 0x34, 0x48, 0x4b, 0x4c, 0x188, 0x18b, 0x19f, 0x1eb, 0x1ef,
  0x1f8, 0x208, 0x29f, 0x2d0, 0x2e7, 0x318, 0x32f, 0x330, 0x49f,
];

const outcomes = { parsed: 0, rejected: 0 };

function check(parse: () => void): void {
  try {
    parse();
    outcomes.parsed++;
  } catch (e) {
    if (!isTwiError(e) || !EXPECTED.has(e.code)) throw e;
    outcomes.rejected++;
  }
}

/** Parse and, when that succeeds, exercise everything downstream of the parser. */
function exercise(bytes: Uint8Array): void {
  check(() => {
    const report = parseSnpReport(bytes);
    assert.deepEqual(serializeSnpReport(report), bytes.subarray(0, 1184));
    snpClaims(report);
    JSON.stringify(describeSnpFormat(report));
    snpSignedBytes(report);
    snpSignatureRS(report);
  });
  looksLikeSnpReport(bytes);
}

const flip = fc.record({
  at: fc.oneof(fc.constantFrom(...HOT), fc.nat({ max: 1183 })),
  value: fc.integer({ min: 0, max: 255 }),
});

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('flips' as const),
    flips: fc.array(flip, { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), n: fc.nat({ max: 1200 }) }),
  fc.record({ kind: fc.constant('extend' as const), tail: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ kind: fc.constant('version' as const), v: fc.nat({ max: 9 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(base: Uint8Array, m: Mutation): Uint8Array {
  switch (m.kind) {
    case 'flips': {
      const out = base.slice();
      for (const { at, value } of m.flips) out[at] = value;
      return out;
    }
    case 'truncate':
      return base.subarray(0, m.n);
    case 'extend': {
      const out = new Uint8Array(base.length + m.tail.length);
      out.set(base);
      out.set(m.tail, base.length);
      return out;
    }
    case 'version': {
      const out = base.slice();
      out[0] = m.v;
      return out;
    }
  }
}

const opts = { skip: !haveVectors };

test('mutated real reports either parse or fail with a typed evidence error', opts, () => {
  fc.assert(
    fc.property(fc.nat({ max: reports.length - 1 }), mutation, (i, m) => {
      exercise(apply(reports[i]!, m));
    }),
    { numRuns: 12_000, seed: 0x5e05 },
  );
  // Both branches must be exercised, or the mutations are not probing anything.
  assert.ok(outcomes.parsed > 1000 && outcomes.rejected > 1000, JSON.stringify(outcomes));
});

test('random byte strings never crash the report parser', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1180, maxLength: 1190 }), (bytes) => exercise(bytes)),
    { numRuns: 1000, seed: 0x5e06 },
  );
});

const table = serializeSnpCertTable([
  { kind: 'vcek', data: new Uint8Array(40).fill(1) },
  { kind: 'ask', data: new Uint8Array(30).fill(2) },
  { kind: 'ark', data: new Uint8Array(20).fill(3) },
]);

test('mutated and random certificate tables parse or fail with a typed evidence error', () => {
  const mutated = fc
    .tuple(
      fc.array(fc.tuple(fc.nat({ max: table.length - 1 }), fc.nat({ max: 255 })), { maxLength: 4 }),
      fc.nat({ max: table.length + 8 }),
    )
    .map(([flips, len]) => {
      const out = new Uint8Array(len);
      out.set(table.subarray(0, len));
      for (const [at, v] of flips) if (at < len) out[at] = v;
      return out;
    });
  fc.assert(
    fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 200 })), (bytes) => {
      check(() => {
        const entries = parseSnpCertTable(bytes);
        assert.deepEqual(parseSnpCertTable(serializeSnpCertTable(entries)), entries);
      });
    }),
    { numRuns: 3000, seed: 0x5e07 },
  );
});
