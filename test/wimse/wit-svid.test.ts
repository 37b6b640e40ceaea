/**
 * The WIT-SVID profile in the WIT library (SPIFFE WIT-SVID §2.3, §3.2, §3.7; go-spiffe
 * `exp/svid/witsvid`): a `spiffe://` subject limits `cnf.jwk.alg` to the profile's list, so
 * `issueWit` refuses an Ed25519 key for it and `verifyWit` refuses a properly signed WIT-SVID
 * that carries one, while a `wimse://` WIT keeps EdDSA; `iss` is written when given and checked
 * (ERR_WIT_ISSUER) only when the relying party names the issuer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newKeyPair } from '../../common/key-pair.js';
import {
  cnfAlgAllowedFor,
  issueWit,
  signCompact,
  staticJwks,
  verifyWit,
  WIT_SVID_ALGS,
} from '../../wimse/rp.js';
import { newKey, NOW, NOW_S, rejects } from './fixtures.js';

const SPIFFE_SUB = 'spiffe://example.org/payments';
const WIMSE_SUB = 'wimse://example.org/payments';
const ISS = 'https://verifier.example';

function edCnf(): Record<string, unknown> {
  const jwk = newKeyPair('ed25519').publicKey.export({ format: 'jwk' });
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, alg: 'EdDSA' };
}

test('the WIT-SVID algorithm list is the profile table, without EdDSA', () => {
  assert.deepEqual([...WIT_SVID_ALGS].sort(), [
    'ES256',
    'ES384',
    'ES512',
    'PS256',
    'PS384',
    'PS512',
    'RS256',
    'RS384',
    'RS512',
  ]);
  assert.equal(cnfAlgAllowedFor(SPIFFE_SUB, 'EdDSA'), false);
  assert.equal(cnfAlgAllowedFor(SPIFFE_SUB, 'ES256'), true);
  assert.equal(cnfAlgAllowedFor(WIMSE_SUB, 'EdDSA'), true);
});

test('issueWit refuses an EdDSA cnf.jwk for a spiffe:// subject and keeps it for wimse://', async () => {
  const key = newKey('ES256', 'issuer-1');
  const base = { key, lifetimeSeconds: 600, now: NOW };
  await assert.rejects(issueWit({ ...base, sub: SPIFFE_SUB, cnfJwk: edCnf() }), /WIT-SVID/);
  const { wit } = await issueWit({ ...base, sub: WIMSE_SUB, cnfJwk: edCnf() });
  const jwks = staticJwks({ keys: [key.publicJwk] });
  const v = await verifyWit(wit, { jwks, now: NOW });
  assert.equal(v.claims.cnf.jwk.alg, 'EdDSA');
});

test('verifyWit refuses a signed WIT-SVID whose cnf.jwk.alg is EdDSA', async () => {
  const key = newKey('ES256', 'issuer-1');
  const claims = { sub: SPIFFE_SUB, cnf: { jwk: edCnf() }, iat: NOW_S, exp: NOW_S + 600 };
  const header = { kid: key.kid, typ: 'wit+jwt' };
  const forged = await signCompact(header, claims, key.privateKey, 'ES256');
  const jwks = staticJwks({ keys: [key.publicJwk] });
  await assert.rejects(verifyWit(forged, { jwks, now: NOW }), (err: unknown) => {
    return rejects('ERR_WIT_INVALID')(err) && /cnf\.jwk\.alg EdDSA/.test((err as Error).message);
  });
  // The same claims under a wimse:// subject verify: the refusal is the profile's.
  const wimse = await signCompact(header, { ...claims, sub: WIMSE_SUB }, key.privateKey, 'ES256');
  assert.equal((await verifyWit(wimse, { jwks, now: NOW })).claims.sub, WIMSE_SUB);
});

test('iss is written when given; the RP checks it only when it names the issuer', async () => {
  const key = newKey('ES256', 'issuer-1');
  const workload = newKey('ES256', 'w');
  const cnfJwk = {
    kty: 'EC',
    crv: 'P-256',
    x: workload.publicJwk.x,
    y: workload.publicJwk.y,
    alg: 'ES256',
  };
  const base = { sub: SPIFFE_SUB, cnfJwk, key, lifetimeSeconds: 600, now: NOW };
  const jwks = staticJwks({ keys: [key.publicJwk] });
  const withIss = (await issueWit({ ...base, iss: ISS })).wit;
  const without = (await issueWit(base)).wit;
  assert.equal((await verifyWit(withIss, { jwks, now: NOW, issuer: ISS })).claims.iss, ISS);
  assert.equal((await verifyWit(without, { jwks, now: NOW })).claims.iss, undefined);
  await assert.rejects(
    verifyWit(without, { jwks, now: NOW, issuer: ISS }),
    rejects('ERR_WIT_ISSUER'),
  );
  await assert.rejects(
    verifyWit(withIss, { jwks, now: NOW, issuer: 'https://evil.example' }),
    rejects('ERR_WIT_ISSUER'),
  );
  await assert.rejects(issueWit({ ...base, iss: '' }), TypeError);
});
