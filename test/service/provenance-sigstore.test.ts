/**
 * Sigstore bundles end to end (simulated Nitro, SQLite), with real public bundles
 * (`test/fixtures/sigstore/`): the service is configured with the Sigstore public-good trusted
 * root and the GitHub Actions workflow identity of sigstore-js's release workflow. The npm
 * provenance bundle of `sigstore@1.3.0` (Statement v0.1, SLSA v0.2) is loaded through the admin
 * API; the one of `sigstore@2.0.0` (Statement v1, SLSA v1) is supplied by the attester with its
 * evidence. Each tampered or foreign bundle is refused with its code and a 4xx, and the log
 * does not grow.
 *
 * A v0.3 bundle from the Sigstore conformance suite (GitHub artifact attestation statement
 * whose subject is a file's sha256) links to a simulated SEV-SNP guest whose HOST_DATA is that
 * digest.
 *
 * Linking: the linker matches a measurement of n bytes to an in-toto subject digest of the
 * algorithm with that output size (`docs/provenance.md` "Matching convention"). The npm
 * bundles' subjects are the tarballs' sha512 digests, so the simulated enclave's application
 * measurement (PCR2, 64 bytes) is set to that digest — an enclave whose measured application
 * is exactly the attested artefact; the v0.3 bundle's subject is a sha256, so the SEV-SNP
 * guest's 32-byte HOST_DATA (the host-provided configuration digest) carries it. The WIT's
 * `jti` then resolves to a log leaf naming the bundle's builder, repository and commit,
 * matched on `nitro.pcr2` (or `sev-snp.host_data`), and the commit query finds the credential.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sigstoreIdentity, sigstoreTrust } from '../../provenance/sigstore.js';
import { verifyProvenanceAnswer, type ProvenanceAnswer } from '../../provenance/verify-answer.js';
import type { PublishedLogKey } from '../../provenance/tree-head.js';
import { projectRoot } from '../helpers/vectors.js';
import { evidenceCmw, NOW, startTestService, workloadKey, type TestService } from './harness.js';

const dir = join(projectRoot, 'test', 'fixtures', 'sigstore');
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TOKEN = 'sigstore-admin-token-0123456789';
const ISSUER = 'https://token.actions.githubusercontent.com';
const WORKFLOW = 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml';
const BEACON =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const AA_TEST =
  'https://github.com/loosebazooka/aa-test/.github/workflows/provenance.yaml@refs/heads/main';
const V01 = fixture('bundle-provenance.json');
const V1 = fixture('bundle-provenance-v1.json');
const subjectOf = (bundle: Json): string => {
  const statement = JSON.parse(
    Buffer.from(bundle.dsseEnvelope.payload as string, 'base64').toString(),
  ) as { subject: { digest: { sha512: string } }[] };
  return statement.subject[0]!.digest.sha512;
};

describe('Sigstore bundles end to end (real npm provenance, simulated Nitro)', () => {
  let service: TestService;
  let logKey: PublishedLogKey;

  const get = async (path: string) => {
    const r = await fetch(service.base + path);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const post = async (path: string, body: unknown, token: string | null = TOKEN) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const r = await fetch(service.base + path, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  async function attest(pcr2: string, supplyChain?: unknown[], hostData?: string) {
    const key = workloadKey();
    const { nonce } = (await (
      await fetch(service.base + '/v1/challenge', { method: 'POST' })
    ).json()) as { nonce: string };
    const evidence =
      hostData === undefined
        ? evidenceCmw(service.pki, 'nitro', nonce, key, {
            pcrs: { 2: new Uint8Array(Buffer.from(pcr2, 'hex')) },
          })
        : evidenceCmw(service.pki, 'sev-snp', nonce, key, {
            hostData: new Uint8Array(Buffer.from(hostData, 'hex')),
          });
    return post(
      '/v1/attest',
      { nonce, evidence, key: key.jwk, ...(supplyChain && { supply_chain: supplyChain }) },
      null,
    );
  }
  const jtiOf = (wit: unknown): string =>
    (JSON.parse(Buffer.from(String(wit).split('.')[1]!, 'base64url').toString()) as { jti: string })
      .jti;

  before(async () => {
    service = await startTestService({
      seed: 'twi-sigstore',
      clock: () => NOW,
      adminToken: TOKEN,
      provenance: {
        builders: [],
        sigstore: sigstoreTrust(fixture('trusted_root.json'), [
          sigstoreIdentity(
            { issuer: ISSUER, subject_regexp: `${WORKFLOW.replace(/\./g, '\\.')}@refs/heads/main` },
            [
              'https://github.com/actions/runner',
              'https://github.com/actions/runner/github-hosted',
            ],
          ),
          sigstoreIdentity({ issuer: ISSUER, subject: BEACON }, [AA_TEST]),
        ]),
      },
    });
    logKey = (await get('/v1/log/key')).body as unknown as PublishedLogKey;
  });

  after(async () => {
    await service.close();
  });

  test('tampered and foreign bundles are refused with 4xx codes; nothing is logged', async () => {
    const before = (await get('/v1/log/tree-head')).body.tree_size;
    const tampered = JSON.parse(JSON.stringify(V01)) as Json;
    const p = Buffer.from(tampered.dsseEnvelope.payload as string, 'base64');
    p[p.indexOf('1.3.0') + 4] = 0x31;
    tampered.dsseEnvelope.payload = p.toString('base64');
    const swapped = JSON.parse(JSON.stringify(V01)) as Json;
    swapped.verificationMaterial.x509CertificateChain = (
      fixture('bundle-other-signer.json') as Json
    ).verificationMaterial.x509CertificateChain;
    const cases: [string, unknown, number, string][] = [
      ['payload changed', tampered, 422, 'ERR_PROVENANCE_TLOG'],
      ['certificate swapped', swapped, 422, 'ERR_PROVENANCE_CERTIFICATE'],
      ['another identity', fixture('bundle-other-signer.json'), 422, 'ERR_PROVENANCE_IDENTITY'],
      ['public-key bundle', fixture('bundle-public-key.json'), 415, 'ERR_PROVENANCE_UNSUPPORTED'],
    ];
    for (const [name, body, status, code] of cases) {
      const r = await post('/v1/admin/provenance', body);
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, code, name);
    }
    const refused = await attest(subjectOf(V01), [tampered]);
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'ERR_PROVENANCE_TLOG');
    assert.equal((await get('/v1/log/tree-head')).body.tree_size, before);
  });

  test("a bundle loaded by the admin links to the WIT whose PCR2 is its subject's sha512", async () => {
    const added = await post('/v1/admin/provenance', V01);
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.builder_id, 'https://github.com/actions/runner');
    assert.equal(added.body.signer_issuer, ISSUER);
    assert.deepEqual(added.body.signers, [`${WORKFLOW}@refs/heads/main`]);
    const again = await post('/v1/admin/provenance', V01);
    assert.equal(again.body.code, 'ERR_PROVENANCE_DUPLICATE');

    const r = await attest(subjectOf(V01));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const jti = jtiOf(r.body.wit);
    const answer = (await get(`/v1/provenance/${jti}`)).body as unknown as ProvenanceAnswer;
    const record = answer.record as { provenance: Record<string, unknown>[] };
    assert.equal(record.provenance.length, 1, JSON.stringify(record));
    assert.deepEqual(record.provenance[0], {
      digest: added.body.digest,
      kind: 'slsa-provenance',
      builder_id: 'https://github.com/actions/runner',
      build_type: 'https://github.com/npm/cli/gha/v2',
      source_repository: 'https://github.com/sigstore/sigstore-js',
      source_commit: 'dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1',
      matched: ['nitro.pcr2'],
    });
    verifyProvenanceAnswer(answer, logKey, jti);
    const found = await get('/v1/provenance?commit=dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1');
    assert.deepEqual(
      (found.body.credentials as { jti: string }[]).map((c) => c.jti),
      [jti],
    );
    const other = await attest('ab'.repeat(64));
    const unlinked = (await get(`/v1/provenance/${jtiOf(other.body.wit)}`)).body.record as {
      provenance: unknown[];
    };
    assert.deepEqual(unlinked.provenance, [], 'another application links to nothing');
  });

  test('a bundle supplied with the evidence (Statement v1, SLSA v1) is verified and linked', async () => {
    const r = await attest(subjectOf(V1), [V1]);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const record = (await get(`/v1/provenance/${jtiOf(r.body.wit)}`)).body.record as {
      provenance: Record<string, unknown>[];
    };
    assert.equal(record.provenance.length, 1);
    assert.equal(
      record.provenance[0]!.builder_id,
      'https://github.com/actions/runner/github-hosted',
    );
    assert.equal(record.provenance[0]!.source_commit, 'f0b49a04e5a62250e0f60fb128004a73110fe311');
    assert.deepEqual(record.provenance[0]!.matched, ['nitro.pcr2']);
  });

  test('a v0.3 bundle (GitHub artifact attestation) links to the SEV-SNP guest whose HOST_DATA is its subject', async () => {
    const bundle = fixture('bundle-v03-provenance.json');
    const added = await post('/v1/admin/provenance', bundle);
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual(added.body.signers, [BEACON]);
    const sha256 = 'a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf';
    const r = await attest('', undefined, sha256);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const jti = jtiOf(r.body.wit);
    const record = (await get(`/v1/provenance/${jti}`)).body.record as {
      provenance: Record<string, unknown>[];
    };
    assert.equal(record.provenance.length, 1, JSON.stringify(record));
    assert.equal(record.provenance[0]!.builder_id, AA_TEST);
    assert.equal(
      record.provenance[0]!.source_repository,
      'https://github.com/loosebazooka/aa-test',
    );
    assert.deepEqual(record.provenance[0]!.matched, ['sev-snp.host_data']);
    const found = await get(
      `/v1/provenance?record=${encodeURIComponent(String(added.body.digest))}`,
    );
    assert.deepEqual(
      (found.body.credentials as { jti: string }[]).map((c) => c.jti),
      [jti],
    );
  });
});
