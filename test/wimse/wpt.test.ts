import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  createMemoryReplayCache,
  signCompact,
  signWpt,
  tokenHash,
  verifyWpt,
} from '../../wimse/rp.js';
import type { VerifyWptOptions } from '../../wimse/rp.js';
import { AUD, newKey, NOW, NOW_S, rawSigner, rejects, setup } from './fixtures.js';

for (const alg of ['ES256', 'ES384'] as const) {
  test(`${alg} WPTs from a KeyObject and from a raw r‖s signer verify`, async () => {
    const s = await setup(alg);
    const signer = rawSigner(s.workload);
    for (const key of [s.workload.privateKey, signer]) {
      const wpt = await signWpt({ wit: s.wit, key, alg, aud: AUD, now: NOW });
      assert.deepEqual(decodeProtectedHeader(wpt), { alg, typ: 'wpt+jwt' });
      const claims = decodeJwt(wpt);
      assert.equal(claims.wth, createHash('sha256').update(s.wit).digest('base64url'));
      assert.equal(claims.exp, NOW_S + 60);
      assert.match(String(claims.jti), /^[A-Za-z0-9_-]{22}$/);
      const replayCache = createMemoryReplayCache();
      const v = await verifyWpt(wpt, {
        wit: s.verified,
        expectedAudience: AUD,
        now: NOW,
        replayCache,
      });
      assert.equal(v.claims.aud, AUD);
    }
    assert.equal(signer.calls, 1);
  });
}

test('a raw signer returning a DER or wrong-size signature is refused', async () => {
  const s = await setup();
  const key = { sign: async () => new Uint8Array(70) };
  await assert.rejects(signWpt({ wit: s.wit, key, alg: 'ES256', aud: AUD, now: NOW }), /64-byte/);
});

test('ath, tth and oth bind the presented tokens', async () => {
  const s = await setup();
  const tokens = { accessToken: 'at-1', txnToken: 'txn-1', otherTokens: { 'x-session': ' s1 ' } };
  const wpt = await signWpt({
    wit: s.wit,
    key: s.workload.privateKey,
    alg: 'ES256',
    aud: AUD,
    now: NOW,
    ...tokens,
  });
  const claims = decodeJwt(wpt);
  assert.equal(claims.ath, tokenHash('at-1'));
  assert.deepEqual(claims.oth, { 'x-session': tokenHash('s1') });
  const replayCache = createMemoryReplayCache();
  await verifyWpt(wpt, {
    wit: s.verified,
    expectedAudience: [AUD],
    now: NOW,
    replayCache,
    ...tokens,
  });
});

test('every tampered WPT fails with its code', async () => {
  const s = await setup();
  const other = await setup();
  const key = s.workload.privateKey;
  const base = { wit: s.wit, key, alg: 'ES256' as const, aud: AUD, now: NOW };
  const o = (): VerifyWptOptions => ({
    wit: s.verified,
    expectedAudience: AUD,
    now: NOW,
    replayCache: createMemoryReplayCache(),
  });
  const claims = {
    aud: AUD,
    iat: NOW_S,
    exp: NOW_S + 60,
    jti: 'j'.repeat(22),
    wth: tokenHash(s.wit),
  };
  const cases: [string, Promise<string>, Partial<VerifyWptOptions>?][] = [
    ['ERR_WPT_INVALID', Promise.resolve('a.b')],
    ['ERR_WPT_INVALID', signCompact({ typ: 'JWT' }, claims, key, 'ES256')],
    [
      'ERR_WPT_ALG_MISMATCH',
      signCompact({ typ: 'wpt+jwt' }, claims, newKey('ES384').privateKey, 'ES384'),
    ],
    ['ERR_WPT_SIGNATURE', signWpt({ ...base, key: newKey().privateKey })],
    ['ERR_WPT_AUDIENCE', signWpt({ ...base, aud: 'https://evil.example.com/' })],
    ['ERR_WPT_EXPIRED', signWpt({ ...base, now: new Date((NOW_S - 61) * 1000) })],
    ['ERR_WPT_EXPIRED', signWpt({ ...base, lifetimeSeconds: 3600 })],
    ['ERR_WPT_WTH', signWpt({ ...base, wit: other.wit })],
    ['ERR_WPT_INVALID', signWpt({ ...base, jti: 'short' })],
    ['ERR_WPT_ATH', signWpt({ ...base, accessToken: 'at-1' }), { accessToken: 'at-2' }],
    ['ERR_WPT_ATH', signWpt(base), { accessToken: 'at-2' }],
    ['ERR_WPT_TTH', signWpt({ ...base, txnToken: 't1' })],
    ['ERR_WPT_OTH', signWpt({ ...base, otherTokens: { 'x-unknown': 'v' } })],
    ['ERR_WPT_OTH', signWpt(base), { otherTokens: { 'x-session': 's' } }],
  ];
  for (const [code, wpt, extra] of cases) {
    await assert.rejects(verifyWpt(await wpt, { ...o(), ...extra }), rejects(code), code);
  }
});

test('a jti is accepted once: the replay fails', async () => {
  const s = await setup();
  const wpt = await signWpt({
    wit: s.wit,
    key: s.workload.privateKey,
    alg: 'ES256',
    aud: AUD,
    now: NOW,
  });
  const options = {
    wit: s.verified,
    expectedAudience: AUD,
    now: NOW,
    replayCache: createMemoryReplayCache(),
  };
  await verifyWpt(wpt, options);
  await assert.rejects(verifyWpt(wpt, options), rejects('ERR_WPT_REPLAY'));
});

test('the memory replay cache is bounded, drops expired entries and fails closed when full', () => {
  const cache = createMemoryReplayCache({ maxEntries: 2 });
  assert.equal(cache.checkAndStore('a', 100, 50), true);
  assert.equal(cache.checkAndStore('a', 100, 60), false);
  assert.equal(cache.checkAndStore('b', 200, 60), true);
  assert.equal(cache.checkAndStore('c', 200, 60), false, 'full of live entries');
  assert.equal(cache.checkAndStore('c', 200, 101), true, 'a expired and was dropped');
  assert.equal(cache.size, 2);
});
