/**
 * CoRIM decoding and encoding: models built for every platform encode and decode back
 * identically; CoRIMs written by hand with the AMD profile's spellings decode; malformed,
 * truncated, oversized and garbage inputs are ERR_CORIM_INVALID naming where.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildComid, buildCorim } from '../../endorsements/corim/encode.js';
import { decodeCorim } from '../../endorsements/corim/decode-corim.js';
import {
  nitroReferenceTriple,
  snpReferenceTriple,
  tdxReferenceTriple,
} from '../../endorsements/corim/templates.js';
import { SNP_PROFILE, TWI_PROFILE } from '../../endorsements/corim/profiles.js';
import type { Corim } from '../../endorsements/corim/types.js';
import type { DecodeCorimOptions } from '../../endorsements/corim/decode-corim.js';
import { encodeCbor, tag } from '../../endorsements/corim/cbor.js';
import { oidToBytes, oidToString } from '../../endorsements/corim/ids.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const H48 = 'ab'.repeat(48);

function decode(bytes: Uint8Array, options: Partial<DecodeCorimOptions> = {}) {
  return decodeCorim(bytes, { now: NOW, ...options });
}

function assertCorimError(fn: () => unknown, code: string, path?: string | RegExp): void {
  assert.throws(fn, (err: { code?: string; path?: string; message?: string }) => {
    assert.equal(err.code, code, err.message);
    if (typeof path === 'string') assert.equal(err.path, path, err.message);
    else if (path) assert.match(err.path ?? '', path, err.message);
    return true;
  });
}

const tdx = tdxReferenceTriple({
  mrtd: H48,
  mrseam: 'cd'.repeat(48),
  mrconfigid: '00'.repeat(48),
  mrowner: '01'.repeat(48),
  mrownerconfig: '02'.repeat(48),
  mrservicetd: '03'.repeat(48),
  rtmrs: [H48, undefined, 'ef'.repeat(48), '00'.repeat(48)],
  td_attributes: { value: '0000001000000000', mask: '0100001000000000' },
  xfam: 'e702060000000000',
});
const snp = snpReferenceTriple({
  measurement: H48,
  host_data: '11'.repeat(32),
  id_key_digest: '22'.repeat(48),
  author_key_digest: '33'.repeat(48),
  chip_id: '44'.repeat(64),
  policy: { value: 0x30000n, mask: 0xf0000n },
  guest_svn_min: 3,
  vmpl: 0,
  reported_tcb_min: 0xdb18000000000004n,
});
const nitro = nitroReferenceTriple({
  0: H48,
  1: '12'.repeat(48),
  2: '34'.repeat(32),
  8: '56'.repeat(64),
});

const full: Corim = {
  id: { uuid: '3f06af63-a93c-11e4-9797-00505690773f' },
  comids: [
    { tagId: 'tdx', tagVersion: 2, language: 'en', referenceTriples: [tdx] },
    {
      tagId: { uuid: '67b28b6c-34cc-40a1-9117-ab5b05911e37' },
      entities: [{ name: 'ACME', regId: 'https://acme.example', roles: [0, 1] }],
      referenceTriples: [snp, nitro],
    },
  ],
  otherTags: [{ type: 'coswid', bytes: encodeCbor(new Map([[0, 'x']])) }],
  profile: TWI_PROFILE,
  validity: {
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00.500Z'),
  },
  entities: [{ name: 'ACME builds', roles: [1, 2] }],
};

test('every modelled field encodes and decodes back identically', () => {
  const bytes = buildCorim(full);
  assert.deepEqual(Buffer.from(bytes.subarray(0, 3)).toString('hex'), 'd901f5');
  const decoded = decode(bytes);
  assert.equal(decoded.signature, undefined);
  assert.deepEqual(decoded.corim, full);
  assert.deepEqual(buildCorim(decoded.corim), bytes, 're-encoding is byte-identical');
});

test('measurement values of every kind round-trip', () => {
  const corim: Corim = {
    id: 'values',
    comids: [
      {
        tagId: 'v',
        referenceTriples: [
          {
            environment: {
              class: { classId: { bytes: Uint8Array.of(1, 2) }, layer: 1, index: 2 },
              group: { uuid: '67b28b6c-34cc-40a1-9117-ab5b05911e37' },
            },
            measurements: [
              {
                mkey: { oid: '1.2.3.4' },
                mval: { version: { version: '1.55.0', scheme: 16384 }, svn: { exact: 7n } },
              },
              {
                mkey: 99,
                mval: {
                  flags: { 'is-debug': false, 'is-tcb': true },
                  name: 'fw',
                  intRange: { min: null, max: 3 },
                },
              },
              { mval: { rawValue: { int: 2 }, svn: { min: (1n << 64n) - 1n } } },
              {
                mkey: 'r',
                mval: {
                  integrityRegisters: [
                    { id: 'my-ir', digests: [{ alg: 'sha-256', value: Uint8Array.of(9) }] },
                  ],
                },
              },
            ],
          },
          {
            environment: { instance: { ueid: new Uint8Array(17).fill(1) } },
            measurements: [{ mval: { intRange: -4 } }],
          },
        ],
      },
    ],
  };
  assert.deepEqual(decode(buildCorim(corim)).corim, corim);
});

test('OIDs convert both ways', () => {
  assert.equal(
    Buffer.from(oidToBytes('1.3.6.1.4.1.3704.3.1')).toString('hex'),
    '2b060104019c780301',
  );
  assert.equal(oidToString(oidToBytes('2.999.1234567890123'), 'x'), '2.999.1234567890123');
  assert.throws(() => oidToBytes('3.1'), TypeError);
});

/** A hand-written SNP CoRIM in the AMD profile's own spellings. */
function amdStyleCorim(mval: Map<number, unknown>, mkey = 5): Uint8Array {
  const env = new Map([[0, new Map([[0, tag(111, oidToBytes('1.3.6.1.4.1.3704.3.1'))]])]]);
  const comid = new Map<number, unknown>([
    [1, new Map([[0, 'amd']])],
    [
      4,
      new Map([
        [
          0,
          [
            [
              env,
              [
                new Map<number, unknown>([
                  [0, mkey],
                  [1, mval],
                ]),
              ],
            ],
          ],
        ],
      ]),
    ],
  ]);
  const corim = new Map<number, unknown>([
    [0, 'amd-style'],
    [1, [tag(506, encodeCbor(comid))]],
    [3, [tag(32, SNP_PROFILE.uri)]],
  ]);
  return encodeCbor(tag(501, corim));
}

