/**
 * `jwkThumbprint` (the one RFC 7638 implementation) against the RFC's own vector and against
 * jose's `calculateJwkThumbprint` for each key type it supports.
 */
import assert from 'node:assert/strict';
import type { JsonWebKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { calculateJwkThumbprint } from 'jose';
import type { JWK } from 'jose';
import { keyId } from '../../endorsements/bundle-signature.js';
import { jwkThumbprint } from '../../wire/binding.js';
import { newKeyPair } from '../../common/key-pair.js';

/** RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint. */
const RFC7638_KEY: JsonWebKey = {
  kty: 'RSA',
  n:
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP' +
    'ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY' +
    '368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f' +
    'M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};
const RFC7638_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

describe('jwkThumbprint', { timeout: 30_000 }, () => {
  it('gives the RFC 7638 §3.1 thumbprint (extra members ignored)', () => {
    assert.equal(b64u(jwkThumbprint(RFC7638_KEY)), RFC7638_THUMBPRINT);
  });

  it('agrees with jose for EC P-256/P-384, Ed25519 and RSA keys, and keyId uses it', async () => {
    const pairs = [
      newKeyPair('ec', { namedCurve: 'P-256' }),
      newKeyPair('ec', { namedCurve: 'P-384' }),
      newKeyPair('ed25519'),
      newKeyPair('rsa', { modulusLength: 2048 }),
    ];
    for (const { publicKey, privateKey } of pairs) {
      const jwk = publicKey.export({ format: 'jwk' });
      const ours = b64u(jwkThumbprint(jwk));
      assert.equal(ours, await calculateJwkThumbprint(jwk as JWK, 'sha256'));
      assert.equal(await keyId(privateKey), ours);
    }
  });

  it('refuses an unsupported key type and a missing member', () => {
    assert.throws(() => jwkThumbprint({ kty: 'oct', k: 'AAAA' }), TypeError);
    assert.throws(() => jwkThumbprint({ kty: 'EC', crv: 'P-256', x: 'AAAA' }), TypeError);
  });
});
