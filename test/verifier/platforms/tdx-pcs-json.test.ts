/**
 * The raw JSON member slicer behind the exact-bytes signature check: spans of top-level
 * members through whitespace, strings with brackets and escapes, escaped keys; refusal of
 * repeated keys, non-objects and invalid UTF-8; and a property test against JSON.parse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeUtf8Strict,
  JsonSliceError,
  jsonMemberSpans,
  sliceJsonMember,
} from '../../../verifier/platforms/tdx/collateral/pcs-json.js';

test('slices exact value text through whitespace, strings and nesting', () => {
  const text = ' {\n "tcbInfo" : {"a":"}]\\"{[","b":[1,{"c":null}]} ,\t"signature":"ab" }\r\n';
  assert.equal(sliceJsonMember(text, 'tcbInfo'), '{"a":"}]\\"{[","b":[1,{"c":null}]}');
  assert.equal(sliceJsonMember(text, 'signature'), '"ab"');
  assert.equal(sliceJsonMember(text, 'missing'), undefined);
  assert.equal(sliceJsonMember('{"n":-1.5e3,"t":true}', 'n'), '-1.5e3');
  assert.equal(sliceJsonMember('{"tcb\\u0049nfo":{}}', 'tcbInfo'), '{}');
  assert.deepEqual([...jsonMemberSpans('{}').keys()], []);
});

test('refuses repeated keys, non-objects, invalid JSON and invalid UTF-8', () => {
  assert.throws(() => jsonMemberSpans('{"a":1,"a":2}'), JsonSliceError);
  assert.throws(() => jsonMemberSpans('{"a":1,"\\u0061":2}'), /appears twice/);
  assert.throws(() => jsonMemberSpans('[1]'), /not a JSON object/);
  assert.throws(() => jsonMemberSpans('{"a":1} x'), /not valid JSON/);
  assert.throws(() => decodeUtf8Strict(Uint8Array.of(0x7b, 0xff, 0x7d)), /UTF-8/);
  assert.equal(decodeUtf8Strict(Buffer.from('{"é":1}')), '{"é":1}');
});

test('every member slice parses back to the member value', () => {
  const key = fc.string({ maxLength: 8 });
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(key, fc.jsonValue({ maxDepth: 3 })), {
        selector: ([k]) => k,
        maxLength: 6,
      }),
      fc.constantFrom(undefined, 1, '\t', ' \n '),
      (entries, indent) => {
        const text = JSON.stringify(Object.fromEntries(entries), null, indent);
        const spans = jsonMemberSpans(text);
        const parsed = JSON.parse(text) as Record<string, unknown>;
        assert.equal(spans.size, Object.keys(parsed).length);
        for (const [k, span] of spans) {
          assert.deepEqual(JSON.parse(text.slice(span.start, span.end)), parsed[k]);
        }
      },
    ),
    { numRuns: 300 },
  );
});
