/**
 * Supply-chain records: the DSSE spec's test vector, builder keys of every accepted type,
 * keyid matching, SLSA provenance v1 / SBOM / signed CoRIM extraction, in-toto Statement v0.1
 * with SLSA provenance v0.2 (builder, configSource / materials as the source), digest sets
 * whose unknown algorithms (`gitCommit`, `sha1`, `md5`…) are ignored beside an accepted one,
 * and one refusal per bad input, each with its code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sign, type KeyObject } from 'node:crypto';
import { IN_TOTO_MEDIA_TYPE } from '../../wire/media-types.js';
import { signCorim } from '../../endorsements/corim/encode.js';
import { tdxReferenceTriple } from '../../endorsements/corim/templates.js';
import { acceptRecord, recordKeys, type RecordTrust } from '../../provenance/records.js';
import { builderKey, pae, parseEnvelope, verifyEnvelope } from '../../provenance/dsse.js';
import {
  signStatement,
  simulateSbom,
  simulateSlsaProvenance,
  slsaStatement,
} from '../../simulators/index.js';
import { newKeyPair } from '../../common/key-pair.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const BUILDER = 'https://builder.example/ci@v1';
const MRTD = 'a1'.repeat(48);
const COMMIT = 'c27d339ee6075c1f744c5d4b200f7901aad2c369';
const REPO = 'https://github.com/acme/workload';

const ec = (namedCurve: string) => newKeyPair('ec', { namedCurve });
const p256 = ec('P-256');
const p384 = ec('P-384');
const ed = newKeyPair('ed25519');
const stranger = ec('P-256');

const trust = (extra: Partial<RecordTrust> = {}): RecordTrust => ({
  builders: [
    builderKey(p256.publicKey, [BUILDER]),
    builderKey(p384.publicKey, [BUILDER]),
    builderKey(ed.publicKey, [BUILDER]),
  ],
  corimKeys: [],
  ...extra,
});

const slsa = (
  signers: { key: KeyObject; keyid?: string }[],
  over: Partial<Parameters<typeof slsaStatement>[0]> = {},
) =>
  simulateSlsaProvenance({
    subjects: [{ name: 'td-image', digest: { sha384: MRTD } }],
    builderId: BUILDER,
    repository: REPO,
    commit: COMMIT,
    signers,
    ...over,
  });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'accepted';
}

const dsse = (envelope: unknown, t = trust()) => acceptRecord({ kind: 'dsse', envelope }, t, NOW);

describe('DSSE', () => {
  test('the protocol.md test vector: PAE bytes and the P-256 r‖s signature verify', () => {
    const body = new Uint8Array(Buffer.from('hello world'));
    assert.equal(
      Buffer.from(pae('http://example.com/HelloWorld', body)).toString(),
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    const b64u = (dec: string): string =>
      Buffer.from(BigInt(dec).toString(16).padStart(64, '0'), 'hex').toString('base64url');
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      x: b64u('46950820868899156662930047687818585632848591499744589407958293238635476079160'),
      y: b64u('5640078356564379163099075877009565129882514886557779369047442380624545832820'),
    };
    const env = parseEnvelope({
      payload: 'aGVsbG8gd29ybGQ=',
      payloadType: 'http://example.com/HelloWorld',
      signatures: [
        {
          sig: 'A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==',
        },
      ],
    });
    const key = builderKey(jwk, []);
    assert.deepEqual(verifyEnvelope(env, [key]), [key]);
    const other = builderKey(stranger.publicKey, []);
    assert.equal(
      codeOf(() => verifyEnvelope(env, [other])),
      'ERR_PROVENANCE_UNVERIFIABLE',
    );
    const flipped = { ...env, payload: new Uint8Array(Buffer.from('hello worle')) };
    assert.equal(
      codeOf(() => verifyEnvelope(flipped, [key])),
      'ERR_PROVENANCE_UNVERIFIABLE',
    );
  });

  test('P-256, P-384 and Ed25519 builders; DER and r‖s ECDSA; URL-safe base64', () => {
    for (const key of [p256.privateKey, p384.privateKey, ed.privateKey]) {
      assert.equal(dsse(slsa([{ key }])).builderId, BUILDER);
    }
    const env = slsa([{ key: p384.privateKey }]);
    const raw = sign('sha384', pae(IN_TOTO_MEDIA_TYPE, Buffer.from(env.payload, 'base64')), {
      key: p384.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    const p1363 = {
      ...env,
      payload: Buffer.from(env.payload, 'base64').toString('base64url'),
      signatures: [{ keyid: env.signatures[0]!.keyid, sig: raw.toString('base64url') }],
    };
    assert.equal(dsse(p1363).sourceCommit, COMMIT);
  });

  test('an r‖s signature whose first byte is 0x30 (as DER starts) still verifies', () => {
    const env = slsa([{ key: p384.privateKey }]);
    const data = pae(IN_TOTO_MEDIA_TYPE, Buffer.from(env.payload, 'base64'));
    let raw = Buffer.alloc(0);
    // About one signature in 256 begins with 0x30; ECDSA signatures are randomised.
    for (let i = 0; i < 10_000 && raw[0] !== 0x30; i++) {
      raw = sign('sha384', data, { key: p384.privateKey, dsaEncoding: 'ieee-p1363' });
    }
    assert.equal(raw[0], 0x30);
    const env1363 = { ...env, signatures: [{ keyid: '', sig: raw.toString('base64') }] };
    assert.equal(dsse(env1363).sourceCommit, COMMIT);
  });

  test('keyid narrows the keys tried; an unknown keyid verifies with none', () => {
    const named = trust({ builders: [builderKey(p256.publicKey, [BUILDER], 'ci-p256')] });
    const signedAs = (keyid: string) => slsa([{ key: p256.privateKey, keyid }]);
    assert.deepEqual(dsse(signedAs('ci-p256'), named).signers, ['ci-p256']);
    assert.deepEqual(
      dsse({ ...signedAs(''), signatures: [{ sig: signedAs('').signatures[0]!.sig }] }, named)
        .signers,
      ['ci-p256'],
      'no keyid: every key is tried',
    );
    assert.equal(
      codeOf(() => dsse(signedAs('someone-else'), named)),
      'ERR_PROVENANCE_UNVERIFIABLE',
    );
    assert.equal(
      codeOf(() => builderKey(newKeyPair('rsa', { modulusLength: 1024 }).publicKey, [])),
      'TypeError: builder keys must be ECDSA P-256, ECDSA P-384 or Ed25519',
    );
  });
});

describe('in-toto v0.1, SLSA v0.2 and digest sets', () => {
  const signed = (statement: Record<string, unknown>) =>
    signStatement(statement, [{ key: p256.privateKey }]);
  const v1 = slsaStatement({
    subjects: [{ name: 'td-image', digest: { sha384: MRTD } }],
    builderId: BUILDER,
    repository: REPO,
    commit: COMMIT,
  });
  const v02 = (predicate: Record<string, unknown>, subject: unknown = v1.subject) => ({
    _type: 'https://in-toto.io/Statement/v0.1',
    subject,
    predicateType: 'https://slsa.dev/provenance/v0.2',
    predicate: { builder: { id: BUILDER }, buildType: 'https://ci.example/v0', ...predicate },
  });
  const OTHER = 'd'.repeat(40);

  test('Statement v0.1 with a SLSA v1 predicate reads like v1', () => {
    const r = dsse(signed({ ...v1, _type: 'https://in-toto.io/Statement/v0.1' }));
    assert.equal(r.sourceCommit, COMMIT);
    assert.equal(r.builderId, BUILDER);
  });

  test('SLSA v0.2: builder.id, buildType, configSource first, then materials (gitCommit or sha1)', () => {
    const config = {
      uri: `git+${REPO}@refs/heads/main`,
      digest: { sha1: COMMIT },
      entryPoint: '.github/workflows/build.yml',
    };
    const materials = [
      { uri: 'pkg:npm/left-pad@1.3.0', digest: { sha512: 'e'.repeat(128) } },
      { uri: 'git+https://github.com/acme/other@v1', digest: { gitCommit: OTHER, md5: 'x' } },
    ];
    const r = dsse(signed(v02({ invocation: { configSource: config }, materials })));
    assert.equal(r.kind, 'slsa-provenance');
    assert.equal(r.predicateType, 'https://slsa.dev/provenance/v0.2');
    assert.equal(r.buildType, 'https://ci.example/v0');
    assert.equal(r.sourceRepository, REPO);
    assert.equal(r.sourceCommit, COMMIT);
    const fromMaterials = dsse(signed(v02({ materials })));
    assert.equal(fromMaterials.sourceRepository, 'https://github.com/acme/other');
    assert.equal(fromMaterials.sourceCommit, OTHER);
    const none = dsse(signed(v02({})));
    assert.equal(none.sourceCommit, undefined);
    assert.equal(
      codeOf(() => dsse(signed(v02({ builder: { id: 'https://evil.example/ci' } })))),
      'ERR_PROVENANCE_UNKNOWN_BUILDER',
    );
  });

  test('unknown digest algorithms beside an accepted one are ignored, in subjects and materials', () => {
    const subject: { name: string; digest: Record<string, unknown> }[] = [
      { name: 'image', digest: { sha384: MRTD, gitCommit: COMMIT, sha1: 'ab'.repeat(20) } },
      { name: 'source', digest: { gitCommit: COMMIT } },
      { name: 'odd', digest: { constructor: 'x', md5: 42, sha256: 'c'.repeat(64) } },
    ];
    const r = dsse(signed({ ...v1, subject }));
    assert.deepEqual(r.subjects, [
      { name: 'image', digests: [{ alg: 'sha384', value: MRTD }] },
      { name: 'odd', digests: [{ alg: 'sha256', value: 'c'.repeat(64) }] },
    ]);
    assert.deepEqual(
      recordKeys(r).map((k) => k.key),
      [`sha384:${MRTD}`, `sha256:${'c'.repeat(64)}`],
    );
    const v02r = dsse(
      signed(
        v02({ materials: [{ uri: 'https://x.example/a', digest: { md5: 'ab', blake2b: 1 } }] }, [
          { name: 'a', digest: { sha512: 'f'.repeat(128), sha1: 'ab'.repeat(20) } },
          { name: 'b', digest: { gitCommit: COMMIT } },
        ]),
      ),
    );
    assert.equal(v02r.subjects.length, 1);
    assert.equal(
      codeOf(() => dsse(signed({ ...v1, subject: [{ digest: { gitCommit: COMMIT } }] }))),
      'ERR_PROVENANCE_DIGEST_ALGORITHM',
      'no subject with an accepted digest',
    );
  });
});

describe('records', () => {
  test('SLSA provenance v1: builder, build type, repository and commit; subject keys', () => {
    const r = dsse(slsa([{ key: p256.privateKey }]));
    assert.equal(r.kind, 'slsa-provenance');
    assert.equal(r.sourceRepository, REPO);
    assert.equal(r.sourceCommit, COMMIT);
    assert.equal(
      r.buildType,
      'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
    );
    assert.match(r.digest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(recordKeys(r), [{ field: '*', key: `sha384:${MRTD}` }]);
  });

  test('SBOM references (SPDX and CycloneDX) record their format', () => {
    for (const format of ['spdx', 'cyclonedx'] as const) {
      const r = dsse(
        simulateSbom({
          subjects: [{ name: 'x', digest: { sha256: 'ab'.repeat(32) } }],
          format,
          signers: [{ key: ed.privateKey }],
        }),
      );
      assert.equal(r.kind, 'sbom');
      assert.equal(r.sbomFormat, format);
    }
  });

  test('a signed CoRIM gives its measurement reference values', () => {
    const cose = signCorim(
      {
        id: 'tag:acme,2026:td',
        comids: [
          {
            tagId: 'c',
            referenceTriples: [
              tdxReferenceTriple({ mrtd: MRTD, rtmrs: [undefined, 'b2'.repeat(48)] }),
            ],
          },
        ],
      },
      { key: p384.privateKey, signer: { name: 'ACME' } },
    );
    const t = trust({ corimKeys: [p384.publicKey] });
    const r = acceptRecord({ kind: 'corim', bytes: cose }, t, NOW);
    assert.equal(r.kind, 'corim');
    assert.deepEqual(
      [...r.references].sort((a, b) => a.field.localeCompare(b.field)),
      [
        { platform: 'tdx', field: 'mrtd', value: MRTD },
        { platform: 'tdx', field: 'rtmr1', value: 'b2'.repeat(48) },
      ],
    );
    assert.ok(recordKeys(r).some((k) => k.field === 'tdx.mrtd' && k.key === `sha384:${MRTD}`));
    assert.equal(
      codeOf(() =>
        acceptRecord({ kind: 'corim', bytes: cose }, trust({ corimKeys: [p256.publicKey] }), NOW),
      ),
      'ERR_PROVENANCE_UNVERIFIABLE',
    );
    assert.equal(
      codeOf(() => acceptRecord({ kind: 'corim', bytes: cose }, trust(), NOW)),
      'ERR_PROVENANCE_UNVERIFIABLE',
      'no CoRIM key configured',
    );
    assert.equal(
      codeOf(() => acceptRecord({ kind: 'corim', bytes: cose.slice(0, 40) }, t, NOW)),
      'ERR_PROVENANCE_MALFORMED',
    );
  });
});

describe('every bad input is refused with its code', () => {
  const good = slsa([{ key: p256.privateKey }]);
  const statement = slsaStatement({
    subjects: [{ name: 'td', digest: { sha384: MRTD } }],
    builderId: BUILDER,
    repository: REPO,
    commit: COMMIT,
  });
  const signed = (s: unknown) => signStatement(s, [{ key: p256.privateKey }]);
  const cases: [string, unknown, string][] = [
    ['unsigned', { ...good, signatures: [] }, 'ERR_PROVENANCE_UNVERIFIABLE'],
    [
      'signed by an unknown key',
      slsa([{ key: stranger.privateKey }]),
      'ERR_PROVENANCE_UNVERIFIABLE',
    ],
    [
      'payload changed after signing',
      {
        ...good,
        payload: Buffer.from(JSON.stringify({ ...statement, predicateType: 'x' })).toString(
          'base64',
        ),
      },
      'ERR_PROVENANCE_UNVERIFIABLE',
    ],
    [
      'unknown builder',
      slsa([{ key: p256.privateKey }], { builderId: 'https://evil.example/ci' }),
      'ERR_PROVENANCE_UNKNOWN_BUILDER',
    ],
    [
      'md5-only subject',
      signed({ ...statement, subject: [{ name: 'x', digest: { md5: 'ab'.repeat(16) } }] }),
      'ERR_PROVENANCE_DIGEST_ALGORITHM',
    ],
    [
      'sha1-only subject',
      signed({ ...statement, subject: [{ name: 'x', digest: { sha1: 'ab'.repeat(20) } }] }),
      'ERR_PROVENANCE_DIGEST_ALGORITHM',
    ],
    [
      'short sha384',
      signed({ ...statement, subject: [{ name: 'x', digest: { sha384: 'ab' } }] }),
      'ERR_PROVENANCE_MALFORMED',
    ],
    [
      'uppercase hex',
      signed({ ...statement, subject: [{ name: 'x', digest: { sha384: MRTD.toUpperCase() } }] }),
      'ERR_PROVENANCE_MALFORMED',
    ],
    [
      'unknown Statement version',
      signed({ ...statement, _type: 'https://in-toto.io/Statement/v0.2' }),
      'ERR_PROVENANCE_MALFORMED',
    ],
    [
      'SLSA v0.2 without builder',
      signed({
        ...statement,
        predicateType: 'https://slsa.dev/provenance/v0.2',
        predicate: { buildType: 'b' },
      }),
      'ERR_PROVENANCE_MALFORMED',
    ],
    [
      'SLSA v0.2 with a bad git sha1',
      signed({
        ...statement,
        predicateType: 'https://slsa.dev/provenance/v0.2',
        predicate: {
          builder: { id: BUILDER },
          buildType: 'b',
          materials: [{ uri: 'git+https://h/r', digest: { sha1: 'xyz' } }],
        },
      }),
      'ERR_PROVENANCE_MALFORMED',
    ],
    ['no subjects', signed({ ...statement, subject: [] }), 'ERR_PROVENANCE_MALFORMED'],
    [
      'too many subjects',
      signed({
        ...statement,
        subject: Array.from({ length: 300 }, () => ({ digest: { sha384: MRTD } })),
      }),
      'ERR_PROVENANCE_OVERSIZED',
    ],
    [
      'unknown predicate type',
      signed({ ...statement, predicateType: 'https://example.com/other/v1' }),
      'ERR_PROVENANCE_UNSUPPORTED',
    ],
    [
      'SLSA without builder id',
      signed({
        ...statement,
        predicate: {
          buildDefinition: { buildType: 'b', externalParameters: {} },
          runDetails: { builder: {} },
        },
      }),
      'ERR_PROVENANCE_MALFORMED',
    ],
    [
      'other payload type',
      signStatement(statement, [{ key: p256.privateKey }], 'application/json'),
      'ERR_PROVENANCE_UNSUPPORTED',
    ],
    ['payload not base64', { ...good, payload: '!!!' }, 'ERR_PROVENANCE_MALFORMED'],
    ['mixed base64 alphabets', { ...good, payload: 'ab+_' }, 'ERR_PROVENANCE_MALFORMED'],
    ['signatures not an array', { ...good, signatures: {} }, 'ERR_PROVENANCE_MALFORMED'],
    [
      'too many signatures',
      { ...good, signatures: Array.from({ length: 9 }, () => good.signatures[0]) },
      'ERR_PROVENANCE_OVERSIZED',
    ],
    [
      'oversized payload',
      { ...good, payload: Buffer.alloc(200 * 1024).toString('base64') },
      'ERR_PROVENANCE_OVERSIZED',
    ],
    ['not an object', [good], 'ERR_PROVENANCE_MALFORMED'],
    [
      'missing payloadType',
      { payload: good.payload, signatures: good.signatures },
      'ERR_PROVENANCE_MALFORMED',
    ],
  ];
  for (const [name, envelope, expected] of cases) {
    test(name, () =>
      assert.equal(
        codeOf(() => dsse(envelope)),
        expected,
      ),
    );
  }

  test('a payload that verifies but is not JSON is malformed', () => {
    const env = signStatement('unused', [{ key: p256.privateKey }]);
    const bytes = new Uint8Array(Buffer.from('{not json'));
    const sig = sign('sha256', pae(IN_TOTO_MEDIA_TYPE, bytes), p256.privateKey).toString('base64');
    const bad = {
      ...env,
      payload: Buffer.from(bytes).toString('base64'),
      signatures: [{ keyid: env.signatures[0]!.keyid, sig }],
    };
    assert.equal(
      codeOf(() => dsse(bad)),
      'ERR_PROVENANCE_MALFORMED',
    );
  });
});
