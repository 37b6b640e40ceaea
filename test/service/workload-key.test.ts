/**
 * Workload key hygiene (issue 12, item 6): any public JWK the standard exporters produce
 * attests, `alg` is inferred when absent and must fit when present, private JWKs are refused
 * with ERR_KEY_INVALID, and `cnf.jwk` carries only the public members and `alg`; an Ed25519
 * key is refused for a SPIFFE ID with ERR_KEY_NOT_ALLOWED.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { newKeyPair } from '../../common/key-pair.js';
import { checkWorkloadKey } from '../../service/workload-key.js';
import { ProblemError } from '../../service/problem.js';
import { jwkThumbprint } from '../../wire/binding.js';
import {
  challenge,
  cmwWith,
  openSite,
  sendAttest,
  startOn,
  type Answer,
  type Running,
  type Site,
} from './identity-fixtures.js';

/** Attests TDX evidence bound to `jwk` (sent as is) and decodes the answer. */
async function attestKey(run: Running, site: Site, jwk: unknown): Promise<Answer> {
  const nonce = await challenge(run.base);
  const bound = jwk as JsonWebKey;
  const evidence = cmwWith(site.pki, 'tdx', nonce, bound, new Uint8Array(0));
  return sendAttest(run.base, { nonce, evidence, key: jwk });
}

function keyInvalid(a: Answer): void {
  assert.equal(a.status, 400, JSON.stringify(a.body));
  assert.equal(a.body.code, 'ERR_KEY_INVALID');
}

const exported = (k: KeyObject): JsonWebKey => k.export({ format: 'jwk' });

describe('workload key over HTTP', { timeout: 120_000 }, () => {
  let site: Site;
  let run: Running;
  before(async () => {
    site = await openSite('twi-workload-key');
    run = await startOn(site);
  });
  after(async () => {
    await run.close();
    site.remove();
  });

  test('a plain WebCrypto-exported P-256 JWK (no alg, key_ops, ext) attests', async () => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const jwk = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as Record<string, unknown>;
    assert.equal(jwk.alg, undefined);
    assert.ok('key_ops' in jwk && 'ext' in jwk);
    const a = await attestKey(run, site, jwk);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const cnf = (a.wit!.cnf as { jwk: Record<string, unknown> }).jwk;
    assert.deepEqual(cnf, { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, alg: 'ES256' });
  });

  test('extra JWK members never reach the WIT', async () => {
    const pub = exported(newKeyPair('ec', { namedCurve: 'P-384' }).publicKey);
    const jwk = {
      ...pub,
      kid: 'attacker-kid',
      x5u: 'https://evil.example/x5u',
      jku: 'https://evil.example/jwks',
      x5c: ['AAAA'],
      use: 'sig',
      key_ops: ['verify', 'sign'],
      roles: ['admin'],
      ext: true,
    };
    const a = await attestKey(run, site, jwk);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const cnf = (a.wit!.cnf as { jwk: Record<string, unknown> }).jwk;
    assert.deepEqual(Object.keys(cnf).sort(), ['alg', 'crv', 'kty', 'x', 'y']);
    assert.equal(cnf.alg, 'ES384');
    const raw = JSON.stringify(a.wit);
    for (const leak of ['attacker-kid', 'evil.example', 'admin', 'key_ops', 'AAAA']) {
      assert.equal(raw.includes(leak), false, `${leak} reached the WIT`);
    }
  });

  test('an Ed25519 JWK is refused for a SPIFFE ID (WIT-SVID §3.2) with ERR_KEY_NOT_ALLOWED', async () => {
    // Ed25519 for a wimse:// identifier is in test/service/spiffe-conformance.test.ts.
    const pub = exported(newKeyPair('ed25519').publicKey);
    const a = await attestKey(run, site, pub);
    assert.equal(a.status, 400, JSON.stringify(a.body));
    assert.equal(a.body.code, 'ERR_KEY_NOT_ALLOWED');
  });

  test('a private JWK is refused with ERR_KEY_INVALID, and its nonce is not spent', async () => {
    const { privateKey } = newKeyPair('ec', { namedCurve: 'P-256' });
    const priv = exported(privateKey);
    assert.equal(typeof priv.d, 'string');
    const nonce = await challenge(run.base);
    const evidence = cmwWith(site.pki, 'tdx', nonce, priv, new Uint8Array(0));
    keyInvalid(await sendAttest(run.base, { nonce, evidence, key: priv }));
    const pub = { ...priv };
    delete pub.d;
    const ok = await sendAttest(run.base, { nonce, evidence, key: pub });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  test('key shape problems answer ERR_KEY_INVALID, not ERR_REQUEST_INVALID', async () => {
    const pub = exported(newKeyPair('ec', { namedCurve: 'P-256' }).publicKey);
    for (const key of [
      'not a jwk',
      [pub],
      {},
      { ...pub, alg: 'ES384' },
      { ...pub, use: 'enc' },
      { ...pub, k: 'c2VjcmV0' },
      { ...pub, x: 42 },
      { kty: 'oct', k: 'c2VjcmV0' },
      { ...pub, crv: 'secp256k1' },
      exported(newKeyPair('rsa', { modulusLength: 2048 }).publicKey),
    ]) {
      const nonce = await challenge(run.base);
      const evidence = cmwWith(site.pki, 'tdx', nonce, pub, new Uint8Array(0));
      const a = await sendAttest(run.base, { nonce, evidence, key });
      keyInvalid(a);
    }
  });
});

describe('checkWorkloadKey', { timeout: 30_000 }, () => {
  test('infers alg from kty/crv and rebuilds the JWK from the public members', () => {
    for (const [curve, alg] of [
      ['P-256', 'ES256'],
      ['P-384', 'ES384'],
      ['P-521', 'ES512'],
    ] as const) {
      const pub = exported(newKeyPair('ec', { namedCurve: curve }).publicKey);
      const checked = checkWorkloadKey({ ...pub, kid: 'k', use: 'sig' });
      assert.equal(checked.alg, alg);
      assert.deepEqual(checked.jwk, { ...pub, alg });
      // The binding thumbprint is over the required members only: unchanged by extras.
      assert.deepEqual(jwkThumbprint(checked.jwk as JsonWebKey), jwkThumbprint(pub));
    }
  });

  test('refusals are ProblemErrors with ERR_KEY_INVALID and status 400', () => {
    const pub = exported(newKeyPair('ec', { namedCurve: 'P-256' }).publicKey);
    const x = Buffer.from(pub.x!, 'base64url');
    x[x.length - 1]! ^= 1;
    for (const bad of [null, 7, { ...pub, d: 'AA' }, { ...pub, x: x.toString('base64url') }]) {
      assert.throws(
        () => checkWorkloadKey(bad),
        (err: unknown) =>
          err instanceof ProblemError && err.status === 400 && err.code === 'ERR_KEY_INVALID',
      );
    }
  });
});
