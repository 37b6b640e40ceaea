/**
 * The one canonical-JSON rule (RFC 8785, JCS) used for provenance leaves and bundle hashes:
 * the RFC's own examples, and the values it has no form for.
 *
 * @module
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { canonicalBytes, canonicalJson } from '../../common/canonical-json.js';

describe('canonical JSON (RFC 8785)', { timeout: 60_000 }, () => {
  test('RFC 8785 §3.2.4 example: numbers, escapes, member order', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    assert.equal(canonicalJson(JSON.parse(input)), expected);
  });

  test('RFC 8785 §3.2.3 example: keys sorted by UTF-16 code units', () => {
    const input = JSON.parse(
      String.raw`{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`,
    ) as Record<string, string>;
    // Compared as text: JSON.parse would put the integer-like key "1" first again.
    const order: [string, string][] = [
      ['\r', 'Carriage Return'],
      ['1', 'One'],
      ['\u0080', 'Control'],
      ['\u00f6', 'Latin Small Letter O With Diaeresis'],
      ['\u20ac', 'Euro Sign'],
      ['\ud83d\ude00', 'Emoji: Grinning Face'],
      ['\ufb33', 'Hebrew Letter Dalet With Dagesh'],
    ];
    const expected = `{${order.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
    assert.equal(canonicalJson(input), expected);
  });

  test('a provenance-style record: the leaf bytes and their digest, checked by hand', () => {
    const record = { type: 'twi-issuance/v1', jti: 'iss-1', n: 2, ok: true, x: undefined };
    const text = '{"jti":"iss-1","n":2,"ok":true,"type":"twi-issuance/v1"}';
    assert.equal(canonicalJson(record), text);
    const digest = createHash('sha256').update(canonicalBytes(record)).digest('hex');
    assert.equal(digest, createHash('sha256').update(text, 'utf8').digest('hex'));
  });

  test('values JSON cannot hold are a TypeError, at any depth', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [
      undefined,
      () => 1,
      10n,
      Number.NaN,
      Infinity,
      '\ud800',
      { a: [1, undefined] },
      { f: () => 1 },
      { s: Symbol('s') },
      cyclic,
    ]) {
      assert.throws(() => canonicalJson(bad), TypeError, String(typeof bad));
    }
  });
});
