/**
 * Sigstore bundles against real public data (`test/fixtures/sigstore/`, see its README): the
 * npm provenance bundles of sigstore-js 1.3.0 (Statement v0.1, SLSA provenance v0.2) and
 * 2.0.0 (Statement v1, SLSA provenance v1), signed keylessly by the GitHub Actions release
 * workflow, and a v0.3 bundle (GitHub artifact attestation statement, Rekor inclusion proof
 * with checkpoint) from the Sigstore conformance suite, verify offline against the public-good
 * trusted root at their signing time and yield the builder, source repository and commit; the identity policy (exact SAN or
 * full-match pattern, and OIDC issuer) and the builder ids are enforced; tampered bundles
 * (payload, signature, certificate swapped, log entry, no log entry) and other bundle kinds
 * are refused with stable codes; the builder configuration file reads Sigstore identities.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acceptRecord, recordSummary, type RecordTrust } from '../../provenance/records.js';
import {
  isSigstoreBundle,
  sigstoreIdentity,
  sigstoreTrust,
  type SigstoreIdentity,
} from '../../provenance/sigstore.js';
import { builderTrust, parseBuilderConfig } from '../../provenance/builder-config.js';
import { projectRoot } from '../helpers/vectors.js';

const dir = join(projectRoot, 'test', 'fixtures', 'sigstore');
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
const ROOT = fixture('trusted_root.json');
const V01 = fixture('bundle-provenance.json');
const V1 = fixture('bundle-provenance-v1.json');

const ISSUER = 'https://token.actions.githubusercontent.com';
const SAN = 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main';
const RUNNER = 'https://github.com/actions/runner';
const RUNNER_HOSTED = 'https://github.com/actions/runner/github-hosted';
const NOW = new Date('2026-01-01T00:00:00Z');

const identity = (
  sigstore: Record<string, string>,
  builderIds = [RUNNER, RUNNER_HOSTED],
): SigstoreIdentity => sigstoreIdentity(sigstore, builderIds);
const trustWith = (ids: SigstoreIdentity[]): RecordTrust => ({
  builders: [],
  corimKeys: [],
  sigstore: sigstoreTrust(ROOT, ids),
});
const TRUST = trustWith([identity({ issuer: ISSUER, subject: SAN })]);

const accept = (bundle: unknown, trust = TRUST) =>
  acceptRecord({ kind: 'dsse', envelope: bundle }, trust, NOW);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'accepted';
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('Sigstore bundles (real npm provenance)', () => {
  test('v0.1 bundle, Statement v0.1, SLSA v0.2: verified; builder, source and subject read', () => {
    assert.equal(isSigstoreBundle(V01), true);
    const r = accept(V01);
    assert.equal(r.kind, 'slsa-provenance');
    assert.equal(r.predicateType, 'https://slsa.dev/provenance/v0.2');
    assert.equal(r.builderId, RUNNER);
    assert.equal(r.buildType, 'https://github.com/npm/cli/gha/v2');
    assert.equal(r.sourceRepository, 'https://github.com/sigstore/sigstore-js');
    assert.equal(r.sourceCommit, 'dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1');
    assert.deepEqual(r.signers, [SAN]);
    assert.equal(r.signerIssuer, ISSUER);
    assert.equal(recordSummary(r).signer_issuer, ISSUER);
    assert.deepEqual(r.subjects, [
      {
        name: 'pkg:npm/sigstore@1.3.0',
        digests: [
          {
            alg: 'sha512',
            value:
              '76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751',
          },
        ],
      },
    ]);
    const payload = Buffer.from((V01.dsseEnvelope as Json).payload as string, 'base64');
    assert.match(r.digest, /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(payload.length, 0);
  });

  test('v0.1 bundle, Statement v1, SLSA v1 (sigstore-js 2.0.0): verified and read', () => {
    const r = accept(V1);
    assert.equal(r.predicateType, 'https://slsa.dev/provenance/v1');
    assert.equal(r.builderId, RUNNER_HOSTED);
    assert.equal(r.sourceRepository, 'https://github.com/sigstore/sigstore-js');
    assert.equal(r.sourceCommit, 'f0b49a04e5a62250e0f60fb128004a73110fe311');
    assert.equal(r.subjects[0]!.name, 'pkg:npm/sigstore@2.0.0');
  });

  test('v0.3 bundle (single certificate, inclusion proof), GitHub artifact attestation statement', () => {
    const beacon =
      'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
    const builder =
      'https://github.com/loosebazooka/aa-test/.github/workflows/provenance.yaml@refs/heads/main';
    const bundle = fixture('bundle-v03-provenance.json');
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const r = accept(bundle, trustWith([identity({ issuer: ISSUER, subject: beacon }, [builder])]));
    assert.equal(r.builderId, builder);
    assert.equal(r.buildType, 'https://actions.github.io/buildtypes/workflow/v1');
    assert.equal(r.sourceRepository, 'https://github.com/loosebazooka/aa-test');
    assert.equal(r.sourceCommit, 'ebff8dfbd609b7b22237c7719ce07f2dc7934f5f');
    assert.deepEqual(r.subjects, [
      {
        name: 'a.txt',
        digests: [
          {
            alg: 'sha256',
            value: 'a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf',
          },
        ],
      },
    ]);
    const proofless = clone(bundle) as Json;
    proofless.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0] =
      Buffer.alloc(32).toString('base64');
    assert.equal(
      codeOf(() =>
        accept(proofless, trustWith([identity({ issuer: ISSUER, subject: beacon }, [builder])])),
      ),
      'ERR_PROVENANCE_TLOG',
      'a changed inclusion-proof hash',
    );
  });

  test('identity policy: exact SAN, anchored pattern, issuer; builder ids of the identity', () => {
    const pattern = identity({
      issuer: ISSUER,
      subject_regexp: String.raw`https://github\.com/sigstore/sigstore-js/\.github/workflows/release\.yml@refs/(heads|tags)/.+`,
    });
    assert.equal(accept(V01, trustWith([pattern])).builderId, RUNNER);
    const cases: [string, SigstoreIdentity[], string][] = [
      [
        'other workflow',
        [identity({ issuer: ISSUER, subject: SAN.replace('release.yml', 'ci.yml') })],
        'ERR_PROVENANCE_IDENTITY',
      ],
      [
        'other repository',
        [identity({ issuer: ISSUER, subject: SAN.replace('sigstore-js', 'sigstore-go') })],
        'ERR_PROVENANCE_IDENTITY',
      ],
      [
        'pattern matching only part of the SAN',
        [identity({ issuer: ISSUER, subject_regexp: 'sigstore-js' })],
        'ERR_PROVENANCE_IDENTITY',
      ],
      [
        'other issuer',
        [identity({ issuer: 'https://accounts.google.com', subject: SAN })],
        'ERR_PROVENANCE_IDENTITY',
      ],
      ['no identity configured', [], 'ERR_PROVENANCE_IDENTITY'],
      [
        'identity may not speak for the runner',
        [identity({ issuer: ISSUER, subject: SAN }, ['https://ci.example/other'])],
        'ERR_PROVENANCE_UNKNOWN_BUILDER',
      ],
    ];
    for (const [name, ids, code] of cases) {
      assert.equal(
        codeOf(() => accept(V01, trustWith(ids))),
        code,
        name,
      );
    }
    // A real bundle by another signer (a person, GitHub OAuth issuer) is not the workflow.
    assert.equal(
      codeOf(() => accept(fixture('bundle-other-signer.json'))),
      'ERR_PROVENANCE_IDENTITY',
    );
  });

  test('tampered bundles are refused with stable codes', () => {
    const payload = (b: Json): Buffer => Buffer.from(b.dsseEnvelope.payload as string, 'base64');
    const tamper = (edit: (b: Json) => void): Json => {
      const b = clone(V01) as Json;
      edit(b);
      return b;
    };
    const other = fixture('bundle-other-signer.json') as Json;
    const cases: [string, Json, string][] = [
      [
        'payload byte changed',
        tamper((b) => {
          const p = payload(b);
          p[p.indexOf('1.3.0') + 4] = 0x31; // 1.3.0 → 1.3.1
          b.dsseEnvelope.payload = p.toString('base64');
        }),
        'ERR_PROVENANCE_TLOG',
      ],
      [
        'signature changed',
        tamper((b) => {
          const sig = Buffer.from(b.dsseEnvelope.signatures[0].sig as string, 'base64');
          sig[sig.length - 5] ^= 0x01;
          b.dsseEnvelope.signatures[0].sig = sig.toString('base64');
        }),
        'ERR_PROVENANCE_TLOG',
      ],
      [
        'certificate swapped for another real Fulcio certificate',
        tamper((b) => {
          b.verificationMaterial.x509CertificateChain =
            other.verificationMaterial.x509CertificateChain;
        }),
        'ERR_PROVENANCE_CERTIFICATE',
      ],
      [
        'log entry time changed (inclusion promise no longer verifies)',
        tamper((b) => {
          const e = b.verificationMaterial.tlogEntries[0];
          e.integratedTime = String(Number(e.integratedTime) + 1);
        }),
        'ERR_PROVENANCE_TLOG',
      ],
      [
        'log entry removed',
        tamper((b) => {
          b.verificationMaterial.tlogEntries = [];
        }),
        'ERR_PROVENANCE_TLOG',
      ],
      [
        'unknown bundle media type',
        tamper((b) => {
          b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=9.9';
        }),
        'ERR_PROVENANCE_UNSUPPORTED',
      ],
      [
        'certificate bytes that are not a certificate',
        tamper((b) => {
          b.verificationMaterial.x509CertificateChain.certificates[0].rawBytes = 'AAAA';
        }),
        'ERR_PROVENANCE_MALFORMED',
      ],
      [
        'no content',
        tamper((b) => {
          delete b.dsseEnvelope;
        }),
        'ERR_PROVENANCE_MALFORMED',
      ],
    ];
    for (const [name, bundle, code] of cases) {
      assert.equal(
        codeOf(() => accept(bundle)),
        code,
        name,
      );
    }
    assert.equal(
      codeOf(() => accept(V01)),
      'accepted',
      'the fixture itself was not changed',
    );
  });

  test('other bundle kinds and missing trust', () => {
    assert.equal(
      codeOf(() => accept(fixture('bundle-public-key.json'))),
      'ERR_PROVENANCE_UNSUPPORTED',
      'npm registry signature: public key, no certificate',
    );
    assert.equal(
      codeOf(() => accept(fixture('bundle-message-signature.json'))),
      'ERR_PROVENANCE_UNSUPPORTED',
      'v0.3 message-signature bundle',
    );
    assert.equal(
      codeOf(() => accept(V01, { builders: [], corimKeys: [] })),
      'ERR_PROVENANCE_UNVERIFIABLE',
      'no trusted root configured',
    );
  });
});

describe('builder configuration with Sigstore identities', () => {
  test('keys and identities; one of key and sigstore; identities need a trusted root', () => {
    const entries = [
      { builder_ids: [RUNNER], sigstore: { issuer: ISSUER, subject: SAN } },
      { builder_ids: [RUNNER], sigstore: { issuer: ISSUER, subject_regexp: '.+@refs/tags/v.+' } },
    ];
    const { keys, identities } = parseBuilderConfig(entries);
    assert.equal(keys.length, 0);
    assert.equal(identities[0]!.subject, SAN);
    assert.equal(identities[1]!.subjectRegExp!.test(`${SAN.split('@')[0]}@refs/tags/v1`), true);
    assert.equal(identities[1]!.subjectRegExp!.test(SAN), false);
    const bad: [unknown, string][] = [
      [[{ builder_ids: [RUNNER] }], 'give exactly one of key and sigstore'],
      [[{ builder_ids: [RUNNER], sigstore: { issuer: ISSUER } }], 'exactly one of subject'],
      [
        [
          {
            builder_ids: [RUNNER],
            sigstore: { issuer: ISSUER, subject: SAN, subject_regexp: 'x' },
          },
        ],
        'exactly one of subject',
      ],
      [[{ builder_ids: [RUNNER], sigstore: { issuer: 'http://x', subject: SAN } }], 'https URL'],
      [[{ builder_ids: [RUNNER], sigstore: { issuer: ISSUER, subject_regexp: '(' } }], 'regexp'],
    ];
    for (const [json, message] of bad) {
      assert.throws(() => parseBuilderConfig(json), {
        name: 'TypeError',
        message: new RegExp(message),
      });
    }
    assert.throws(() => builderTrust(entries, undefined), /need a Sigstore trusted root/);
    assert.equal(builderTrust(entries, ROOT).sigstore?.identities.length, 2);
    assert.equal(builderTrust(undefined, undefined).sigstore, undefined);
    assert.throws(() => sigstoreTrust({ mediaType: 'x' }, []), /mediaType/);
    assert.throws(() => sigstoreTrust({ ...ROOT, tlogs: [] }, []), /no tlogs/);
  });
});
