/**
 * Nitro codec on bad input: every violation of B4.1/B4.2 is a typed error with the expected
 * code and the spec field it names. Bad payloads are crafted independently with cbor-x.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder, Encoder } from 'cbor-x';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import {
  encodeCoseSign1,
  encodeNitroProtectedHeader,
  parseNitroDocument,
} from '../../../verifier/platforms/nitro/index.js';
import type { NitroDocument } from '../../../verifier/platforms/nitro/index.js';
import { fromHex } from '../../../common/bytes.js';

const MALFORMED = 'ERR_EVIDENCE_MALFORMED';
const UNSUPPORTED = 'ERR_EVIDENCE_UNSUPPORTED';

const sample = haveVectors
  ? loadManifest().samples.find(
      (s) => s.name.startsWith('nitro-evervault') && s.name.endsWith('prod'),
    )
  : undefined;
const bytes = sample?.files.cose_sign1 ? readVector(sample.files.cose_sign1) : new Uint8Array(0);
const skip = !haveVectors;

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false });

function expectError(input: Uint8Array, code: string, field: string): void {
  assert.throws(
    () => parseNitroDocument(input),
    (e: unknown) => {
      const err = e as { code?: string; field?: string; message?: string };
      assert.equal(err.code, code, `code for ${field}: ${err.message}`);
      assert.equal(err.field, field, `field: ${err.message}`);
      return true;
    },
  );
}

function doc(): NitroDocument {
  return parseNitroDocument(bytes);
}

function wrap(parts: {
  protectedHeader?: Uint8Array;
  payload?: Uint8Array;
  signature?: Uint8Array;
}): Uint8Array {
  const d = doc();
  return encodeCoseSign1({
    protectedHeader: parts.protectedHeader ?? encodeNitroProtectedHeader(),
    payload: parts.payload ?? d.payloadBytes,
    signature: parts.signature ?? d.signature,
  });
}

/** The sample's payload decoded by cbor-x, changed by `edit`, re-encoded by cbor-x, wrapped. */
function withPayload(edit: (m: Map<unknown, unknown>) => void): Uint8Array {
  const m = decoder.decode(doc().payloadBytes) as Map<unknown, unknown>;
  edit(m);
  return wrap({ payload: encoder.encode(m) });
}

const pcrs = (): Map<number, Uint8Array> => new Map([[0, new Uint8Array(48)]]);

test('truncation at every length is malformed', { skip }, () => {
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => parseNitroDocument(bytes.subarray(0, n)), { code: MALFORMED });
  }
});

test('envelope violations name their field', { skip }, () => {
  expectError(fromHex('a0'), MALFORMED, 'COSE_Sign1');
  expectError(fromHex('83404040'), MALFORMED, 'COSE_Sign1');
  expectError(new Uint8Array([0xd8, 0x62, ...bytes]), UNSUPPORTED, 'tag');
  expectError(new Uint8Array([0xd2, 0xd2, ...bytes]), MALFORMED, 'COSE_Sign1');
  expectError(new Uint8Array(32 * 1024 + 1), MALFORMED, 'document');
  expectError(fromHex('9f40a040'), MALFORMED, 'payload');
  const unprotected = bytes.slice();
  unprotected[6] = 0xa1;
  expectError(unprotected, UNSUPPORTED, 'unprotected');
  expectError(new Uint8Array([0x9f, ...bytes.subarray(1)]), MALFORMED, 'COSE_Sign1');
  expectError(new Uint8Array([0x9f, ...bytes.subarray(1), 0x40, 0xff]), MALFORMED, 'COSE_Sign1');
  expectError(fromHex('1c'), MALFORMED, 'COSE_Sign1');
  expectError(fromHex('ff'), MALFORMED, 'COSE_Sign1');
});

