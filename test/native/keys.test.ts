/** Native keys: signatures verify with node:crypto; dispose; argument checks; sealing input checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { inspect } from 'node:util';
import { KeyDisposedError } from '../../native/errors.js';
import { generateKey, keyStoreInfo, sealKey, unsealKey } from '../../native/keys.js';
import type { NativeKey } from '../../native/keys.js';

const HASH = { 'P-256': 'sha256', 'P-384': 'sha384' } as const;

for (const curve of ['P-256', 'P-384'] as const) {
  test(`${curve}: raw r‖s signatures verify with node:crypto from the JWK and the SPKI`, async () => {
    const key = generateKey(curve);
    const { jwk, spki } = key.publicKey();
    assert.deepEqual(Object.keys(jwk).sort(), ['crv', 'kty', 'x', 'y']);
    assert.equal(key.alg, curve === 'P-256' ? 'ES256' : 'ES384');
    const fromJwk = createPublicKey({ key: jwk, format: 'jwk' });
    const fromSpki = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    assert.deepEqual(fromJwk.export({ format: 'jwk' }), fromSpki.export({ format: 'jwk' }));
    const msg = new TextEncoder().encode(`signed by ${curve}`);
    for (const sig of [await key.sign(msg), key.signSync(msg)]) {
      assert.equal(sig.length, curve === 'P-256' ? 64 : 96);
      for (const k of [fromJwk, fromSpki]) {
        assert.ok(verify(HASH[curve], msg, { key: k, dsaEncoding: 'ieee-p1363' }, sig));
      }
      assert.ok(
        !verify(HASH[curve], new Uint8Array([1]), { key: fromJwk, dsaEncoding: 'ieee-p1363' }, sig),
      );
    }
    assert.deepEqual(
      await key.sign(new Uint8Array(0)).then((s) => s.length),
      curve === 'P-256' ? 64 : 96,
    );
    key.dispose();
  });
}

test('two keys differ; concurrent signs on the pool all verify', async () => {
  const a = generateKey();
  const b = generateKey();
  assert.notDeepEqual(a.publicKey().jwk, b.publicKey().jwk);
  const pub = createPublicKey({ key: a.publicKey().jwk, format: 'jwk' });
  const msgs = Array.from({ length: 32 }, (_, i) => new Uint8Array([i]));
  const sigs = await Promise.all(msgs.map((m) => a.sign(m)));
  sigs.forEach((s, i) =>
    assert.ok(verify('sha256', msgs[i]!, { key: pub, dsaEncoding: 'ieee-p1363' }, s)),
  );
  a.dispose();
  b.dispose();
});

test('a disposed key refuses to sign with ERR_KEY_DISPOSED', async () => {
  const key = generateKey('P-384');
  const live = keyStoreInfo().liveKeys;
  const pending = key.sign(new Uint8Array([1])); // queued before dispose: completes
  key.dispose();
  key.dispose();
  assert.equal((await pending).length, 96);
  assert.equal(key.disposed, true);
  await assert.rejects(
    key.sign(new Uint8Array([1])),
    (e: unknown) => e instanceof KeyDisposedError && e.code === 'ERR_KEY_DISPOSED',
  );
  assert.throws(() => key.signSync(new Uint8Array([1])), { code: 'ERR_KEY_DISPOSED' });
  assert.throws(() => key.publicKey(), { code: 'ERR_KEY_DISPOSED' });
  assert.ok(keyStoreInfo().liveKeys <= live);
});

test('misuse is a TypeError before the addon runs', async () => {
  assert.throws(() => generateKey('P-521' as 'P-256'), TypeError);
  const key = generateKey();
  await assert.rejects(key.sign('text' as unknown as Uint8Array), TypeError);
  assert.throws(() => key.signSync([1, 2] as unknown as Uint8Array), TypeError);
  await assert.rejects(sealKey({} as NativeKey), TypeError);
  await assert.rejects(sealKey(key, { guestFieldSelect: 0b1 }), /MEASUREMENT/);
  await assert.rejects(sealKey(key, { vmpl: 4 }), TypeError);
  await assert.rejects(unsealKey(new Uint8Array(0)), TypeError);
  key.dispose();
});

test('the handle shows nothing in JSON or inspect; sealing without /dev/sev-guest is unavailable', async () => {
  const key = generateKey();
  assert.equal(JSON.stringify(key), '{"curve":"P-256","disposed":false}');
  assert.doesNotMatch(inspect(key, { showHidden: true }), /[0-9a-f]{32}/);
  await assert.rejects(unsealKey(new Uint8Array(80)), { code: 'ERR_KEY_SEAL' });
  await assert.rejects(sealKey(key), { code: 'ERR_DEVICE_UNAVAILABLE' });
  key.dispose();
});
