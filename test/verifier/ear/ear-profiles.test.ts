/**
 * The two EAR profiles. veraison/ear's validation rules, re-stated here as facts (required
 * claims, verifier-id keys, status values, trust-vector claim names and range, nonce length,
 * raw-evidence encoding, the profile string; github.com/veraison/ear 961756e `ear.go`,
 * `ear_appraisal.go`, `verifier.go`, `trusttier.go`, `trustclaim.go`, `util.go`) and the
 * draft-ietf-rats-ear-04 rules are checked against twi's EARs for TDX, SEV-SNP and Nitro
 * appraisals in both profiles, signed and read back; veraison/ear's own test vectors
 * (`veraison-vectors.ts`) go through twi's validator; profile names, URIs and `Accept`
 * parameters are parsed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { haveVectors } from '../../helpers/vectors.js';
import { appraise } from '../../../verifier/appraise/appraise.js';
import { defaultPolicy } from '../../../verifier/policy/normalize.js';
import { buildEar, type EarClaims } from '../../../verifier/ear/claims.js';
import { generateEarKey, signEar, verifyEar } from '../../../verifier/ear/jwt.js';
import { EarError } from '../../../verifier/ear/errors.js';
import { draftEarProblems, earProblems } from '../../../verifier/ear/validate.js';
import { veraisonEarProblems } from '../../../verifier/ear/veraison-rules.js';
import {
  fromVeraisonEar,
  toVeraisonEar,
  type VeraisonEarClaims,
} from '../../../verifier/ear/veraison.js';
import {
  acceptedEatProfile,
  earMediaType,
  earProfileOfUri,
  earProfileOption,
  parseEarProfile,
} from '../../../verifier/ear/profiles.js';
import { sample, verifiedOf } from '../appraise/fixtures.js';
import { ACCEPTED, REFUSED } from './veraison-vectors.js';
import { VERAISON, veraisonFacts } from './veraison-facts.js';

const skip = !haveVectors;
const verifierId = { developer: 'https://twi.dev', build: 'twi 0.1.0' };
const iat = 1_767_225_600;
const now = new Date((iat + 10) * 1000);

/** draft-ietf-rats-ear-04 facts (profile, claim names, encodings). */
const DRAFT = {
  profile: 'tag:ietf.org,2026:rats/ear#04',
  required: ['eat_profile', 'iat', 'ear_verifier_id', 'submods'],
  statuses: VERAISON.statuses,
  vectorKeys: VERAISON.vectorKeys,
} as const;

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function draftFacts(c: Json): string[] {
  const out: string[] = [];
  for (const k of DRAFT.required) if (c[k] === undefined) out.push(`missing ${k}`);
  if (c.eat_profile !== DRAFT.profile) out.push('eat_profile');
  const vid = c.ear_verifier_id;
  if (!isMap(vid) || typeof vid.build !== 'string' || typeof vid.developer !== 'string') {
    out.push('ear_verifier_id');
  }
  for (const [label, a] of Object.entries(c.submods as Record<string, Json>)) {
    if (!(DRAFT.statuses as readonly unknown[]).includes(a.ear_status)) {
      out.push(`${label}: ear_status`);
    }
    for (const k of Object.keys((a.ear_trustworthiness_vector as Json | undefined) ?? {})) {
      if (!(DRAFT.vectorKeys as readonly string[]).includes(k)) out.push(`${label}: ${k}`);
    }
    const ids = a.ear_appraisal_policy_ids;
    if (ids !== undefined && !(Array.isArray(ids) && ids.every((i) => typeof i === 'string'))) {
      out.push(`${label}: ear_appraisal_policy_ids`);
    }
  }
  return out;
}

const PLATFORM_SAMPLES = {
  tdx: 'tdx-v4-dcapqvl-b0c06f-uptodate',
  'sev-snp': 'snp-v3-genoa-azure-trustee',
  nitro: 'nitro-dstack-20251225-prod',
} as const;

function platformEar(platform: keyof typeof PLATFORM_SAMPLES): EarClaims {
  const appraisal = appraise(verifiedOf(sample(PLATFORM_SAMPLES[platform])), defaultPolicy());
  return buildEar({
    appraisals: { [platform]: appraisal },
    verifierId,
    nonce: new Uint8Array(randomBytes(32)),
    iat,
    exp: iat + 300,
    rawEvidence: Uint8Array.of(0xde, 0xad, 0xbe, 0xef),
  });
}

