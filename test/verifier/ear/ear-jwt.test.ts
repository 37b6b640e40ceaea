/**
 * Signed EARs: ES256 and ES384 JWTs with `typ: eat+jwt`, verified by plain jose and by
 * verifyEar; tampering, expiry, wrong keys and malformed claims-sets are rejected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { CompactSign, decodeProtectedHeader, importJWK, jwtVerify, SignJWT } from 'jose';
import { uniformVector } from '../../../verifier/policy/ar4si.js';
import type { Appraisal } from '../../../verifier/appraise/types.js';
import { buildEar } from '../../../verifier/ear/claims.js';
import { EarError } from '../../../verifier/ear/errors.js';
import { generateEarKey, signEar, verifyEar } from '../../../verifier/ear/jwt.js';
import type { EarAlg } from '../../../verifier/ear/jwt.js';
import type { EarClaims } from '../../../verifier/ear/claims.js';
import { newKeyPair } from '../../../common/key-pair.js';

const iat = 1_767_225_600;
const now = new Date((iat + 60) * 1000);

const appraisal: Appraisal = {
  platform: 'tdx',
  status: 'affirming',
  trustVector: { 'instance-identity': 2, hardware: 2, configuration: 2, 'runtime-opaque': 2 },
  violations: [],
  policyId: 'p1',
  notes: [],
  verification: { verified: true, advisoryIds: [], collateral: [] },
};

function claims(): EarClaims {
  return buildEar({
    appraisals: { tdx: appraisal },
    verifierId: { developer: 'https://twi.dev', build: 'test' },
    nonce: new Uint8Array(16).fill(7),
    iat,
    exp: iat + 300,
  });
}

async function expectEarError(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof EarError && err.code === code);
}

for (const alg of ['ES256', 'ES384'] as EarAlg[]) {
  test(`${alg}: sign, then verify with plain jose against the exported public JWK`, async () => {
    const key = generateEarKey(alg);
    assert.equal(key.publicJwk.crv, alg === 'ES256' ? 'P-256' : 'P-384');
    assert.equal(key.publicJwk.d, undefined, 'no private part');
    const jwt = await signEar(claims(), { key: key.privateKey, alg, kid: key.kid });
    assert.deepEqual(decodeProtectedHeader(jwt), { alg, typ: 'eat+jwt', kid: key.kid });
    const publicKey = await importJWK(JSON.parse(JSON.stringify(key.publicJwk)), alg);
    const { payload } = await jwtVerify(jwt, publicKey, {
      currentDate: now,
      typ: 'application/eat+jwt',
    });
    assert.deepEqual(payload, claims());
    assert.deepEqual(await verifyEar(jwt, key.publicJwk, { now }), claims());
    assert.deepEqual(await verifyEar(jwt, { keys: [key.publicJwk] }, { now }), claims());
    assert.deepEqual(await verifyEar(jwt, key.publicKey, { now }), claims());
  });
}

test('a tampered EAR fails its signature', async () => {
  const key = generateEarKey('ES256');
  const jwt = await signEar(claims(), { key: key.privateKey, alg: 'ES256' });
  const [h, p, s] = jwt.split('.');
  const forged = JSON.parse(Buffer.from(p!, 'base64url').toString());
  forged.submods.tdx.ear_status = 'affirming';
  forged.ear_verifier_id.build = 'evil';
  const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`;
  await expectEarError(verifyEar(tampered, key.publicJwk, { now }), 'ERR_EAR_SIGNATURE_INVALID');
  await assert.rejects(jwtVerify(tampered, key.publicKey, { currentDate: now }));
  const otherKey = generateEarKey('ES256');
  await expectEarError(verifyEar(jwt, otherKey.publicJwk, { now }), 'ERR_EAR_SIGNATURE_INVALID');
});

test('expiry, unknown kid, wrong typ and non-EAR payloads are rejected', async () => {
  const key = generateEarKey('ES384');
  const jwt = await signEar(claims(), { key: key.privateKey, alg: 'ES384', kid: key.kid });
  const later = new Date((iat + 301) * 1000);
  await expectEarError(verifyEar(jwt, key.publicJwk, { now: later }), 'ERR_EAR_EXPIRED');
  const other = generateEarKey('ES384');
  await expectEarError(
    verifyEar(jwt, { keys: [other.publicJwk] }, { now }),
    'ERR_EAR_KEY_NOT_FOUND',
  );
  const plainJwt = await new SignJWT(claims() as never)
    .setProtectedHeader({ alg: 'ES384', typ: 'JWT' })
    .sign(key.privateKey);
  await expectEarError(verifyEar(plainJwt, key.publicJwk, { now }), 'ERR_EAR_INVALID');
  const lying = { ...claims(), ear_status: 'affirming' };
  lying.submods = {
    tdx: { ear_status: 'affirming', ear_trustworthiness_vector: uniformVector(99) },
  };
  const lyingJwt = await new SignJWT(lying as never)
    .setProtectedHeader({ alg: 'ES384', typ: 'eat+jwt' })
    .sign(key.privateKey);
  await expectEarError(verifyEar(lyingJwt, key.publicJwk, { now }), 'ERR_EAR_INVALID');
  const raw = await new CompactSign(new TextEncoder().encode('not json'))
    .setProtectedHeader({ alg: 'ES384', typ: 'eat+jwt' })
    .sign(key.privateKey);
  await expectEarError(verifyEar(raw, key.publicJwk, { now }), 'ERR_EAR_INVALID');
});

test('signing refuses keys on the wrong curve and malformed claims-sets', async () => {
  const p384 = generateEarKey('ES384');
  await assert.rejects(signEar(claims(), { key: p384.privateKey, alg: 'ES256' }), /P-256/);
  const rsa = newKeyPair('rsa', { modulusLength: 2048 }).privateKey;
  await assert.rejects(signEar(claims(), { key: rsa, alg: 'ES256' }), TypeError);
  const bad = { ...claims(), submods: {} };
  await assert.rejects(signEar(bad, { key: p384.privateKey, alg: 'ES384' }), /submods/);
  await assert.rejects(verifyEar('x', p384.publicJwk, {} as never), /options\.now/);
});

test('WebCrypto keys sign too', async () => {
  const pair = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const jwt = await signEar(claims(), { key: pair.privateKey, alg: 'ES256' });
  assert.equal((await verifyEar(jwt, pair.publicKey, { now })).iat, iat);
});
