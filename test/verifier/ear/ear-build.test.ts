/**
 * EAR claims-sets from appraisals (draft-ietf-rats-ear-04 names, tiers, twi extensions).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EAR_PROFILE } from '../../../wire/media-types.js';
import { haveVectors } from '../../helpers/vectors.js';
import { appraise } from '../../../verifier/appraise/appraise.js';
import { defaultPolicy } from '../../../verifier/policy/normalize.js';
import { loadPolicy } from '../../../verifier/policy/loader.js';
import {
  buildEar,
  TWI_APPRAISAL_PROFILE,
  TWI_POLICY_CLAIM,
  TWI_SIMULATED_CLAIM,
  TWI_VERIFICATION_CLAIM,
} from '../../../verifier/ear/claims.js';
import { earProblems } from '../../../verifier/ear/validate.js';
import { sample, verifiedOf } from '../appraise/fixtures.js';

const skip = !haveVectors;
const verifierId = { developer: 'https://twi.dev', build: 'twi 0.1.0' };
const iat = 1_767_225_600;

test('one affirming TDX submodule', { skip }, () => {
  const s = sample('tdx-v4-dcapqvl-b0c06f-uptodate');
  const appraisal = appraise(verifiedOf(s), defaultPolicy());
  const nonce = new Uint8Array(randomBytes(32));
  const ear = buildEar({ appraisals: { tdx: appraisal }, verifierId, nonce, iat, exp: iat + 300 });
  assert.equal(ear.eat_profile, 'tag:ietf.org,2026:rats/ear#04');
  assert.equal(ear.eat_profile, EAR_PROFILE);
  assert.equal(ear.iat, iat);
  assert.equal(ear.exp, iat + 300);
  assert.deepEqual(ear.ear_verifier_id, verifierId);
  assert.equal(ear.ear_status, 'affirming');
  assert.equal(ear.eat_nonce, Buffer.from(nonce).toString('base64url'));
  const tdx = ear.submods.tdx!;
  assert.equal(tdx.eat_profile, TWI_APPRAISAL_PROFILE);
  assert.equal(tdx.ear_status, 'affirming');
  assert.deepEqual(tdx.ear_trustworthiness_vector, {
    'instance-identity': 2,
    configuration: 2,
    hardware: 2,
    'runtime-opaque': 2,
  });
  assert.deepEqual(tdx.ear_appraisal_policy_ids, ['tag:twi.dev,2026:policy/default']);
  const verification = tdx[TWI_VERIFICATION_CLAIM] as Record<string, unknown>;
  assert.equal(verification.tcb_status, 'UpToDate');
  assert.deepEqual(verification.advisory_ids, []);
  assert.ok(Array.isArray(verification.collateral) && verification.collateral.length === 2);
  assert.equal((verification.anchor as { source: string }).source, 'vendor');
  assert.equal(ear[TWI_SIMULATED_CLAIM], undefined);
  assert.deepEqual(earProblems(ear), []);
  assert.deepEqual(JSON.parse(JSON.stringify(ear)), ear, 'JSON-safe');
});

test(
  'composite: the top-level status is the worst submodule, violations are carried',
  { skip },
  () => {
    const policy = loadPolicy('id: p\nallow_debug: false\n');
    const tdx = appraise(verifiedOf(sample('tdx-v4-automata-00806f-gce-outofdate')), policy);
    const nitro = appraise(verifiedOf(sample('nitro-dstack-20251225-debug')), policy);
    const ear = buildEar({
      appraisals: { tdx, nitro },
      verifierId,
      iat,
      rawEvidence: Uint8Array.of(1, 2, 3),
    });
    assert.equal(ear.submods.tdx!.ear_status, 'warning');
    assert.equal(ear.submods.nitro!.ear_status, 'contraindicated');
    assert.equal(ear.ear_status, 'contraindicated');
    assert.deepEqual(
      ear.ear_raw_evidence,
      ['application/octet-stream', 'AQID'],
      'a CMW record (-04)',
    );
    const tdxVerification = ear.submods.tdx![TWI_VERIFICATION_CLAIM] as Record<string, unknown>;
    assert.deepEqual(tdxVerification.advisory_ids, [
      'INTEL-SA-00960',
      'INTEL-SA-00982',
      'INTEL-SA-00986',
    ]);
    const nitroPolicy = ear.submods.nitro![TWI_POLICY_CLAIM] as { violations: { code: string }[] };
    assert.deepEqual(
      nitroPolicy.violations.map((v) => v.code),
      ['ERR_DEBUG_ENABLED'],
    );
    assert.deepEqual(earProblems(ear), []);
  },
);

test('an EAR from simulated hardware says so', { skip }, () => {
  const e = verifiedOf(sample('nitro-dstack-20251225-prod'), {
    anchor: { source: 'configured', subject: 'twi simulated root', sha256: 'aa'.repeat(32) },
  });
  const ear = buildEar({ appraisals: { nitro: appraise(e, defaultPolicy()) }, verifierId, iat });
  assert.deepEqual(ear[TWI_SIMULATED_CLAIM], { submods: ['nitro'] });
  assert.deepEqual(ear.submods.nitro![TWI_SIMULATED_CLAIM], {
    anchor_sha256: 'aa'.repeat(32),
    anchor_subject: 'twi simulated root',
  });
});

test('a verification failure, and the evidence nonce of a bound appraisal', { skip }, () => {
  const failed = appraise(
    { platform: 'tdx', error: { code: 'ERR_CERT_REVOKED', message: 'PCK revoked' } },
    defaultPolicy(),
  );
  const nonce = new Uint8Array(randomBytes(16));
  const claims = { nonce: Buffer.from(nonce).toString('hex') };
  const nitro = appraise(
    verifiedOf(sample('nitro-dstack-20251225-prod'), { claims }),
    defaultPolicy(),
    { nonce },
  );
  const ear = buildEar({ appraisals: { tdx: failed, nitro }, verifierId, iat });
  assert.equal(ear.submods.tdx!.ear_status, 'contraindicated');
  const v = ear.submods.tdx![TWI_VERIFICATION_CLAIM] as Record<string, unknown>;
  assert.deepEqual(v.error, { code: 'ERR_CERT_REVOKED', message: 'PCK revoked' });
  assert.equal(v.verified, false);
  assert.equal(ear.submods.nitro!.eat_nonce, Buffer.from(nonce).toString('base64url'));
});

test('caller errors are TypeErrors', { skip }, () => {
  const a = appraise(verifiedOf(sample('nitro-dstack-20251225-prod')), defaultPolicy());
  const ok = { appraisals: { nitro: a }, verifierId, iat };
  assert.throws(() => buildEar({ ...ok, appraisals: {} }), /at least one appraisal/);
  assert.throws(() => buildEar({ ...ok, iat: 1.5 }), /iat/);
  assert.throws(() => buildEar({ ...ok, exp: iat }), /exp/);
  assert.throws(() => buildEar({ ...ok, nonce: new Uint8Array(7) }), /8 to 64 bytes/);
  assert.throws(() => buildEar({ ...ok, extensions: { submods: {} } }), /standard claim/);
  assert.throws(() => buildEar({ ...ok, extensions: { 'tag:x,2026:y': [] as never } }), /map/);
  const ext = buildEar({ ...ok, extensions: { 'tag:example.com,2026:ext': { a: 1 } } });
  assert.deepEqual(ext['tag:example.com,2026:ext'], { a: 1 });
});