for (const platform of Object.keys(PLATFORM_SAMPLES) as (keyof typeof PLATFORM_SAMPLES)[]) {
  test(
    `${platform}: the default EAR follows the draft, the veraison one veraison/ear's rules`,
    {
      skip,
    },
    async () => {
      const draft = platformEar(platform);
      assert.deepEqual(draftFacts(draft), []);
      assert.deepEqual(earProblems(draft), []);
      // Before: veraison/ear refuses the draft EAR on exactly these claims.
      const before = veraisonFacts(draft);
      assert.ok(before.includes('eat_profile'), before.join());
      assert.ok(before.includes('missing ear.verifier-id'), before.join());
      assert.ok(before.includes(`${platform}: ear.status`), before.join());
      const refusal = veraisonEarProblems({
        ...draft,
        eat_profile: 'tag:github.com,2023:veraison/ear',
      });
      assert.ok(refusal.some((p) => p.includes("'ear.verifier-id'")));
      assert.ok(refusal.some((p) => p.includes("'ear.status'")));

      const veraison = toVeraisonEar(draft);
      assert.deepEqual(veraisonFacts(veraison), []);
      assert.deepEqual(veraisonEarProblems(veraison), []);
      assert.deepEqual(earProblems(veraison), []);
      assert.deepEqual(draftFacts(veraison as unknown as Json).includes('eat_profile'), true);
      const sub = veraison.submods[platform]!;
      const dsub = draft.submods[platform]!;
      assert.equal(sub['ear.status'], dsub.ear_status);
      assert.deepEqual(sub['ear.trustworthiness-vector'], dsub.ear_trustworthiness_vector);
      assert.equal(sub['ear.appraisal-policy-id'], dsub.ear_appraisal_policy_ids![0]);
      assert.deepEqual(veraison['ear.verifier-id'], {
        build: 'twi 0.1.0',
        developer: 'https://twi.dev',
      });
      assert.equal(veraison['ear.raw-evidence'], '3q2-7w');
      assert.equal(veraison.eat_nonce, draft.eat_nonce);
      for (const k of ['ear_status', 'ear_verifier_id', 'ear_raw_evidence']) {
        assert.equal(veraison[k], undefined, k);
      }

      const key = generateEarKey('ES256');
      const opts = { key: key.privateKey, alg: 'ES256' as const, kid: key.kid };
      const read = await verifyEar(await signEar(veraison, opts), key.publicJwk, { now });
      assert.equal(read.eat_profile, 'tag:github.com,2023:veraison/ear');
      assert.equal(read.submods[platform]!.ear_status, dsub.ear_status);
      assert.deepEqual(
        read.submods[platform]!.ear_trustworthiness_vector,
        dsub.ear_trustworthiness_vector,
      );
      assert.equal(read.ear_status, draft.ear_status);
      assert.deepEqual(read.ear_verifier_id, draft.ear_verifier_id);
      const readDraft = await verifyEar(await signEar(draft, opts), key.publicJwk, { now });
      assert.deepEqual(readDraft, draft);
    },
  );
}

test('veraison/ear test vectors: accepted ones pass, refused ones are refused', () => {
  for (const [name, claims] of Object.entries(ACCEPTED)) {
    assert.deepEqual(veraisonEarProblems(claims), [], name);
    assert.deepEqual(earProblems(claims), [], name);
    const read = fromVeraisonEar(claims as VeraisonEarClaims);
    assert.deepEqual(read.ear_verifier_id, claims['ear.verifier-id'], name);
    assert.ok(read.ear_status && Object.keys(read.submods).length > 0, name);
  }
  const pfm = fromVeraisonEar(ACCEPTED['ear_test.go Test_populateFromMap'] as VeraisonEarClaims);
  assert.equal(pfm.submods.test!.ear_status, 'affirming', 'integer status 2');
  assert.deepEqual(pfm.ear_raw_evidence, ['application/octet-stream', 'SSBkaWRuJ3QgZG8gaXQ']);
  const ko = fromVeraisonEar(
    ACCEPTED['arc/data/ear-claims-key-attestation-ko.json'] as VeraisonEarClaims,
  );
  assert.equal(ko.ear_status, 'contraindicated');
  assert.deepEqual(ko.submods.PARSEC_TPM!.ear_appraisal_policy_ids, ['policy://parsec/60a0068d']);
  assert.deepEqual(ko.submods.PARSEC_TPM!['ear.veraison.key-attestation'], {});
  for (const [name, { claims, mentions }] of Object.entries(REFUSED)) {
    const problems = veraisonEarProblems(claims);
    assert.ok(problems.length > 0, name);
    assert.ok(problems.join('; ').includes(mentions), `${name}: ${problems.join('; ')}`);
  }
});

