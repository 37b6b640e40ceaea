import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ByteReader,
  ByteWriter,
  fromHex,
  plainBytes,
  toHex,
} from '../../verifier/platforms/bytes.js';
import { EvidenceMalformedError } from '../../verifier/errors.js';

test('ByteReader reads little-endian fields and names the field on truncation', () => {
  const w = new ByteWriter()
    .u16(4)
    .u32(0x81)
    .u64(2n ** 63n)
    .raw(fromHex('abcd'));
  const r = new ByteReader(w.finish());
  assert.equal(r.u16('version'), 4);
  assert.equal(r.u32('tee_type'), 0x81);
  assert.equal(r.u64('big'), 2n ** 63n);
  assert.equal(toHex(r.bytesOf(2, 'tail')), 'abcd');
  assert.throws(
    () => r.u32('signature_data_len'),
    (e: unknown) =>
      e instanceof EvidenceMalformedError &&
      e.code === 'ERR_EVIDENCE_MALFORMED' &&
      e.field === 'signature_data_len' &&
      e.offset === 16,
  );
});

test('fields read from a Buffer are copies, not views into the caller buffer', () => {
  const input = Buffer.from('0102030405', 'hex');
  const field = new ByteReader(input).bytesOf(4, 'field');
  input[0] = 0xff;
  assert.equal(toHex(field), '01020304');
  assert.equal(Object.getPrototypeOf(plainBytes(input)), Uint8Array.prototype);
});