test('the protected header must be {1: -35}', { skip }, () => {
  expectError(wrap({ protectedHeader: fromHex('a10126') }), UNSUPPORTED, 'alg');
  expectError(wrap({ protectedHeader: fromHex('a1016545533338') }), UNSUPPORTED, 'alg');
  expectError(wrap({ protectedHeader: fromHex('a10140') }), MALFORMED, 'alg');
  expectError(wrap({ protectedHeader: fromHex('a0') }), MALFORMED, 'alg');
  expectError(wrap({ protectedHeader: new Uint8Array(0) }), MALFORMED, 'alg');
  expectError(wrap({ protectedHeader: fromHex('a2013822044101') }), UNSUPPORTED, 'protected');
  expectError(wrap({ protectedHeader: fromHex('a2013822013822') }), MALFORMED, 'alg');
  expectError(wrap({ protectedHeader: fromHex('a101382200') }), MALFORMED, 'protected');
  expectError(wrap({ protectedHeader: fromHex('80') }), MALFORMED, 'protected');
  expectError(wrap({ protectedHeader: new Uint8Array(257) }), MALFORMED, 'protected');
});

test('the signature must be 96 bytes', { skip }, () => {
  for (const n of [0, 64, 95, 97, 132])
    expectError(wrap({ signature: new Uint8Array(n) }), MALFORMED, 'signature');
});

test('the payload must be a 1..16384-byte map filling its byte string', { skip }, () => {
  expectError(wrap({ payload: new Uint8Array(0) }), MALFORMED, 'payload');
  expectError(wrap({ payload: new Uint8Array(16 * 1024 + 1) }), MALFORMED, 'payload');
  expectError(wrap({ payload: fromHex('80') }), MALFORMED, 'payload');
  expectError(wrap({ payload: new Uint8Array([...doc().payloadBytes, 0]) }), MALFORMED, 'payload');
});

test('missing mandatory fields are named', { skip }, () => {
  for (const key of ['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle']) {
    expectError(
      withPayload((m) => m.delete(key)),
      MALFORMED,
      key,
    );
  }
});

test('unknown, non-text and duplicate keys are malformed', { skip }, () => {
  expectError(
    withPayload((m) => m.set('extra', 1)),
    MALFORMED,
    'payload',
  );
  expectError(
    withPayload((m) => m.set(1, 1)),
    MALFORMED,
    'payload',
  );
  const m = decoder.decode(doc().payloadBytes) as Map<unknown, unknown>;
  m.delete('public_key');
  const p = encoder.encode(m);
  const dup = new Uint8Array([0xa9, ...p.subarray(1), ...fromHex('656e6f6e6365f6')]);
  expectError(wrap({ payload: dup }), MALFORMED, 'nonce');
});

test('module_id, digest and timestamp rules', { skip }, () => {
  expectError(
    withPayload((m) => m.set('module_id', '')),
    MALFORMED,
    'module_id',
  );
  expectError(
    withPayload((m) => m.set('module_id', Buffer.from('i-1'))),
    MALFORMED,
    'module_id',
  );
  expectError(
    withPayload((m) => m.set('module_id', 'x'.repeat(257))),
    MALFORMED,
    'module_id',
  );
  expectError(
    withPayload((m) => m.set('digest', 'SHA256')),
    UNSUPPORTED,
    'digest',
  );
  expectError(
    withPayload((m) => m.set('digest', 'MD5')),
    MALFORMED,
    'digest',
  );
  expectError(
    withPayload((m) => m.set('timestamp', 0)),
    MALFORMED,
    'timestamp',
  );
  expectError(
    withPayload((m) => m.set('timestamp', -5)),
    MALFORMED,
    'timestamp',
  );
  expectError(
    withPayload((m) => m.set('timestamp', 1.5)),
    MALFORMED,
    'timestamp',
  );
  expectError(
    withPayload((m) => m.set('timestamp', 2n ** 60n)),
    MALFORMED,
    'timestamp',
  );
  expectError(
    withPayload((m) => m.set('module_id', Buffer.from([0x63, 0xff, 0xfe, 0xfd]))),
    MALFORMED,
    'module_id',
  );
});