test('the AMD profile spellings decode: profile array, integer raw-value, deprecated mask', () => {
  const vmpl = decode(amdStyleCorim(new Map([[4, 2]])));
  assert.deepEqual(vmpl.corim.profile, SNP_PROFILE);
  assert.deepEqual(vmpl.corim.comids[0]!.referenceTriples[0]!.measurements[0]!.mval, {
    rawValue: { int: 2 },
  });
  const masked = decode(
    amdStyleCorim(
      new Map<number, unknown>([
        [4, tag(560, Uint8Array.of(0, 0, 3, 0, 0, 0, 0, 0))],
        [5, Uint8Array.of(0, 0, 0xff, 0, 0, 0, 0, 0)],
      ]),
      2,
    ),
  );
  const raw = masked.corim.comids[0]!.referenceTriples[0]!.measurements[0]!.mval.rawValue;
  assert.deepEqual(raw, {
    bytes: Uint8Array.of(0, 0, 3, 0, 0, 0, 0, 0),
    mask: Uint8Array.of(0, 0, 0xff, 0, 0, 0, 0, 0),
  });
  const other = decode(
    amdStyleCorim(
      new Map<number, unknown>([
        [6, Uint8Array.of(1)],
        [13, []],
      ]),
    ),
  );
  assert.deepEqual(
    other.corim.comids[0]!.referenceTriples[0]!.measurements[0]!.mval.unsupported,
    [6, 13],
  );
});

/** Hand-built CBOR pieces for the path tests. */
const raw = {
  map: (entries: [number, unknown][]) => new Map<number, unknown>(entries),
  triple: (v: unknown) => [
    raw.map([[0, raw.map([[2, 'x']])]]),
    [raw.map([[1, raw.map([[2, v]])]])],
  ],
  comid: (triples: unknown[]) =>
    encodeCbor(
      raw.map([
        [1, raw.map([[0, 'c']])],
        [4, raw.map([[0, triples]])],
      ]),
    ),
  corim: (tags: unknown[]) =>
    encodeCbor(
      tag(
        501,
        raw.map([
          [0, 'p'],
          [1, tags],
        ]),
      ),
    ),
};
const goodTriple = raw.triple([[7, new Uint8Array(48)]]);

/** Inputs with one bad item each, and the path the error must name. */
const BAD_ITEMS: readonly (readonly [() => Uint8Array, string])[] = [
  [
    () => raw.corim([tag(506, raw.comid([goodTriple, raw.triple([[7, 'not bytes']])]))]),
    'corim.tags[0].triples.reference-triples[1].measurements[0].mval.digests[0].value',
  ],
  [
    () => raw.corim([tag(506, raw.comid([[new Map(), []]]))]),
    'corim.tags[0].triples.reference-triples[0].environment',
  ],
  [
    () => raw.corim([tag(506, encodeCbor(raw.map([[4, raw.map([[0, [goodTriple]]])]])))]),
    'corim.tags[0].tag-identity',
  ],
  [() => encodeCbor(tag(501, raw.map([[0, 'p']]))), 'corim.tags'],
  [() => raw.corim([tag(506, new Map())]), 'corim.tags[0]'],
  [() => raw.corim([tag(507, new Uint8Array(1))]), 'corim.tags[0]'],
  [() => encodeCbor(tag(502, 1)), 'corim'],
  [() => encodeCbor(raw.map([[0, 1]])), 'corim'],
  [
    () =>
      buildCorim({
        ...full,
        validity: { notBefore: new Date('2027-01-01'), notAfter: new Date('2026-06-01') },
      }),
    'corim.rim-validity',
  ],
];