test('veraison rules: names, values and ranges that veraison/ear refuses', () => {
  const ok = ACCEPTED['arc/data/ear-claims-tv-ok.json']!;
  const sub = (ok.submods as Record<string, Json>).test!;
  const withSub = (change: Json): Json => ({ ...ok, submods: { test: { ...sub, ...change } } });
  const cases: [string, Json][] = [
    ['status by another name', withSub({ 'ear.status': 'good' })],
    ['status 3 (not a tier)', withSub({ 'ear.status': 3 })],
    ['draft status name only', withSub({ 'ear.status': undefined, ear_status: 'affirming' })],
    ['unknown vector claim', withSub({ 'ear.trustworthiness-vector': { 'hardware-ish': 2 } })],
    ['vector claim 128', withSub({ 'ear.trustworthiness-vector': { hardware: 128 } })],
    ['vector claim -129', withSub({ 'ear.trustworthiness-vector': { hardware: -129 } })],
    ['policy ids as a list', withSub({ 'ear.appraisal-policy-id': ['p'] })],
    ['extension not a map', withSub({ 'ear.veraison.policy-claims': 'x' })],
    [
      'verifier id with an extra key',
      { ...ok, 'ear.verifier-id': { build: 'b', developer: 'd', x: 'y' } },
    ],
    ['verifier id without build', { ...ok, 'ear.verifier-id': { developer: 'd' } }],
    ['padded raw evidence', { ...ok, 'ear.raw-evidence': '3q2+7w==' }],
    ['nonce of 89 characters', { ...ok, eat_nonce: 'a'.repeat(89) }],
    [
      'tee-info with an unknown key',
      { ...ok, 'ear.veraison.tee-info': { 'tee-name': 'a', 'evidence-id': 'b', x: 1 } },
    ],
    ['draft profile URI', { ...ok, eat_profile: 'tag:ietf.org,2026:rats/ear#04' }],
  ];
  for (const [name, claims] of cases) {
    assert.ok(veraisonEarProblems(claims).length > 0, name);
  }
  // Accepted spellings: numeric status, decimal-text claims, Trustee's alias, 8..88 nonce.
  assert.deepEqual(veraisonEarProblems(withSub({ 'ear.status': 32 })), []);
  assert.deepEqual(
    veraisonEarProblems(withSub({ 'ear.trustworthiness-vector': { hardware: '-7' } })),
    [],
  );
  assert.deepEqual(
    veraisonEarProblems({
      ...ok,
      eat_profile: 'tag:github.com,2024:confidential-containers/Trustee',
    }),
    [],
  );
  assert.deepEqual(veraisonEarProblems({ ...ok, eat_nonce: '0123456789abcdef' }), []);
  // twi as a relying party also refuses a status more trusting than its vector.
  const overclaim = withSub({ 'ear.trustworthiness-vector': { hardware: 96 } });
  assert.deepEqual(veraisonEarProblems(overclaim), []);
  assert.match(earProblems(overclaim).join(), /claims more trust than its vector/);
});