test('pcrs rules: 1..32 entries, index 0..31, 32/48/64 bytes', { skip }, () => {
  expectError(
    withPayload((m) => m.set('pcrs', new Map())),
    MALFORMED,
    'pcrs',
  );
  expectError(
    withPayload((m) => m.set('pcrs', [])),
    MALFORMED,
    'pcrs',
  );
  expectError(
    withPayload((m) => m.set('pcrs', new Map([[32, new Uint8Array(48)]]))),
    MALFORMED,
    'pcrs',
  );
  expectError(
    withPayload((m) => m.set('pcrs', new Map([[-1, new Uint8Array(48)]]))),
    MALFORMED,
    'pcrs',
  );
  expectError(
    withPayload((m) => m.set('pcrs', new Map([['0', new Uint8Array(48)]]))),
    MALFORMED,
    'pcrs',
  );
  for (const n of [0, 31, 47, 49, 65]) {
    expectError(
      withPayload((m) => m.set('pcrs', new Map([[3, new Uint8Array(n)]]))),
      MALFORMED,
      'pcrs[3]',
    );
  }
  const many = new Map(Array.from({ length: 33 }, (_, i) => [i % 32, new Uint8Array(48)] as const));
  many.set(40, new Uint8Array(48));
  expectError(
    withPayload((m) => m.set('pcrs', many)),
    MALFORMED,
    'pcrs',
  );
  expectError(
    withPayload((m) => m.set('pcrs', new Map([[5, 'x']]))),
    MALFORMED,
    'pcrs[5]',
  );
  assert.equal(parseNitroDocument(withPayload((m) => m.set('pcrs', pcrs()))).payload.pcrs.size, 1);
});

test('certificate and cabundle rules', { skip }, () => {
  expectError(
    withPayload((m) => m.set('certificate', new Uint8Array(0))),
    MALFORMED,
    'certificate',
  );
  expectError(
    withPayload((m) => m.set('certificate', new Uint8Array(1025))),
    MALFORMED,
    'certificate',
  );
  expectError(
    withPayload((m) => m.set('certificate', null)),
    MALFORMED,
    'certificate',
  );
  expectError(
    withPayload((m) => m.set('cabundle', [])),
    MALFORMED,
    'cabundle',
  );
  expectError(
    withPayload((m) => m.set('cabundle', new Uint8Array(3))),
    MALFORMED,
    'cabundle',
  );
  expectError(
    withPayload((m) => m.set('cabundle', [new Uint8Array(1), new Uint8Array(1025)])),
    MALFORMED,
    'cabundle[1]',
  );
  expectError(
    withPayload((m) => m.set('cabundle', ['pem'])),
    MALFORMED,
    'cabundle[0]',
  );
  const big = Array.from({ length: 33 }, () => new Uint8Array(1));
  expectError(
    withPayload((m) => m.set('cabundle', big)),
    MALFORMED,
    'cabundle',
  );
});

test('optional fields: bstr, null or absent, within the B4.2 limits', { skip }, () => {
  const cases: [string, number, boolean][] = [
    ['public_key', 0, false],
    ['public_key', 1, true],
    ['public_key', 1024, true],
    ['public_key', 1025, false],
    ['user_data', 0, true],
    ['user_data', 512, true],
    ['user_data', 513, false],
    ['nonce', 0, true],
    ['nonce', 512, true],
    ['nonce', 513, false],
  ];
  for (const [key, n, ok] of cases) {
    const input = withPayload((m) => m.set(key, new Uint8Array(n)));
    if (ok) assert.doesNotThrow(() => parseNitroDocument(input), `${key} ${n}`);
    else expectError(input, MALFORMED, key);
  }
  expectError(
    withPayload((m) => m.set('nonce', 'abc')),
    MALFORMED,
    'nonce',
  );
  expectError(
    withPayload((m) => m.set('user_data', 7)),
    MALFORMED,
    'user_data',
  );
  expectError(
    withPayload((m) => m.set('public_key', undefined)),
    MALFORMED,
    'public_key',
  );
});

test('chunked strings are unsupported, reserved and stray CBOR is malformed', { skip }, () => {
  const m = decoder.decode(doc().payloadBytes) as Map<unknown, unknown>;
  m.delete('nonce');
  const head = encoder.encode(m);
  const withHead = (tail: string): Uint8Array => {
    const body = new Uint8Array([head[0] as number, ...head.subarray(1), ...fromHex(tail)]);
    body[0] = (body[0] as number) + 1;
    return wrap({ payload: body });
  };
  expectError(withHead('656e6f6e63655f4101ff'), UNSUPPORTED, 'nonce');
  expectError(withHead('656e6f6e63651c'), MALFORMED, 'nonce');
  expectError(withHead('656e6f6e6365ff'), MALFORMED, 'nonce');
  expectError(withHead('656e6f6e6365f818'), MALFORMED, 'nonce');
  expectError(withHead('656e6f6e63659f'), MALFORMED, 'nonce');
});