test('errors name the path of the bad item', () => {
  for (const [bytes, path] of BAD_ITEMS)
    assertCorimError(() => decode(bytes()), 'ERR_CORIM_INVALID', path);
});

test('malformed CBOR, truncation, trailing bytes, foreign tags and duplicate keys are refused', () => {
  const bytes = buildCorim(full);
  for (const cut of [0, 1, 3, 10, bytes.length >> 1, bytes.length - 1]) {
    assertCorimError(() => decode(bytes.subarray(0, cut)), 'ERR_CORIM_INVALID', /^corim/);
  }
  assertCorimError(() => decode(Uint8Array.of(...bytes, 0)), 'ERR_CORIM_INVALID', 'corim');
  assertCorimError(
    () => decode(Uint8Array.of(0xd9, 0x01, 0xf5, 0x1c)),
    'ERR_CORIM_INVALID',
    'corim',
  );
  assertCorimError(
    () => decode(Uint8Array.of(0xd9, 0x01, 0xf5, 0xd8, 0x1c, 0x00)),
    'ERR_CORIM_INVALID',
    'corim',
  );
  assertCorimError(
    () => decode(Uint8Array.of(0xd9, 0x01, 0xf5, 0xa2, 0x00, 0x00, 0x00, 0x01)),
    'ERR_CORIM_INVALID',
    'corim',
  );
  assertCorimError(
    () => decode(Uint8Array.of(0xd9, 0x01, 0xf5, 0x7f, 0x61, 0x61, 0xff)),
    'ERR_CORIM_INVALID',
    'corim',
  );
  assertCorimError(
    () => decode(Uint8Array.of(0xd9, 0x01, 0xf5, 0x62, 0xc3, 0x28)),
    'ERR_CORIM_INVALID',
    'corim',
  );
  assertCorimError(
    () => decode(Uint8Array.of(0xd9, 0x01, 0xf5, 0x9b, 0, 0, 0, 1, 0, 0, 0, 0)),
    'ERR_CORIM_INVALID',
    'corim',
  );
  assertCorimError(
    () => decode(Uint8Array.of(0xd9, 0x01, 0xf5, 0xf7)),
    'ERR_CORIM_INVALID',
    'corim',
  );
  for (const garbage of [
    Uint8Array.of(0xff),
    Buffer.from('hello world'),
    new Uint8Array(64).fill(0x9f),
  ]) {
    assertCorimError(() => decode(garbage), 'ERR_CORIM_INVALID');
  }
});

test('size limits: total bytes, nesting depth, item count, embedded CoMIDs', () => {
  const bytes = buildCorim(full);
  assertCorimError(
    () => decode(bytes, { limits: { maxBytes: bytes.length - 1 } }),
    'ERR_CORIM_INVALID',
    'corim',
  );
  assert.ok(decode(bytes, { limits: { maxBytes: bytes.length } }));
  assertCorimError(
    () => decode(bytes, { limits: { maxItems: 50 } }),
    'ERR_CORIM_INVALID',
    /^corim/,
  );
  const deep = Uint8Array.of(0xd9, 0x01, 0xf5, ...new Uint8Array(40).fill(0x81), 0x00);
  assertCorimError(() => decode(deep), 'ERR_CORIM_INVALID', 'corim');
  const huge = new Uint8Array((1 << 20) + 1);
  huge.set([0xd9, 0x01, 0xf5]);
  assertCorimError(() => decode(huge), 'ERR_CORIM_INVALID', 'corim');
  const comid = buildComid(full.comids[0]!);
  const outer = encodeCbor(
    tag(
      501,
      new Map<number, unknown>([
        [0, 'x'],
        [1, [tag(506, comid)]],
      ]),
    ),
  );
  assertCorimError(
    () => decode(outer, { limits: { maxBytes: outer.length, maxItems: 40 } }),
    'ERR_CORIM_INVALID',
    'corim.tags[0]',
  );
});

test('caller misuse is a TypeError', () => {
  const bytes = buildCorim(full);
  assert.throws(() => decodeCorim(bytes, {} as DecodeCorimOptions), TypeError);
  assert.throws(() => decodeCorim('x' as unknown as Uint8Array, { now: NOW }), TypeError);
  assert.throws(() => buildCorim({ id: 'x', comids: [] }), TypeError);
  assert.throws(() => tdxReferenceTriple({ mrtd: 'abcd' }), TypeError);
  assert.throws(() => nitroReferenceTriple({ 40: H48 }), TypeError);
});