test('draft rules: -04 raw evidence is a CMW record, -03 is still read, veraison names are not draft', () => {
  const claims = buildEar({
    appraisals: {
      tdx: {
        platform: 'tdx',
        status: 'affirming',
        trustVector: { hardware: 2 },
        violations: [],
        policyId: 'p',
        notes: [],
        verification: { verified: true, advisoryIds: [], collateral: [] },
      },
    },
    verifierId,
    iat,
    rawEvidence: Uint8Array.of(1, 2, 3),
    rawEvidenceType: 'application/vnd.twi.tdx-quote',
  });
  assert.deepEqual(claims.ear_raw_evidence, ['application/vnd.twi.tdx-quote', 'AQID']);
  assert.deepEqual(earProblems(claims), []);
  assert.match(earProblems({ ...claims, ear_raw_evidence: 'AQID' }).join(), /CMW record/);
  const draft03 = {
    ...claims,
    eat_profile: 'tag:ietf.org,2026:rats/ear#03',
    ear_raw_evidence: 'AQID',
  };
  assert.deepEqual(earProblems(draft03), []);
  assert.equal(earProfileOfUri(draft03.eat_profile), 'draft');
  const veraisonShaped = { ...toVeraisonEar(claims), eat_profile: claims.eat_profile };
  assert.ok(draftEarProblems(veraisonShaped).length > 0);
});

test('verifyEar: a relying party can restrict the profiles it reads', async () => {
  const key = generateEarKey('ES256');
  const claims = toVeraisonEar(
    buildEar({
      appraisals: {
        nitro: {
          platform: 'nitro',
          status: 'warning',
          trustVector: { executables: 33 },
          violations: [],
          policyId: 'p',
          notes: [],
          verification: { verified: true, advisoryIds: [], collateral: [] },
        },
      },
      verifierId,
      iat,
    }),
  );
  const jwt = await signEar(claims, { key: key.privateKey, alg: 'ES256' });
  const read = await verifyEar(jwt, key.publicJwk, { now, profiles: ['veraison'] });
  assert.equal(read.submods.nitro!.ear_status, 'warning');
  await assert.rejects(verifyEar(jwt, key.publicJwk, { now, profiles: ['draft'] }), (err) => {
    assert.ok(err instanceof EarError);
    assert.equal(err.code, 'ERR_EAR_INVALID');
    return true;
  });
  await assert.rejects(
    signEar(
      { ...claims, 'ear.verifier-id': { build: 'b', developer: 'd', extra: 'x' } },
      {
        key: key.privateKey,
        alg: 'ES256',
      },
    ),
    TypeError,
  );
});

test('profile names, URIs, media types and Accept parameters', () => {
  assert.equal(parseEarProfile('draft'), 'draft');
  assert.equal(parseEarProfile('veraison'), 'veraison');
  assert.equal(parseEarProfile('tag:github.com,2023:veraison/ear'), 'veraison');
  assert.equal(parseEarProfile('tag:github.com,2024:confidential-containers/Trustee'), 'veraison');
  assert.equal(parseEarProfile('cbor'), undefined);
  assert.equal(parseEarProfile(7), undefined);
  assert.equal(earProfileOption('veraison'), 'veraison');
  assert.equal(earProfileOption('tag:ietf.org,2026:rats/ear#04'), 'draft');
  assert.throws(
    () => earProfileOption('tag:ietf.org,2026:rats/ear#03', '--ear-profile'),
    /--ear-profile/,
  );
  assert.throws(() => earProfileOption('psa'), TypeError);
  assert.equal(
    earMediaType('veraison'),
    'application/eat+jwt; eat_profile="tag:github.com,2023:veraison/ear"',
  );
  assert.equal(
    acceptedEatProfile(
      'application/json, application/eat+jwt; eat_profile="tag:github.com,2023:veraison/ear"',
    ),
    'tag:github.com,2023:veraison/ear',
  );
  assert.equal(acceptedEatProfile('Application/EAT+JWT;EAT_PROFILE=veraison'), 'veraison');
  assert.equal(
    acceptedEatProfile(
      'application/eat+jwt; q=0.9; eat_profile="tag:ietf.org,2026:rats/ear#04", */*',
    ),
    'tag:ietf.org,2026:rats/ear#04',
  );
  assert.equal(acceptedEatProfile('application/eat+jwt; eat_profile="a\\"b"'), 'a"b');
  assert.equal(acceptedEatProfile('application/json'), undefined);
  assert.equal(acceptedEatProfile('application/eat+jwt'), undefined);
  assert.equal(acceptedEatProfile('text/plain; eat_profile=veraison'), undefined);
  assert.equal(acceptedEatProfile(undefined), undefined);
});
