import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJwksCache, staticJwks, WimseError } from '../../wimse/rp.js';
import type { Jwks } from '../../wimse/rp.js';
import { newKey, rejects } from './fixtures.js';

test('the cache refreshes once on an unknown kid, rate-limited, and on invalidate()', async () => {
  const k1 = newKey('ES256', 'k1');
  const k2 = newKey('ES256', 'k2');
  let current: Jwks = { keys: [k1.publicJwk] };
  let fetches = 0;
  let clock = 0;
  const cache = createJwksCache({
    fetchJwks: async () => {
      fetches++;
      return current;
    },
    minRefreshMs: 1000,
    now: () => clock,
  });
  const [a, b] = await Promise.all([cache.getKey('k1', 'ES256'), cache.getKey('k1', 'ES256')]);
  assert.equal(a, b);
  assert.equal(fetches, 1, 'concurrent first lookups share one fetch');

  current = { keys: [k1.publicJwk, k2.publicJwk] };
  clock = 500;
  await assert.rejects(cache.getKey('k2', 'ES256'), rejects('ERR_WIT_UNKNOWN_KEY'));
  assert.equal(fetches, 1, 'no refresh within minRefreshMs');
  clock = 1500;
  assert.ok(await cache.getKey('k2', 'ES256'));
  assert.equal(fetches, 2, 'refreshed once for the unknown kid');
  await assert.rejects(cache.getKey('k3', 'ES256'), rejects('ERR_WIT_UNKNOWN_KEY'));
  assert.equal(fetches, 2);

  current = { keys: [k2.publicJwk] };
  cache.invalidate();
  await assert.rejects(cache.getKey('k1', 'ES256'), rejects('ERR_WIT_UNKNOWN_KEY'));
  assert.equal(fetches, 3, 'invalidate() forces the next lookup to fetch');
});

test('an unreachable JWKS with nothing cached is ERR_JWKS_UNAVAILABLE (retryable)', async () => {
  const cache = createJwksCache({ fetchJwks: () => Promise.reject(new Error('down')) });
  await assert.rejects(cache.getKey('k1', 'ES256'), (err: unknown) => {
    return err instanceof WimseError && err.code === 'ERR_JWKS_UNAVAILABLE' && err.retryable;
  });
});

test('keys of another use, without kid, symmetric, or with duplicate kids are ignored', async () => {
  const k = newKey('ES256', 'dup');
  const jwks = staticJwks({
    keys: [
      { ...newKey().publicJwk, kid: 'x509', use: 'x509-svid' },
      { ...newKey().publicJwk, kid: undefined },
      { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
      k.publicJwk,
      { ...newKey().publicJwk, kid: 'dup' },
      { ...newKey().publicJwk, kid: 'ok', use: 'sig', d: 'ignored-private-member' },
    ],
  });
  for (const kid of ['x509', 'hmac', 'dup']) {
    await assert.rejects(jwks.getKey(kid, 'ES256'), rejects('ERR_WIT_UNKNOWN_KEY'), kid);
  }
  assert.equal((await jwks.getKey('ok', 'ES256')).type, 'public');
});
