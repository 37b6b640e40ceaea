/**
 * The simulators' HMAC_DRBG (now @noble/curves' createHmacDrbg) gives the same bytes as the
 * hand-written SP 800-90A implementation it replaced: values pinned from that implementation,
 * so every seeded simulator key, serial and salt stays the same.
 *
 * @module
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveBytes, drbgBytes, drbgUntil } from '../../simulators/pki/drbg.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('simulator HMAC_DRBG', { timeout: 60_000 }, () => {
  test('SHA-256, 40 bytes (two blocks, the second cut)', () => {
    assert.equal(
      hex(deriveBytes('twi-seed', 'label/a', 40)),
      '6f9fb159cdfd4bcaea60ef26cb7a280356d2241d902dceeaa0c6ab04113e5d38d119a02e3b766c9b',
    );
  });

  test('SHA-384, 48 bytes', () => {
    assert.equal(
      hex(drbgBytes('sha384', 'twi-seed', 'pss', 48)),
      'a04fad307e20a906fea979596ef712587a1b9bf0323d53938850cafbb82771c6bc3ff3f6ee8d00fbf290fdb5fded2038',
    );
  });

  test('SHA-512: successive outputs follow one stream (reseed without input between)', () => {
    const outs: string[] = [];
    drbgUntil('sha512', 'twi-seed', 'rsa-test', 70, (b) =>
      outs.push(hex(b)) === 2 ? outs : undefined,
    );
    assert.deepEqual(outs, [
      '565712d11d0998594b078b3cbc08c9b1d502434a2baf06b723a54e0c91a795219b87623fffe7bcef80493872fe6dc9075397589523e0d38419ab7570469d1c493e2c6d9b9c81',
      '105638ae3211e14aef4f6ffa1ff0b9f58b7bee8e95f3a967f27d7aa22f452e4b38d311546edf7e13bb04ec5e9c0f0fc9e23a040acc93da13996518e71c39f74871f135106077',
    ]);
  });

  test('the seed is length-prefixed: ("ab", "c") and ("a", "bc") differ', () => {
    assert.notEqual(hex(deriveBytes('ab', 'c', 32)), hex(deriveBytes('a', 'bc', 32)));
  });
});
