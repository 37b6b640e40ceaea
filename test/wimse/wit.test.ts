import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import {
  issueWit,
  signCompact,
  staticJwks,
  verifyWit,
  WIT_EAR_DIGEST_CLAIM,
} from '../../wimse/rp.js';
import type { VerifyWitOptions } from '../../wimse/rp.js';
import { newKey, NOW, NOW_S, rejects, setup, SUB } from './fixtures.js';

const earDigest = createHash('sha256').update('eyJ.ear.jwt').digest('base64url');

test('issue → verify round trip, also with plain jose.jwtVerify', async () => {
  const s = await setup();
  const options: VerifyWitOptions = { jwks: staticJwks({ keys: [s.issuer.publicJwk] }), now: NOW };
  const { wit, jti, exp } = await issueWit({
    sub: SUB,
    cnfJwk: s.verified.claims.cnf.jwk,
    key: s.issuer,
    iss: 'https://verifier.example.com',
    lifetimeSeconds: 7200,
    now: NOW,
    earDigest,
    extra: { 'tag:example.com,2026:team': 'payments' },
  });
  assert.match(jti, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(exp, NOW_S + 7200);
  assert.deepEqual(decodeProtectedHeader(wit), { alg: 'ES256', kid: 'issuer-1', typ: 'wit+jwt' });

  const v = await verifyWit(wit, options);
  assert.equal(v.claims.sub, SUB);
  assert.equal(v.trustDomain, 'example.com');
  assert.equal(v.claims[WIT_EAR_DIGEST_CLAIM], earDigest);
  assert.equal(v.claims.iat, NOW_S);
  assert.equal('aud' in v.claims, false);
  assert.equal(v.cnfKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');

  const key = await importJWK(s.issuer.publicJwk, 'ES256');
  const { payload } = await jwtVerify(wit, key, { typ: 'wit+jwt', currentDate: NOW });
  assert.equal(payload.jti, jti);
  assert.deepEqual(payload.cnf, { jwk: s.verified.claims.cnf.jwk });
});

test('issueWit refuses misuse', async () => {
  const s = await setup();
  const base = {
    sub: SUB,
    cnfJwk: s.verified.claims.cnf.jwk,
    key: s.issuer,
    lifetimeSeconds: 60,
    now: NOW,
  };
  await assert.rejects(issueWit({ ...base, sub: 'wimse://example.com:1/x' }), TypeError);
  await assert.rejects(
    issueWit({ ...base, cnfJwk: { ...base.cnfJwk, alg: undefined } }),
    TypeError,
  );
  await assert.rejects(
    issueWit({ ...base, cnfJwk: { ...base.cnfJwk, alg: 'ES384' } }),
    /not a ES384 key/,
  );
  await assert.rejects(issueWit({ ...base, extra: { aud: 'x' } }), /aud/);
  await assert.rejects(issueWit({ ...base, earDigest: 'abc' }), /earDigest/);
  await assert.rejects(issueWit({ ...base, lifetimeSeconds: 0 }), RangeError);
  await assert.rejects(issueWit({ ...base, key: { ...s.issuer, alg: 'ES384' } }), /key is not/);
});

/** A WIT with arbitrary header and claims, signed by `signer` (the issuer unless given). */
async function forge(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  alg: 'ES256' | 'ES384' = 'ES256',
  signer = newKey(alg),
) {
  return signCompact(header, claims, signer.privateKey, alg);
}

test('each WIT failure has its code', async () => {
  const s = await setup();
  const jwks = staticJwks({ keys: [s.issuer.publicJwk] });
  const o: VerifyWitOptions = { jwks, now: NOW };
  const cnf = s.verified.claims.cnf;
  const claims = { sub: SUB, cnf, iat: NOW_S, exp: NOW_S + 600, jti: 'j1' };
  const header = { kid: 'issuer-1', typ: 'wit+jwt' };
  const sign = (h: object, c: object) => forge(h as never, c as never, 'ES256', s.issuer);

  await assert.rejects(verifyWit('not.a.jwt!', o), rejects('ERR_WIT_INVALID'));
  await assert.rejects(
    verifyWit(await sign({ ...header, typ: 'JWT' }, claims), o),
    rejects('ERR_WIT_INVALID'),
  );
  await assert.rejects(
    verifyWit(await sign({ typ: 'wit+jwt' }, claims), o),
    rejects('ERR_WIT_INVALID'),
  );
  await assert.rejects(
    verifyWit(await sign(header, { ...claims, aud: 'x' }), o),
    rejects('ERR_WIT_INVALID'),
  );
  await assert.rejects(
    verifyWit(await sign(header, { ...claims, exp: undefined }), o),
    rejects('ERR_WIT_INVALID'),
  );
  await assert.rejects(
    verifyWit(await sign(header, { ...claims, sub: 'https://x/y' }), o),
    rejects('ERR_WIT_INVALID'),
  );
  const noAlg = { jwk: { ...cnf.jwk, alg: undefined } };
  await assert.rejects(
    verifyWit(await sign(header, { ...claims, cnf: noAlg }), o),
    rejects('ERR_WIT_INVALID'),
  );
  const none = `${Buffer.from('{"alg":"none","typ":"wit+jwt","kid":"issuer-1"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.AA`;
  await assert.rejects(verifyWit(none, o), rejects('ERR_WIT_INVALID'));

  const good = await sign(header, claims);
  assert.equal((await verifyWit(good, o)).claims.jti, 'j1');
  await assert.rejects(verifyWit(await forge(header, claims), o), rejects('ERR_WIT_SIGNATURE'));
  await assert.rejects(
    verifyWit(await sign({ ...header, kid: 'other' }, claims), o),
    rejects('ERR_WIT_UNKNOWN_KEY'),
  );
  await assert.rejects(
    verifyWit(good, { ...o, now: new Date((NOW_S + 601) * 1000) }),
    rejects('ERR_WIT_EXPIRED'),
  );
  await verifyWit(good, { ...o, now: new Date((NOW_S + 601) * 1000), clockToleranceSeconds: 5 });
  await assert.rejects(
    verifyWit(good, { ...o, now: new Date((NOW_S - 60) * 1000) }),
    rejects('ERR_WIT_EXPIRED'),
  );
  const isRevoked = (jti: string | undefined, kid: string) => jti === 'j1' && kid === 'issuer-1';
  await assert.rejects(verifyWit(good, { ...o, isRevoked }), rejects('ERR_WIT_REVOKED'));
  await assert.rejects(
    verifyWit(good, { ...o, trustDomains: ['example.org'] }),
    rejects('ERR_WIT_TRUST_DOMAIN'),
  );
  await verifyWit(good, { ...o, trustDomains: ['example.com'] });
});

test('a JWKS key whose alg differs from the header alg is not used', async () => {
  const s = await setup();
  const jwks = staticJwks({ keys: [{ ...s.issuer.publicJwk, alg: 'ES384' }] });
  await assert.rejects(verifyWit(s.wit, { jwks, now: NOW }), rejects('ERR_WIT_UNKNOWN_KEY'));
});
