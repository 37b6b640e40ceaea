import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteReader, ByteWriter, fromHex, plainBytes, toHex } from '../../common/bytes.js';
import { EvidenceMalformedError } from '../../common/errors.js';

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

test('ByteWriter grows past its first block and keeps every field in place', () => {
  const w = new ByteWriter().u8(1);
  const big = new Uint8Array(3000).map((_, i) => i & 0xff);
  w.raw(big).u16(0xbeef).u32(7).u64(9n);
  const out = w.finish();
  assert.equal(out.length, 1 + 3000 + 2 + 4 + 8);
  assert.equal(out[0], 1);
  assert.deepEqual(out.subarray(1, 3001), big);
  const r = new ByteReader(out, 3001);
  assert.equal(r.u16('a'), 0xbeef);
  assert.equal(r.u32('b'), 7);
  assert.equal(r.u64('c'), 9n);
  assert.throws(() => new ByteWriter().raw(new Uint8Array(3), 4, 'mrtd'), /mrtd must be 4 bytes/);
});
